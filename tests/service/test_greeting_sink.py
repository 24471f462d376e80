"""The local sink (`crm sink`) as a process: it receives e-mail over SMTP and
signed SMS over HTTP, keeps a repeated idempotency key once, and lists what
it got (GET /messages, `crm sink list`)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request

import pytest

from crm_loyalty.greetings.channels import OutgoingMessage, SmsChannel, SmtpChannel

KEY = "sink-test-key-of-enough-length"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def sink_process():
    smtp_port, http_port = _free_port(), _free_port()
    env = {**os.environ, "LOYALTY_SMS_KEY": KEY}
    proc = subprocess.Popen([sys.executable, "-m", "crm_cli.main", "sink", "--smtp-port", str(smtp_port),
                             "--http-port", str(http_port)], env=env, stdout=subprocess.PIPE, text=True)
    banner = proc.stdout.readline()  # printed once both servers listen
    assert "crm sink" in banner
    yield smtp_port, f"http://127.0.0.1:{http_port}"
    proc.terminate()
    proc.wait(10)


def _messages(url: str) -> list[dict]:
    with urllib.request.urlopen(f"{url}/messages", timeout=5) as answer:
        return json.loads(answer.read())


def test_the_sink_keeps_sms_and_email_and_lists_them(sink_process):
    smtp_port, url = sink_process
    sms = SmsChannel(f"{url}/sms", KEY)
    text = OutgoingMessage("msg_sinktest1", "+8613900001111", "", "中秋快乐")
    assert sms.send(text) is None
    assert sms.send(text) is None  # a repeat of the same message id is answered, not kept again
    assert SmsChannel(f"{url}/sms", "a-different-key-of-enough-length").send(
        OutgoingMessage("msg_sinktest2", "+8613900001111", "", "forged")) == "sms: http 401"
    mail = SmtpChannel("127.0.0.1", smtp_port, "greetings@crm.local")
    assert mail.send(OutgoingMessage("msg_sinktest3", "ann@example.com", "Happy birthday", "Dear Ann")) is None

    got = _messages(url)
    assert [(m["channel"], m["message_id"]) for m in got] == [("sms", "msg_sinktest1"), ("email", "msg_sinktest3")]
    assert got[0]["text"] == "中秋快乐" and got[0]["to"] == "+8613900001111"
    assert got[1]["subject"] == "Happy birthday" and got[1]["to"] == ["ann@example.com"]
    assert got[1]["text"] == "Dear Ann"

    listed = subprocess.run([sys.executable, "-m", "crm_cli.main", "sink", "list", "--url", url],
                            capture_output=True, text=True, timeout=30, check=True).stdout.splitlines()
    assert [json.loads(line)["message_id"] for line in listed] == ["msg_sinktest1", "msg_sinktest3"]


def test_an_unreachable_channel_fails_with_a_reason():
    port = _free_port()  # nothing listens there
    assert SmtpChannel("127.0.0.1", port, "greetings@crm.local", timeout=2).send(
        OutgoingMessage("msg_x", "a@example.com", "s", "b")).startswith("smtp: ")
    assert SmsChannel(f"http://127.0.0.1:{port}/sms", KEY, timeout=2).send(
        OutgoingMessage("msg_x", "+8613900001111", "", "b")).startswith("sms: ")
