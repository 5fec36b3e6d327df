"""How a client reaches its broker or downstream: in process, or over HTTP.

``memory://NAME`` returns the in-process object itself; ``http://HOST:PORT`` (or ``HOST:PORT``)
returns a proxy with the same methods that calls ``python -m fakemq serve`` with a synchronous
HTTP client, so every call blocks the calling thread, as the real gRPC SDK does.
"""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

import httpx

from .exceptions import (
    PROXY_TIMEOUT,
    BrokerUnreachableException,
    ClientException,
    IllegalArgumentException,
    ProxyTimeoutException,
    by_name,
)

_BYTES = "__bytes__"
_thread_clients = threading.local()  # per thread: {base_url: httpx.Client}
# The server gives up on a call after request_timeout (a paused broker, say) and answers with
# ProxyTimeoutException; the client waits this much longer for that answer, then raises the
# same exception itself (a server that does not answer at all).
ANSWER_MARGIN = 0.25


def encode(value: Any) -> Any:
    """JSON-ready form of a value that may hold bytes."""
    if isinstance(value, bytes | bytearray):
        return {_BYTES: base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {key: encode(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    return value


def decode(value: Any) -> Any:
    """Inverse of :func:`encode`."""
    if isinstance(value, dict):
        if set(value) == {_BYTES}:
            return base64.b64decode(value[_BYTES])
        return {key: decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode(item) for item in value]
    return value


def parse_endpoints(endpoints: str) -> tuple[str, str]:
    """Split endpoints into ``("memory", NAME)`` or ``("http", BASE_URL)``."""
    endpoints = (endpoints or "").strip()
    if endpoints.startswith("memory://"):
        name = endpoints.removeprefix("memory://") or "default"
        return "memory", name
    if endpoints.startswith(("http://", "https://")):
        return "http", endpoints.rstrip("/")
    if endpoints and ":" in endpoints and "://" not in endpoints:
        first = endpoints.split(";")[0]  # the SDK's "host:port;host:port" form
        return "http", f"http://{first}"
    raise IllegalArgumentException(
        f"unsupported endpoints {endpoints!r}: use memory://NAME, http://HOST:PORT or HOST:PORT"
    )


class HttpProxy:
    """Calls ``POST {base}/{service}/{method}`` with JSON and re-raises the server's errors."""

    def __init__(self, base_url: str, service: str, request_timeout: float) -> None:
        self.base_url = base_url
        self.service = service
        self.request_timeout = request_timeout

    def _client(self) -> httpx.Client:
        """This thread's HTTP client for ``base_url``, shared by every proxy in the thread.

        One connection pool per thread keeps concurrent long polls from queueing on each
        other; sharing it across proxies avoids building a client (~20 ms) per SDK object.
        """
        clients: dict[str, httpx.Client] = _thread_clients.__dict__.setdefault("by_url", {})
        client = clients.get(self.base_url)
        if client is None:
            limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
            client = clients[self.base_url] = httpx.Client(base_url=self.base_url, limits=limits)
        return client

    def call(self, method: str, timeout: float | None = None, **arguments: Any) -> Any:
        """Run ``method`` on the server; ``timeout`` bounds the whole request (seconds)."""
        limit = timeout if timeout is not None else self.request_timeout
        url = f"/{self.service}/{method}"
        try:
            response = self._client().post(
                url,
                content=json.dumps(encode(arguments)),
                headers={"content-type": "application/json"},
                timeout=httpx.Timeout(limit, connect=min(limit, self.request_timeout)),
            )
        except httpx.TimeoutException as error:
            raise ProxyTimeoutException(
                f"{self.base_url}{url} did not answer within {limit:g}s", PROXY_TIMEOUT
            ) from error
        except httpx.TransportError as error:
            raise BrokerUnreachableException(f"cannot reach {self.base_url}: {error}") from error
        try:
            payload = response.json()
        except ValueError:
            raise ClientException(
                f"{self.base_url}{url} answered {response.status_code} without JSON"
            ) from None
        if payload.get("ok"):
            return decode(payload.get("result"))
        error = payload.get("error") or {}
        raise _rebuild(error)


def _rebuild(error: dict[str, Any]) -> Exception:
    kind = error.get("type", "ClientException")
    message = error.get("message", "unknown error")
    code = error.get("code")
    cls = by_name(kind)
    if cls is not ClientException or kind == "ClientException":
        try:
            return cls(message, code)  # type: ignore[call-arg]
        except TypeError:
            return cls(message)  # type: ignore[call-arg]
    from . import downstream  # errors of the fake downstream

    other = getattr(downstream, kind, None)
    if isinstance(other, type) and issubclass(other, Exception):
        return other(message)
    return ClientException(f"{kind}: {message}", code)


class HttpBroker:
    """A :class:`~fakemq.broker.Broker` served by ``python -m fakemq serve``, same methods."""

    def __init__(self, base_url: str, request_timeout: float) -> None:
        self._proxy = HttpProxy(base_url, "broker", request_timeout)
        self.name = base_url

    def send(self, record: dict[str, Any], timeout: float = 3.0) -> dict[str, Any]:
        return self._proxy.call(
            "send", timeout=timeout + ANSWER_MARGIN, record=record, request_timeout=timeout
        )

    def receive(
        self,
        group: str,
        subscriptions: dict[str, str],
        max_message_num: int,
        invisible_duration: float,
        await_duration: float,
        timeout: float | None = None,
    ) -> list[dict[str, Any]]:
        request_timeout = self._proxy.request_timeout if timeout is None else timeout
        return self._proxy.call(
            "receive",
            timeout=request_timeout + await_duration + ANSWER_MARGIN,
            group=group,
            subscriptions=subscriptions,
            max_message_num=max_message_num,
            invisible_duration=invisible_duration,
            await_duration=await_duration,
            request_timeout=request_timeout,
        )

    def ack(self, group: str, topic: str, receipt_handle: str, timeout: float = 3.0) -> None:
        self._proxy.call(
            "ack",
            timeout=timeout + ANSWER_MARGIN,
            group=group,
            topic=topic,
            receipt_handle=receipt_handle,
            request_timeout=timeout,
        )

    def change_invisible_duration(
        self,
        group: str,
        topic: str,
        receipt_handle: str,
        invisible_duration: float,
        timeout: float = 3.0,
    ) -> str:
        return self._proxy.call(
            "change_invisible_duration",
            timeout=timeout + ANSWER_MARGIN,
            group=group,
            topic=topic,
            receipt_handle=receipt_handle,
            invisible_duration=invisible_duration,
            request_timeout=timeout,
        )

    def stats(self) -> dict[str, Any]:
        return self._proxy.call("stats")

    def messages(self, topic: str) -> list[dict[str, Any]]:
        return self._proxy.call("messages", topic=topic)

    def purge(self, topic: str | None = None) -> None:
        self._proxy.call("purge", topic=topic)

    def set_faults(self, **knobs: Any) -> dict[str, Any]:
        return self._proxy.call("set_faults", **knobs)

    def set_max_delivery_attempts(self, group: str, attempts: int) -> None:
        self._proxy.call("set_max_delivery_attempts", group=group, attempts=attempts)

    def reset(self) -> None:
        self._proxy.call("reset")


def broker_for(endpoints: str, request_timeout: float = 3.0) -> Any:
    """The broker that ``endpoints`` names: a :class:`Broker` or an :class:`HttpBroker`."""
    from .broker import memory_broker

    mode, where = parse_endpoints(endpoints)
    if mode == "memory":
        return memory_broker(where)
    return HttpBroker(where, request_timeout)
