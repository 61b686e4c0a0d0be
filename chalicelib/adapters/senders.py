"""SMS through SNS and email through SES: one call per message, with addresses checked before AWS sees them."""
from __future__ import annotations

import re
import threading

from chalicelib import settings
from chalicelib.adapters import aws


class BadAddress(ValueError):
    """An address no retry can fix (a malformed phone number or email): the send fails for good."""


_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
_verified: set[str] = set()
_lock = threading.Lock()


def phone_e164(phone: str) -> str:
    """A roster phone number as E.164: spaces, dots and dashes dropped; a national 0 prefix becomes +84."""
    raw = re.sub(r"[\s.\-()]", "", phone or "")
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    elif raw.startswith("0"):
        raw = "+84" + raw[1:]
    if not _E164.match(raw):
        raise BadAddress(f"số điện thoại không hợp lệ: {phone!r}")
    return raw


def email_address(email: str) -> str:
    address = (email or "").strip()
    if not _EMAIL.match(address):
        raise BadAddress(f"địa chỉ email không hợp lệ: {email!r}")
    return address


def send_sms(phone: str, text: str) -> str:
    """Publish one transactional SMS under the configured sender id; returns SNS's message id."""
    s = settings.get()
    response = aws.client("sns").publish(
        PhoneNumber=phone_e164(phone),
        Message=text,
        MessageAttributes={
            "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": s.sms_sender},
            # Transactional: delivered ahead of marketing traffic and, where the law asks, outside DND lists.
            "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
        },
    )
    return response["MessageId"]


def send_email(address: str, subject: str, text: str, html: str) -> str:
    """Send one email with a plain-text and an HTML part, both UTF-8; returns SES's message id."""
    s = settings.get()
    _ensure_local_identity(s)
    response = aws.client("ses").send_email(
        Source=s.email_sender,
        Destination={"ToAddresses": [email_address(address)]},
        Message={
            "Subject": {"Data": subject, "Charset": "UTF-8"},
            "Body": {"Text": {"Data": text, "Charset": "UTF-8"}, "Html": {"Data": html, "Charset": "UTF-8"}},
        },
    )
    return response["MessageId"]


def _ensure_local_identity(s) -> None:
    """The local stand-in starts with no verified SES identity; in the cloud the sender is verified outside the
    app, so this only runs in stage local."""
    if not s.is_local or s.email_sender in _verified:
        return
    with _lock:
        aws.client("ses").verify_email_identity(EmailAddress=s.email_sender)
        _verified.add(s.email_sender)
