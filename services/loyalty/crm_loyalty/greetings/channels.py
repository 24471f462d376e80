"""The two ways a greeting leaves: e-mail over SMTP and SMS through an HTTP
provider API. Each answers None when the message was accepted, or the reason
it was not (a failure the next run retries); neither logs the address or the
text (personal data).

SMS requests are signed: header ``X-Signature: sha256=<hex HMAC-SHA256 of the
body with LOYALTY_SMS_KEY>``, and carry the message id as ``Idempotency-Key``
so a provider that got a request whose answer was lost does not send twice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

SIGNATURE_HEADER = "X-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def sign(key: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def signature_valid(key: bytes, body: bytes, header: str | None) -> bool:
    return bool(header) and hmac.compare_digest(sign(key, body), header)


@dataclass(frozen=True)
class OutgoingMessage:
    message_id: str
    to: str
    subject: str
    body: str


class SmtpChannel:
    name = "email"

    def __init__(self, host: str, port: int, sender: str, timeout: float = 10.0):
        self.host, self.port, self.sender, self.timeout = host, port, sender, timeout

    def send(self, message: OutgoingMessage) -> str | None:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.to
        mail["Subject"] = " ".join(message.subject.split())  # a name never breaks the header into two
        mail["Date"] = formatdate(usegmt=True)
        domain = self.sender.rpartition("@")[2] or "crm.local"
        mail["Message-ID"] = f"<{message.message_id}@{domain}>"
        mail.set_content(message.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as err:
            codes = sorted({code for code, _ in err.recipients.values()})
            return f"smtp: recipient refused {codes[0] if codes else ''}".strip()
        except smtplib.SMTPResponseException as err:
            return f"smtp: {err.smtp_code}"
        except (smtplib.SMTPException, OSError) as err:
            return f"smtp: {type(err).__name__}"
        return None


class SmsChannel:
    name = "sms"

    def __init__(self, url: str, key: str, timeout: float = 5.0):
        self.url, self.key, self.timeout = url, key.encode(), timeout

    def send(self, message: OutgoingMessage) -> str | None:
        body = json.dumps({"message_id": message.message_id, "to": message.to, "text": message.body},
                          ensure_ascii=False, separators=(",", ":")).encode()
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: sign(self.key, body),
            IDEMPOTENCY_HEADER: message.message_id,
        })
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                answer.read(4096)
        except urllib.error.HTTPError as err:
            return f"sms: http {err.code}"
        except (urllib.error.URLError, socket.timeout, TimeoutError, OSError) as err:
            return f"sms: {type(getattr(err, 'reason', err)).__name__}"
        return None
