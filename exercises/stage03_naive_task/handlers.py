"""What to do with one message: parse it, send the email, push it back if that fails.

These functions are synchronous and block: the email API and the MQ producer are blocking
clients. Where they run (on the event loop or in a thread) is the consumer's decision.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from fakemq import ClientException, EmailError, EmailProvider, Message, Producer

log = logging.getLogger("handlers")


class BadMessage(ValueError):
    """The message body is not a valid email job; retrying will not help."""


@dataclass(frozen=True)
class EmailJob:
    order_id: str
    to: str
    subject: str
    body: str


def parse_email_job(message: Message) -> EmailJob:
    try:
        data = json.loads(message.body)
        return EmailJob(
            order_id=str(data["order_id"]),
            to=str(data["to"]),
            subject=str(data["subject"]),
            body=str(data["body"]),
        )
    except (ValueError, TypeError, KeyError) as error:
        raise BadMessage(f"not an email job: {error!r}") from None


def push_back(producer: Producer, topic: str, message: Message, reason: str) -> None:
    """Publish the message to the push-back topic, so it is handled later instead of lost."""
    pushed = Message()
    pushed.topic = topic
    pushed.body = message.body
    pushed.add_property("original_message_id", str(message.message_id))
    pushed.add_property("reason", reason[:200])
    producer.send(pushed)


def handle_message(
    message: Message, email: EmailProvider, producer: Producer, pushback_topic: str
) -> str:
    """Send the email for ``message``; on failure push it back. Returns the outcome."""
    try:
        job = parse_email_job(message)
        email.send(job.to, job.subject, job.body)
        return "sent"
    except (BadMessage, EmailError, ClientException) as error:  # bad input, refused, unreachable
        log.warning("message %s pushed back: %s", message.message_id, error)
        push_back(producer, pushback_topic, message, str(error))
        return "pushed_back"
