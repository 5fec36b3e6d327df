"""Load the implementation under test: a stage package, or a learner's copy of one.

Tests never import a stage directly. They ask an :class:`Impl` for a module or a name, so the
same tests check ``stage04_to_thread``, the previous stage (to prove a test really tests the new
mechanism), or a learner's workspace copy (``course check 4``).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


class ImplError(Exception):
    """The implementation under test lacks something a test needs. Its message says what."""


class Impl:
    """One implementation under test: a package whose submodules are ``app``, ``consumer``, …"""

    def __init__(self, package: ModuleType, label: str) -> None:
        self.package = package
        self.label = label

    @property
    def path(self) -> Path:
        """The package's folder."""
        return Path(self.package.__file__).parent

    def module(self, name: str) -> ModuleType:
        """Import submodule ``name`` (for example ``"consumer"``) of the implementation."""
        full = f"{self.package.__name__}.{name}"
        if not (self.path / f"{name}.py").exists() and not (self.path / name).is_dir():
            raise ImplError(f"{self.label} has no module '{name}.py' (looked in {self.path.name}/)")
        return importlib.import_module(full)

    def get(self, module: str, name: str) -> Any:
        """Return ``module.name`` from the implementation, with a clear error when it is missing."""
        mod = self.module(module)
        try:
            return getattr(mod, name)
        except AttributeError:
            raise ImplError(
                f"{self.label}: '{module}.py' defines no '{name}'. "
                f"This test needs it; see the stage README for what it should do."
            ) from None

    def __repr__(self) -> str:
        return f"Impl({self.label})"


def load_impl(spec: str) -> Impl:
    """Load an implementation from a package name (``stage04_to_thread``) or a folder path.

    A folder is imported under a private name, so a learner's ``work/stage04_to_thread`` never
    collides with the course's own ``stage04_to_thread`` package.
    """
    candidate = Path(spec)
    if candidate.is_dir() or "/" in spec or spec.startswith("."):
        folder = candidate.resolve()
        init = folder / "__init__.py"
        if not init.exists():
            raise ImplError(f"--impl {spec}: no package there (missing {init.name})")
        name = f"_impl_{folder.parent.name}_{folder.name}".replace("-", "_").replace(".", "_")
        if name not in sys.modules:
            module_spec = importlib.util.spec_from_file_location(
                name, init, submodule_search_locations=[str(folder)]
            )
            assert module_spec is not None and module_spec.loader is not None
            package = importlib.util.module_from_spec(module_spec)
            sys.modules[name] = package
            module_spec.loader.exec_module(package)
        return Impl(sys.modules[name], label=str(spec))
    if not (ROOT / spec).is_dir():
        raise ImplError(f"--impl {spec}: no such stage package or folder")
    return Impl(importlib.import_module(spec), label=spec)
