"""Value types of the SDK: credentials, configuration, filter expressions, messages, receipts."""

from __future__ import annotations

import re
from typing import Any

from .exceptions import IllegalArgumentException

TOPIC_PATTERN = re.compile(r"^[%a-zA-Z0-9_-]+$")
DEFAULT_ENDPOINTS = "memory://default"
FILTER_TYPE_TAG = 1  # rocketmq.grpc_protocol.FilterType.TAG
MAX_BODY_SIZE = 4 * 1024 * 1024  # the SDK refuses bodies over 4 MiB


class Credentials:
    """Access key and secret. The fake accepts any value; pass ``""`` for none, as with the SDK."""

    def __init__(self, ak: str = "", sk: str = "") -> None:
        self.ak = ak if ak is not None else ""
        self.sk = sk if sk is not None else ""


class ClientConfiguration:
    """Where the broker is and how long one request may take.

    ``endpoints`` is ``memory://NAME`` (an in-process broker), ``http://HOST:PORT`` or
    ``HOST:PORT`` (a broker served by ``python -m fakemq serve``). ``credentials`` is required,
    as in the SDK (pass ``Credentials()`` for none). ``request_timeout`` is in seconds; the fake
    accepts floats.
    """

    def __init__(
        self,
        endpoints: str,
        credentials: Credentials,
        namespace: str = "",
        request_timeout: float = 3,
    ) -> None:
        if not endpoints or not endpoints.strip():
            raise IllegalArgumentException("endpoints should not be blank")
        if request_timeout is None or request_timeout <= 0:
            raise IllegalArgumentException("request_timeout must be greater than 0")
        self.endpoints = endpoints.strip()
        self.credentials = credentials if credentials is not None else Credentials()
        self.namespace = namespace
        self.request_timeout = request_timeout


class FilterExpression:
    """A tag filter: ``"*"`` matches every message, ``"a||b"`` matches tags ``a`` or ``b``.

    ``filter_type`` is accepted for signature compatibility; only tag filters exist in the fake
    (the SDK's ``FilterType.TAG`` is 1, and ``"TAG"`` is accepted too). SQL92 filters raise.
    """

    TAG_EXPRESSION_SUB_ALL = "*"

    def __init__(
        self, expression: str = TAG_EXPRESSION_SUB_ALL, filter_type: int | str = FILTER_TYPE_TAG
    ) -> None:
        if not expression or not expression.strip():
            raise IllegalArgumentException("filter expression should not be blank")
        if filter_type not in (FILTER_TYPE_TAG, "TAG"):
            raise IllegalArgumentException(
                f"fakemq supports tag filters only, not filter_type {filter_type!r}"
            )
        self.expression = expression.strip()
        self.filter_type = FILTER_TYPE_TAG

    def __repr__(self) -> str:
        return f"FilterExpression({self.expression!r})"


def tag_set(expression: str) -> frozenset[str] | None:
    """The tags a filter expression accepts, or None for all of them."""
    if expression.strip() == "*":
        return None
    return frozenset(tag.strip() for tag in expression.split("||") if tag.strip())


class Message:
    """A message to send (set ``topic`` and ``body``) or one received (read its fields).

    As in the SDK, ``Message()`` takes no arguments and fields are set one by one; setting
    ``keys`` adds keys. Received messages also carry ``message_id``, ``delivery_attempt``,
    ``receipt_handle`` and ``born_timestamp``.
    """

    def __init__(self) -> None:
        self._topic: str | None = None
        self._body: bytes | None = None
        self._tag: str | None = None
        self._keys: set[str] = set()
        self._message_group: str | None = None
        self.properties: dict[str, str] = {}
        self.message_id: str | None = None
        self.delivery_attempt: int | None = None
        self.receipt_handle: str | None = None
        self.born_timestamp: int | None = None
        self.born_host: str | None = None
        self.namespace: str = ""

    @property
    def topic(self) -> str | None:
        return self._topic

    @topic.setter
    def topic(self, topic: str) -> None:
        if not topic or not topic.strip():
            raise IllegalArgumentException("topic has not been set yet.")
        if not TOPIC_PATTERN.match(topic):
            raise IllegalArgumentException(
                f"topic does not match the regex [{TOPIC_PATTERN.pattern}]"
            )
        self._topic = topic

    @property
    def body(self) -> bytes | None:
        return self._body

    @body.setter
    def body(self, body: bytes) -> None:
        if not body:
            raise IllegalArgumentException("body should not be blank.")
        if not isinstance(body, bytes | bytearray):
            raise IllegalArgumentException(f"body must be bytes, not {type(body).__name__}")
        self._body = bytes(body)

    @property
    def tag(self) -> str | None:
        return self._tag

    @tag.setter
    def tag(self, tag: str) -> None:
        if not tag or not tag.strip():
            raise IllegalArgumentException("tag should not be blank.")
        if "|" in tag:
            raise IllegalArgumentException('tag should not contain "|".')
        self._tag = tag

    @property
    def keys(self) -> set[str]:
        return self._keys

    @keys.setter
    def keys(self, *keys: str) -> None:
        for key in keys:
            if not key or not key.strip():
                raise IllegalArgumentException("key should not be blank.")
        self._keys.update(keys)

    @property
    def message_group(self) -> str | None:
        return self._message_group

    @message_group.setter
    def message_group(self, message_group: str) -> None:
        if not message_group or not message_group.strip():
            raise IllegalArgumentException("message_group should not be blank.")
        self._message_group = message_group

    def add_property(self, key: str, value: str) -> None:
        """Add a user property (both strings, not blank)."""
        if not key or not key.strip():
            raise IllegalArgumentException("key should not be blank.")
        if not value or not value.strip():
            raise IllegalArgumentException("value should not be blank.")
        self.properties[key] = value

    def __repr__(self) -> str:
        preview = self._body[:40] if self._body else None
        return (
            f"Message(topic={self._topic!r}, message_id={self.message_id!r}, tag={self._tag!r}, "
            f"delivery_attempt={self.delivery_attempt}, body={preview!r})"
        )

    def to_record(self) -> dict[str, Any]:
        """The fields the broker stores (used by the transports)."""
        return {
            "topic": self._topic,
            "body": self._body,
            "tag": self._tag,
            "keys": sorted(self._keys),
            "properties": dict(self.properties),
            "message_group": self._message_group,
        }

    @classmethod
    def from_delivery(cls, record: dict[str, Any]) -> Message:
        """Build a received message from a broker delivery record."""
        message = cls()
        message._topic = record["topic"]
        message._body = record["body"]
        message._tag = record.get("tag")
        message._keys = set(record.get("keys") or ())
        message.properties = dict(record.get("properties") or {})
        message._message_group = record.get("message_group")
        message.message_id = record["message_id"]
        message.delivery_attempt = record["delivery_attempt"]
        message.receipt_handle = record["receipt_handle"]
        message.born_timestamp = record["born_timestamp"]
        message.born_host = record.get("born_host")
        return message


class SendReceipt:
    """What ``Producer.send`` returns: the id the broker gave the message."""

    def __init__(self, message_id: str, transaction_id: str = "", offset: int = 0) -> None:
        self.message_id = message_id
        self.transaction_id = transaction_id
        self.offset = offset
        self.message_queue = None
        self.recall_handle = None

    def __repr__(self) -> str:
        return f"SendReceipt(message_id={self.message_id!r}, offset={self.offset})"
