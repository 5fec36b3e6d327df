"""Fake downstream services that the course's handlers call.

- :class:`EmailProvider`: a **synchronous, blocking** email API client with knobs for latency,
  a concurrency limit (excess calls fail with a 429-style error), a failure rate and hung
  calls. It records every accepted delivery, and accepts an ``idempotency_key`` only once, so
  tests can count lost and duplicated effects.
- :func:`render_attachment`: a deterministic CPU-bound job whose cost is a parameter.

Like the broker, an email service lives in process (``memory://NAME``) or behind
``python -m fakemq serve`` (``http://HOST:PORT``).
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
import uuid
from dataclasses import asdict, dataclass, fields
from typing import Any


class EmailError(Exception):
    """Base class of the email API's errors; ``status`` is the HTTP-like status code."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)


class EmailRateLimited(EmailError):
    """429: more concurrent calls than the provider allows."""

    status = 429


class EmailFailed(EmailError):
    """503: the provider failed this call (an injected failure)."""

    status = 503


class EmailTimeout(EmailError, TimeoutError):
    """The call did not complete within its ``timeout`` (a hung provider)."""

    status = 504


class EmailBadRequest(EmailError):
    """400: the request itself is invalid (no recipient, say)."""

    status = 400


@dataclass
class EmailKnobs:
    """Behaviour of the fake email API. Rates are 0..1; ``max_concurrency`` 0 means no limit."""

    latency: float = 0.0
    max_concurrency: int = 0
    failure_rate: float = 0.0
    hang_rate: float = 0.0

    @classmethod
    def names(cls) -> set[str]:
        return {f.name for f in fields(cls)}


