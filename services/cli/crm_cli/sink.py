"""The local message sink for `make run` and the tests: an SMTP server
(aiosmtpd) and an HTTP SMS endpoint that receive what the loyalty service
sends, keep it in memory and list it.

    crm sink                      run it (SMTP 127.0.0.1:2525, HTTP 127.0.0.1:8025)
    crm sink list [--url URL]     print what a running sink received (JSON lines)

HTTP:
    POST /sms        the SMS provider API: a JSON body {message_id, to, text},
                     signed (``X-Signature: sha256=<hex HMAC-SHA256 of the body>``
                     with LOYALTY_SMS_KEY; a bad or missing signature is 401) and
                     carrying ``Idempotency-Key``: a repeated message (by the
                     signed message_id, else the key) is answered as before and
                     not kept twice (what a real provider promises).
    GET /messages    everything received, oldest first (e-mails and SMS), JSON.

For fault tests, ``fail_sms`` makes the next N SMS requests answer 503.
The sink holds personal data only in memory and logs counts, never contents.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import logging
import os
import signal
import sys
import threading
import time
import urllib.request
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

log = logging.getLogger("crm.sink")

MAX_BODY = 64 * 1024
DEV_SMS_KEY = "dev-sms-signing-key-not-for-production"  # = crm_loyalty.greetings.settings.DEV_SMS_KEY


def _sign(key: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


class _MailHandler:
    def __init__(self, sink: "Sink"):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = parsed.get_body(preferencelist=("plain",))
        self.sink.keep({
            "channel": "email", "from": envelope.mail_from, "to": list(envelope.rcpt_tos),
            "subject": str(parsed.get("Subject", "")), "text": body.get_content().strip() if body else "",
            "message_id": str(parsed.get("Message-ID", "")).strip("<>").partition("@")[0],
        })
        return "250 Message accepted for delivery"


class Sink:
    def __init__(self, *, host: str = "127.0.0.1", smtp_port: int = 2525, http_port: int = 8025,
                 sms_key: str = DEV_SMS_KEY):
        self.host, self.smtp_port, self.http_port = host, smtp_port, http_port
        self.sms_key = sms_key.encode()
        self.fail_sms = 0  # the next N SMS requests answer 503
        self._messages: list[dict] = []
        self._sms_answers: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._smtp: Controller | None = None
        self._http: ThreadingHTTPServer | None = None

    # -- what it got ---------------------------------------------------------------

    def keep(self, message: dict) -> None:
        message["received_at"] = datetime.now(timezone.utc).isoformat()
        with self._lock:
            self._messages.append(message)
            count = len(self._messages)
        log.info("sink received", extra={"fields": {"channel": message["channel"], "count": count}})

    def messages(self, channel: str | None = None) -> list[dict]:
        with self._lock:
            return [dict(m) for m in self._messages if channel is None or m["channel"] == channel]

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    # -- the SMS API -------------------------------------------------------------------

    def _receive_sms(self, body: bytes, signature: str | None, idempotency_key: str | None) -> tuple[int, bytes]:
        # compared as bytes: a header of non-ASCII characters is a bad signature, not a crash
        if not signature or not hmac.compare_digest(_sign(self.sms_key, body).encode(),
                                                    signature.encode("utf-8", "replace")):
            return 401, b'{"error":"bad signature"}'
        try:
            sms = json.loads(body)
            to, text, message_id = str(sms["to"]), str(sms["text"]), str(sms.get("message_id", ""))
        except (ValueError, KeyError, TypeError):
            return 400, b'{"error":"expected JSON {message_id, to, text}"}'
        # The signed message id is the key (the Idempotency-Key header is not signed: a captured request
        # replayed under another key, or none, is still the same message).
        key = message_id or idempotency_key or ""
        with self._lock:
            if self.fail_sms > 0:
                self.fail_sms -= 1
                return 503, b'{"error":"try again"}'
            if key and key in self._sms_answers:
                return 200, self._sms_answers[key]
        answer = json.dumps({"accepted": True, "message_id": message_id}).encode()
        with self._lock:
            if key in self._sms_answers:  # a racing twin got here first
                return 200, self._sms_answers[key]
            if key:
                self._sms_answers[key] = answer
        self.keep({"channel": "sms", "to": to, "text": text, "message_id": message_id,
                   "idempotency_key": idempotency_key or ""})
        return 200, answer

    def _http_handler(self):
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):  # noqa: N802
                if self.path.split("?")[0] == "/messages":
                    self._answer(200, json.dumps(sink.messages(), ensure_ascii=False).encode())
                else:
                    self._answer(404, b'{"error":"not found"}')

            def do_POST(self):  # noqa: N802
                if self.path.split("?")[0] != "/sms":
                    return self._answer(404, b'{"error":"not found"}')
                try:
                    length = int(self.headers.get("Content-Length", "0"))
                except ValueError:
                    length = -1
                if not 0 < length <= MAX_BODY:
                    return self._answer(400, b'{"error":"a body of at most 64 KiB is required"}')
                status, body = sink._receive_sms(self.rfile.read(length), self.headers.get("X-Signature"),
                                                 self.headers.get("Idempotency-Key"))
                self._answer(status, body)

            def log_message(self, format, *args):  # noqa: A002 - quiet: contents are personal data
                pass

        return Handler

    # -- life ------------------------------------------------------------------------------

    def start(self) -> "Sink":
        self._http = ThreadingHTTPServer((self.host, self.http_port), self._http_handler())
        self._http.daemon_threads = True
        self.http_port = self._http.server_address[1]
        threading.Thread(target=self._http.serve_forever, name="sink-http", daemon=True).start()
        self._smtp = Controller(_MailHandler(self), hostname=self.host, port=self.smtp_port)
        self._smtp.start()
        return self

    def stop(self) -> None:
        if self._smtp is not None:
            self._smtp.stop()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.http_port}"


# -- the command ------------------------------------------------------------------------------

def cmd_sink(args) -> None:
    if getattr(args, "sink_command", None) == "list":
        with urllib.request.urlopen(f"{args.url.rstrip('/')}/messages", timeout=5) as answer:
            for message in json.loads(answer.read()):
                print(json.dumps(message, ensure_ascii=False))
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    sink = Sink(host=args.host, smtp_port=args.smtp_port, http_port=args.http_port,
                sms_key=os.environ.get("LOYALTY_SMS_KEY") or DEV_SMS_KEY).start()
    print(f"crm sink: SMTP {sink.host}:{sink.smtp_port}, SMS {sink.url}/sms, list {sink.url}/messages", flush=True)
    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    while not stopped.wait(1.0):
        pass
    sink.stop()
    time.sleep(0.1)
    sys.exit(0)


def add_sink_commands(sub) -> None:
    sink = sub.add_parser("sink", help="run the local SMTP + SMS sink that keeps and lists what it got")
    sink.add_argument("--host", default="127.0.0.1")
    sink.add_argument("--smtp-port", type=int, default=int(os.environ.get("CRM_SINK_SMTP_PORT", "2525")))
    sink.add_argument("--http-port", type=int, default=int(os.environ.get("CRM_SINK_HTTP_PORT", "8025")))
    sink.set_defaults(func=cmd_sink)
    inner = sink.add_subparsers(dest="sink_command")
    listing = inner.add_parser("list", help="print what a running sink received (JSON lines)")
    listing.add_argument("--url", default=os.environ.get("CRM_SINK_URL", "http://127.0.0.1:8025"))
    listing.set_defaults(func=cmd_sink)
