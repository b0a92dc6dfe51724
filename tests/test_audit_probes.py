"""scripts/audit-probes.py: it probes every finding of the audit, and its mail server works.

The script itself runs against a live gunicorn (README, "Security audit probes"); here its parts
are checked with Django's real SMTP backend: the sink captures a reset mail and its link, and in
its silent and hang-up modes the backend fails as against a dead server.
"""

from __future__ import annotations

import importlib.util
import re
import smtplib
import sys
from pathlib import Path
from types import ModuleType

import pytest
from django.core.mail import EmailMessage, get_connection

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "audit-probes.py"
REPORT_FINDINGS = ["H1", "M1", "M2", "M3", "M4", *(f"L{n}" for n in range(1, 12)), "I1", "I2"]


@pytest.fixture(scope="module")
def probes() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_probes", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Its dataclasses look their module up while the file runs.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_every_finding_of_the_report_has_a_probe(probes):
    keys = [key for key, _title, _method in probes.FINDINGS]
    assert keys == REPORT_FINDINGS
    for key, _title, method in probes.FINDINGS:
        assert callable(getattr(probes.Probes, method)), key


def send(port: int, timeout: float = 5) -> None:
    connection = get_connection(
        "django.core.mail.backends.smtp.EmailBackend",
        host="127.0.0.1",
        port=port,
        timeout=timeout,
        fail_silently=False,
    )
    link = "http://127.0.0.1:8000/accounts/password-reset/YWRt/" + "x" * 90 + "/"
    message = EmailMessage(
        "Reset", f"open this link:\n\n{link}\n", "from@example.org", ["adm@ops.example"]
    )
    assert connection.send_messages([message]) == 1


def test_the_sink_captures_mail_and_its_link(probes):
    sink = probes.SMTPSink()
    send(sink.port)
    text = sink.wait_for(lambda rcpt, _text: "adm@ops.example" in rcpt, 5)
    assert text is not None
    link = probes.link_in(text)
    assert re.fullmatch(r"http://127\.0\.0\.1:8000/accounts/password-reset/YWRt/x{90}/", link)
    sink.server.shutdown()


@pytest.mark.parametrize("mode", ["refuse", "silent"])
def test_the_sink_fails_like_a_dead_server(probes, mode):
    sink = probes.SMTPSink()
    sink.set_mode(mode)
    with pytest.raises((smtplib.SMTPException, OSError)):
        send(sink.port, timeout=1)
    sink.set_mode("capture")
    assert sink.messages == []
    sink.server.shutdown()
