"""Exceptions, named and shaped like the RocketMQ 5 Python SDK's (``rocketmq.v5.exception``).

Every exception has ``.code``. Codes follow RocketMQ's ``Code`` enum where the real broker has one.
"""

from __future__ import annotations

# Status codes from RocketMQ's service.proto that the fake produces.
INVALID_RECEIPT_HANDLE = 40013
ILLEGAL_INVISIBLE_TIME = 40011
TOPIC_NOT_FOUND = 40402
TOO_MANY_REQUESTS = 42900
INTERNAL_ERROR = 50001
PROXY_TIMEOUT = 50400


class ClientException(Exception):
    """Base class of every fake MQ error; ``code`` is the broker's status code (or None)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self._code = code

    @property
    def code(self) -> int | None:
        return self._code

    def __str__(self) -> str:
        text = super().__str__()
        return f"{self._code}, {text}" if self._code else text


class BadRequestException(ClientException):
    """The request was refused, e.g. an ack with a stale receipt handle (code 40013)."""


class NotFoundException(ClientException):
    """A topic or group the broker does not know."""


class TooManyRequestsException(ClientException):
    """The broker throttled the call."""


class InternalErrorException(ClientException):
    """The broker failed (the fake's injected errors raise this)."""


class ProxyTimeoutException(ClientException):
    """The broker did not answer within the request timeout (a paused broker, say)."""


class IllegalArgumentException(ClientException):
    """A call's arguments are invalid; raised before anything is sent."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class IllegalStateException(ClientException):
    """The client is not in a state for this call (not started, or shut down)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class BrokerUnreachableException(ClientException):
    """Fake only: the ``http://`` broker could not be reached within the request timeout."""


def by_name(name: str) -> type[ClientException]:
    """The exception class called ``name`` (used to re-raise errors sent over HTTP)."""
    found = globals().get(name)
    if isinstance(found, type) and issubclass(found, ClientException):
        return found
    return ClientException
