"""course.processes: helper processes start on free loopback ports and are always cleaned up.

The stage under test is a throwaway package written to a tmp folder and put on PYTHONPATH.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from course.processes import ProcessStartError, free_port, serve_fakemq, serve_stage, stop
from fakemq import BrokerAdmin

pytestmark = [pytest.mark.drill, pytest.mark.timeout(30)]

SERVER = """
import json, os, signal, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

{prelude}

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({{"pid": os.getpid(), "greeting": os.environ.get("GREETING")}}).encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

server = HTTPServer((os.environ["HOST"], int(os.environ["PORT"])), Handler)
print("tiny app listening", flush=True)
server.serve_forever()
"""


def tiny_package(root: Path, name: str, main: str) -> dict[str, str]:
    """Write package ``name`` with ``__main__.py`` = ``main``; returns env to find it."""
    package = root / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(textwrap.dedent(main))
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}


def is_listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_free_port_is_bindable() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
    assert not is_listening(port)


def test_serve_fakemq_answers_and_stops(tmp_path: Path) -> None:
    with serve_fakemq() as broker:
        assert broker.url == f"http://127.0.0.1:{broker.port}"
        assert httpx.get(f"{broker.url}/health", timeout=5).json()["ok"] is True
        assert BrokerAdmin(broker.url).stats()["topics"] == {}
        process = broker.process
    assert process.poll() is not None
    assert not is_listening(broker.port)


def test_serve_stage_passes_host_port_and_env(tmp_path: Path) -> None:
    env = tiny_package(tmp_path, "tinyapp_env", SERVER.format(prelude=""))
    with serve_stage("tinyapp_env", env={**env, "GREETING": "hi"}) as stage:
        answer = httpx.get(f"{stage.url}/health", timeout=5).json()
        assert answer == {"pid": stage.process.pid, "greeting": "hi"}
        assert stage.url == f"http://127.0.0.1:{stage.port}"
        assert "tiny app listening" in stage.read_output()
        process = stage.process
    assert process.returncode == -signal.SIGTERM  # stopped politely
    assert not is_listening(stage.port)


def test_cleanup_happens_when_the_body_raises(tmp_path: Path) -> None:
    env = tiny_package(tmp_path, "tinyapp_raise", SERVER.format(prelude=""))
    with pytest.raises(RuntimeError, match="test failed"):
        with serve_stage("tinyapp_raise", env=env) as stage:
            process, port = stage.process, stage.port
            raise RuntimeError("test failed")
    assert process.poll() is not None
    assert not is_listening(port)


def test_a_process_that_ignores_sigterm_is_killed(tmp_path: Path) -> None:
    prelude = "signal.signal(signal.SIGTERM, signal.SIG_IGN)"
    env = tiny_package(tmp_path, "tinyapp_stubborn", SERVER.format(prelude=prelude))
    started = time.monotonic()
    with serve_stage("tinyapp_stubborn", env=env, stop_timeout=0.5) as stage:
        process = stage.process
        begun_stopping = time.monotonic()
    assert process.returncode == -signal.SIGKILL
    assert time.monotonic() - begun_stopping < 0.5 + 3.0
    assert time.monotonic() - started < 20


def test_a_process_that_dies_at_start_is_reported_with_its_output(tmp_path: Path) -> None:
    env = tiny_package(tmp_path, "tinyapp_crash", "import sys\nprint('no config!')\nsys.exit(3)\n")
    started = time.monotonic()
    with pytest.raises(ProcessStartError) as failed:
        with serve_stage("tinyapp_crash", env=env):
            pytest.fail("the body must not run")
    message = str(failed.value)
    assert "exited with code 3" in message and "no config!" in message
    assert time.monotonic() - started < 10


def test_a_process_that_never_answers_is_reported_and_stopped(tmp_path: Path) -> None:
    env = tiny_package(tmp_path, "tinyapp_mute", "import time\nprint('busy')\ntime.sleep(60)\n")
    with pytest.raises(ProcessStartError, match="did not answer") as failed:
        with serve_stage("tinyapp_mute", env=env, start_timeout=1.0):
            pytest.fail("the body must not run")
    assert "busy" in str(failed.value)


def test_a_missing_package_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ProcessStartError, match="No module named"):
        with serve_stage("no_such_stage_package"):
            pass


def test_stop_reaps_children_in_the_process_group() -> None:
    code = "import subprocess, sys, time\n"
    code += "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
    code += "print(child.pid, flush=True)\n"
    code += "time.sleep(60)\n"
    parent = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, start_new_session=True
    )
    child_pid = int(parent.stdout.readline())
    stop(parent, timeout=2)
    parent.stdout.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _alive(child_pid):
        time.sleep(0.05)
    assert not _alive(child_pid)


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting for its reaper counts as gone)."""
    stat = Path(f"/proc/{pid}/stat")
    if Path("/proc").is_dir():
        try:
            return stat.read_text().rsplit(")", 1)[-1].split()[0] != "Z"
        except FileNotFoundError:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