class EmailService:
    """The provider's server side: knobs, concurrency accounting and the delivery record."""

    def __init__(self, name: str = "default", *, seed: int | None = None) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._released = threading.Condition(self._lock)
        self._knobs = EmailKnobs()
        self._random = random.Random(seed)
        self._deliveries: list[dict[str, Any]] = []
        self._by_key: dict[str, str] = {}
        self._counts = dict.fromkeys(
            ("calls", "accepted", "duplicates", "rate_limited", "failed", "timeouts", "hung"), 0
        )
        self._in_flight = 0
        self._peak_in_flight = 0
        self._hang_generation = 0
        self._hanging = 0  # calls hung right now

    def send(
        self,
        to: str,
        subject: str,
        body: str,
        idempotency_key: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Deliver one email; blocks for the configured latency. Returns the delivery record."""
        if not to or "@" not in str(to):
            raise EmailBadRequest(f"invalid recipient {to!r}")
        if timeout is not None and timeout <= 0:
            raise EmailBadRequest("timeout must be > 0")
        with self._lock:
            knobs = self._knobs
            self._counts["calls"] += 1
            self._in_flight += 1
            self._peak_in_flight = max(self._peak_in_flight, self._in_flight)
            limited = 0 < knobs.max_concurrency < self._in_flight
            fails = knobs.failure_rate and self._random.random() < knobs.failure_rate
            hangs = knobs.hang_rate and self._random.random() < knobs.hang_rate
        try:
            if limited:
                with self._lock:
                    self._counts["rate_limited"] += 1
                raise EmailRateLimited(
                    f"429 Too Many Requests: limit is {knobs.max_concurrency} concurrent calls"
                )
            if hangs:
                self._hang(timeout)
            if knobs.latency:
                if timeout is not None and knobs.latency > timeout:
                    time.sleep(timeout)
                    self._count("timeouts")
                    raise EmailTimeout(f"email API did not answer within {timeout:g}s")
                time.sleep(knobs.latency)
            if fails:
                self._count("failed")
                raise EmailFailed("503 Service Unavailable (injected failure)")
            return self._record(to, subject, body, idempotency_key)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _hang(self, timeout: float | None) -> None:
        """Block until ``timeout`` (raising EmailTimeout) or until hung calls are released."""
        with self._released:
            self._counts["hung"] += 1
            self._hanging += 1
            generation = self._hang_generation
            deadline = None if timeout is None else time.monotonic() + timeout
            try:
                while generation == self._hang_generation:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        self._counts["timeouts"] += 1
                        raise EmailTimeout(f"email API hung; gave up after {timeout:g}s")
                    self._released.wait(remaining)
            finally:
                self._hanging -= 1
        raise EmailFailed("503 Service Unavailable (hung call released)")

    def _count(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    def _record(
        self, to: str, subject: str, body: str, idempotency_key: str | None
    ) -> dict[str, Any]:
        with self._lock:
            if idempotency_key is not None and idempotency_key in self._by_key:
                self._counts["duplicates"] += 1
                return {"delivery_id": self._by_key[idempotency_key], "duplicate": True}
            delivery = {
                "delivery_id": uuid.uuid4().hex,
                "to": to,
                "subject": subject,
                "body": body,
                "idempotency_key": idempotency_key,
                "accepted_at": time.time(),
            }
            self._deliveries.append(delivery)
            if idempotency_key is not None:
                self._by_key[idempotency_key] = delivery["delivery_id"]
            self._counts["accepted"] += 1
            return {"delivery_id": delivery["delivery_id"], "duplicate": False}

    def configure(self, **knobs: Any) -> dict[str, Any]:
        """Change knobs (see :class:`EmailKnobs`); returns all knobs as they now are."""
        unknown = set(knobs) - EmailKnobs.names()
        if unknown:
            raise EmailBadRequest(f"unknown email knob(s): {', '.join(sorted(unknown))}")
        for name, value in knobs.items():
            _check_email_knob(name, value)
        with self._lock:
            self._knobs = EmailKnobs(**{**asdict(self._knobs), **knobs})
            return asdict(self._knobs)

    def release_hung(self) -> int:
        """Let every hung call return (with an error); returns how many were waiting."""
        with self._released:
            self._hang_generation += 1
            self._released.notify_all()
            return self._hanging

    def deliveries(self) -> list[dict[str, Any]]:
        """Every accepted delivery, oldest first."""
        with self._lock:
            return [dict(delivery) for delivery in self._deliveries]

    def stats(self) -> dict[str, Any]:
        """Counts of calls and outcomes, and current and peak concurrent calls."""
        with self._lock:
            return {
                **self._counts,
                "in_flight": self._in_flight,
                "peak_in_flight": self._peak_in_flight,
                "knobs": asdict(self._knobs),
            }

    def reset(self) -> None:
        """Forget deliveries and counts, clear knobs, release hung calls."""
        self.release_hung()
        with self._lock:
            self._knobs = EmailKnobs()
            self._deliveries.clear()
            self._by_key.clear()
            self._counts = dict.fromkeys(self._counts, 0)
            self._peak_in_flight = self._in_flight


def _check_email_knob(name: str, value: Any) -> None:
    """Refuse a knob value of the wrong type or range (EmailBadRequest)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise EmailBadRequest(f"{name} must be a number, got {value!r}")
    if name == "max_concurrency" and (not isinstance(value, int) or value < 0):
        raise EmailBadRequest("max_concurrency must be an integer >= 0 (0: no limit)")
    if name.endswith("_rate") and not 0 <= value <= 1:
        raise EmailBadRequest(f"{name} must be between 0 and 1")
    if name == "latency" and value < 0:
        raise EmailBadRequest("latency must be >= 0")


class _HttpEmailService:
    """An :class:`EmailService` served by ``python -m fakemq serve``, same methods."""

    def __init__(self, base_url: str, request_timeout: float = 3.0) -> None:
        from .transport import HttpProxy

        self._proxy = HttpProxy(base_url, "email", request_timeout)
        self.name = base_url

    def send(
        self,
        to: str,
        subject: str,
        body: str,
        idempotency_key: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        limit = None if timeout is None else timeout + 2
        return self._proxy.call(
            "send",
            timeout=limit if limit is not None else 3600,
            to=to,
            subject=subject,
            body=body,
            idempotency_key=idempotency_key,
            timeout_s=timeout,
        )

    def configure(self, **knobs: Any) -> dict[str, Any]:
        return self._proxy.call("configure", **knobs)

    def release_hung(self) -> int:
        return self._proxy.call("release_hung")

    def deliveries(self) -> list[dict[str, Any]]:
        return self._proxy.call("deliveries")

    def stats(self) -> dict[str, Any]:
        return self._proxy.call("stats")

    def reset(self) -> None:
        self._proxy.call("reset")


_memory_services: dict[str, EmailService] = {}
_memory_lock = threading.Lock()


def memory_email_service(name: str = "default") -> EmailService:
    """The in-process email service called ``name`` (``memory://NAME``), created on first use."""
    with _memory_lock:
        service = _memory_services.get(name)
        if service is None:
            service = _memory_services[name] = EmailService(name)
        return service


def email_service_for(endpoint: str) -> Any:
    """The service that ``endpoint`` names: an :class:`EmailService` or its HTTP proxy."""
    from .transport import parse_endpoints

    mode, where = parse_endpoints(endpoint)
    if mode == "memory":
        return memory_email_service(where)
    return _HttpEmailService(where)


class EmailProvider:
    """The client a handler uses: ``EmailProvider(endpoint).send(...)`` blocks the calling thread.

    Also exposes the service's test hooks: ``configure``, ``deliveries``, ``stats``, ``reset``,
    ``release_hung``.
    """

    def __init__(self, endpoint: str = "memory://default") -> None:
        self.endpoint = endpoint
        self._service = email_service_for(endpoint)

    def send(
        self,
        to: str,
        subject: str,
        body: str,
        idempotency_key: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Send one email. Blocks for the provider's latency; raises an :class:`EmailError`."""
        return self._service.send(to, subject, body, idempotency_key, timeout)

    def configure(self, **knobs: Any) -> dict[str, Any]:
        """Set ``latency``, ``max_concurrency``, ``failure_rate`` or ``hang_rate``."""
        return self._service.configure(**knobs)

    def deliveries(self) -> list[dict[str, Any]]:
        """Every accepted delivery, oldest first."""
        return self._service.deliveries()

    def stats(self) -> dict[str, Any]:
        """Counts of calls and outcomes, current and peak concurrent calls, knobs."""
        return self._service.stats()

    def release_hung(self) -> int:
        """Make hung calls return with an error."""
        return self._service.release_hung()

    def reset(self) -> None:
        """Forget deliveries and counts and clear knobs."""
        self._service.reset()

    def close(self) -> None:
        """Nothing to release for the fake; here so code can treat it like a real client."""


def render_attachment(order_id: str, cost: int = 20_000) -> str:
    """A deterministic CPU-bound job (think: rendering a PDF). ``cost`` rounds of SHA-256.

    Pure and top-level, so it can run in a ``ProcessPoolExecutor``. About 1 µs a round.
    """
    if cost < 0:
        raise ValueError("cost must be >= 0")
    digest = hashlib.sha256(str(order_id).encode()).digest()
    for _ in range(cost):
        digest = hashlib.sha256(digest).digest()
    return digest.hex()
