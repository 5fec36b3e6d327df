"""Start helper processes on free loopback ports, and always clean them up.

Drills and demos need real processes: ``python -m fakemq serve`` (a broker that outlives a
consumer) and ``python -m stageNN_x`` (a stage served by uvicorn). Both context managers here
start the process, wait (bounded) until ``GET /health`` answers, yield a handle, and on exit
stop the process — SIGTERM, a bounded wait, then SIGKILL — whether or not the body raised.

>>> with serve_fakemq() as broker:               # doctest: +SKIP
...     with serve_stage("stage04_to_thread", env={"MQ_ENDPOINTS": broker.url}) as stage:
...         httpx.get(f"{stage.url}/health")
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

import httpx

LOOPBACK = "127.0.0.1"
START_TIMEOUT = 15.0  # seconds until GET /health must answer
STOP_TIMEOUT = 5.0  # seconds between SIGTERM and SIGKILL


class ProcessStartError(RuntimeError):
    """A helper process died or never answered ``GET /health``; the message has its output."""


@dataclass
class ServedProcess:
    """A running helper process: where it listens and the process itself."""

    url: str
    port: int
    process: subprocess.Popen[bytes]
    output: IO[bytes]

    def read_output(self) -> str:
        """Everything the process wrote to stdout and stderr so far."""
        self.output.flush()
        self.output.seek(0)
        return self.output.read().decode(errors="replace")


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port on ``host`` that nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@contextmanager
def serve_fakemq(
    port: int | None = None,
    start_timeout: float = START_TIMEOUT,
    stop_timeout: float = STOP_TIMEOUT,
) -> Iterator[ServedProcess]:
    """Run ``python -m fakemq serve`` on a free loopback port until the block ends."""
    port = port or free_port()
    command = [sys.executable, "-m", "fakemq", "serve", "--host", LOOPBACK, "--port", str(port)]
    with _serve(command, port, os.environ.copy(), start_timeout, stop_timeout) as served:
        yield served


@contextmanager
def serve_stage(
    package: str,
    env: Mapping[str, str] | None = None,
    start_timeout: float = START_TIMEOUT,
    stop_timeout: float = STOP_TIMEOUT,
) -> Iterator[ServedProcess]:
    """Run ``python -m <package>`` with ``HOST``/``PORT`` set to a free loopback port.

    ``env`` adds to the current environment (e.g. ``MQ_ENDPOINTS``); ``HOST`` and ``PORT``
    always name the port this function picked.
    """
    port = free_port()
    environment = {**os.environ, **(env or {}), "HOST": LOOPBACK, "PORT": str(port)}
    command = [sys.executable, "-m", package]
    with _serve(command, port, environment, start_timeout, stop_timeout) as served:
        yield served


@contextmanager
def _serve(
    command: Sequence[str],
    port: int,
    env: dict[str, str],
    start_timeout: float,
    stop_timeout: float,
) -> Iterator[ServedProcess]:
    """Start ``command``, wait for its health check, yield it, and always stop it."""
    output = tempfile.TemporaryFile()
    process = subprocess.Popen(
        list(command),
        env={**env, "PYTHONUNBUFFERED": "1"},
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so cleanup reaches its children
    )
    served = ServedProcess(f"http://{LOOPBACK}:{port}", port, process, output)
    try:
        _wait_healthy(served, start_timeout)
        yield served
    finally:
        stop(process, stop_timeout)
        output.close()


def _wait_healthy(served: ServedProcess, timeout: float) -> None:
    """Return once ``GET /health`` answers 200; raise :class:`ProcessStartError` otherwise."""
    deadline = time.monotonic() + timeout
    command = " ".join(str(part) for part in served.process.args)
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise ProcessStartError(
                f"{command} exited with code {served.process.returncode} before answering "
                f"GET /health. Output:\n{served.read_output()}"
            )
        try:
            if httpx.get(f"{served.url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise ProcessStartError(
        f"{command} did not answer GET {served.url}/health within {timeout:g}s. "
        f"Output:\n{served.read_output()}"
    )


def stop(process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT) -> int:
    """SIGTERM the process (and its group), wait up to ``timeout`` s, then SIGKILL it.

    Returns the exit code. Safe to call on a process that has already exited.
    """
    if process.poll() is None:
        _signal_group(process, signal.SIGTERM)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    _signal_group(process, signal.SIGKILL)  # also reaps children left in the group
    return process.wait(timeout)


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        if process.poll() is None:
            process.send_signal(signum)
