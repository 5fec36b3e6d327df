"""``python -m fakemq serve``: the broker and the email service over HTTP.

Requests are ``POST /broker/<method>`` or ``POST /email/<method>`` with a JSON object of
arguments; answers are ``{"ok": true, "result": …}`` or ``{"ok": false, "error": {"type",
"message", "code"}}``. ``GET /health`` answers ``{"ok": true}``. Each request runs on its own
thread, so a long poll blocks only its own connection. The state lives as long as the process.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .broker import Broker
from .downstream import EmailError, EmailService
from .exceptions import ClientException
from .transport import decode, encode

log = logging.getLogger("fakemq.server")

BROKER_METHODS = {
    "send",
    "receive",
    "ack",
    "change_invisible_duration",
    "stats",
    "messages",
    "purge",
    "set_faults",
    "set_max_delivery_attempts",
    "reset",
}
EMAIL_METHODS = {"send", "configure", "release_hung", "deliveries", "stats", "reset"}


class FakeMQServer(ThreadingHTTPServer):
    """An HTTP server holding one :class:`Broker` and one :class:`EmailService`."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str = "127.0.0.1", port: int = 9876) -> None:
        self.broker = Broker("served")
        self.email = EmailService("served")
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def dispatch(self, service: str, method: str, arguments: dict[str, Any]) -> Any:
        if service == "broker" and method in BROKER_METHODS:
            if "request_timeout" in arguments:
                arguments["timeout"] = arguments.pop("request_timeout")
            target: Callable[..., Any] = getattr(self.broker, method)
        elif service == "email" and method in EMAIL_METHODS:
            if "timeout_s" in arguments:
                arguments["timeout"] = arguments.pop("timeout_s")
            target = getattr(self.email, method)
        else:
            raise LookupError(f"no such method: /{service}/{method}")
        return target(**arguments)


class _Handler(BaseHTTPRequestHandler):
    server: FakeMQServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle's algorithm on, the body waits
    # for the client's delayed ACK (~40 ms a call on Linux). TCP_NODELAY makes a call ~1 ms.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        if self.path == "/health":
            self._answer(200, {"ok": True, "result": "fakemq"})
        else:
            self._answer(404, {"ok": False, "error": {"type": "NotFound", "message": self.path}})

    def do_POST(self) -> None:
        parts = self.path.strip("/").split("/")
        try:
            length = int(self.headers.get("content-length") or 0)
            arguments = decode(json.loads(self.rfile.read(length) or b"{}"))
            if len(parts) != 2 or not isinstance(arguments, dict):
                raise LookupError(f"bad request path {self.path}")
            result = self.server.dispatch(parts[0], parts[1], arguments)
        except (ClientException, EmailError) as error:
            code = getattr(error, "code", None)
            body = {"type": type(error).__name__, "message": str(error.args[0]), "code": code}
            self._answer(200, {"ok": False, "error": body})
            return
        except (LookupError, TypeError, ValueError) as error:
            body = {"type": "IllegalArgumentException", "message": f"bad request: {error}"}
            self._answer(400, {"ok": False, "error": body})
            return
        self._answer(200, {"ok": True, "result": encode(result)})

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout ran out); nothing to tell it


def serve(host: str = "127.0.0.1", port: int = 9876, ready: threading.Event | None = None) -> None:
    """Serve until interrupted. Prints the URL once listening."""
    server = FakeMQServer(host, port)
    print(f"fakemq serving on {server.url}", flush=True)
    if ready is not None:
        ready.set()
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
