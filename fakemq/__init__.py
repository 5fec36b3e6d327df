"""A fake RocketMQ 5 broker and fake downstream services, for the course.

The client API mirrors ``rocketmq-python-client`` 5.1 (``from rocketmq import …``), so code
written against it runs on the real SDK after changing the import. See ``fakemq/README.md``.
"""

from .admin import BrokerAdmin
from .broker import DEFAULT_MAX_DELIVERY_ATTEMPTS, Broker, drop_memory_broker, memory_broker
from .client import Producer, SimpleConsumer
from .downstream import (
    EmailBadRequest,
    EmailError,
    EmailFailed,
    EmailProvider,
    EmailRateLimited,
    EmailService,
    EmailTimeout,
    render_attachment,
)
from .exceptions import (
    INVALID_RECEIPT_HANDLE,
    BadRequestException,
    BrokerUnreachableException,
    ClientException,
    IllegalArgumentException,
    IllegalStateException,
    InternalErrorException,
    NotFoundException,
    ProxyTimeoutException,
    TooManyRequestsException,
)
from .model import ClientConfiguration, Credentials, FilterExpression, Message, SendReceipt

__all__ = [
    "DEFAULT_MAX_DELIVERY_ATTEMPTS",
    "INVALID_RECEIPT_HANDLE",
    "BadRequestException",
    "Broker",
    "BrokerAdmin",
    "BrokerUnreachableException",
    "ClientConfiguration",
    "ClientException",
    "Credentials",
    "EmailBadRequest",
    "EmailError",
    "EmailFailed",
    "EmailProvider",
    "EmailRateLimited",
    "EmailService",
    "EmailTimeout",
    "FilterExpression",
    "IllegalArgumentException",
    "IllegalStateException",
    "InternalErrorException",
    "Message",
    "NotFoundException",
    "Producer",
    "ProxyTimeoutException",
    "SendReceipt",
    "SimpleConsumer",
    "TooManyRequestsException",
    "drop_memory_broker",
    "memory_broker",
    "render_attachment",
]
