"""The one way every e-mail leaves the project: rendered from templates, never raising.

Three ways out, one per kind of mail:

- `send_now`: the user waits for the answer (the settings e-mail); a failure is returned.
- `send_after_commit`: mail about a change (welcome, "password changed"); it goes out once the
  change is committed, and a failure goes to `on_failure` (a warning on the page) and the log.
- `send_in_background`: reset links; handed to a sender thread once committed, so that neither a
  slow or silent SMTP server nor the existence of an account shows in the answer or its timing.

Nothing here knows about models: callers pass rendered context and plain addresses.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import translation

logger = logging.getLogger("vimbadmin.mail")

# Mails waiting for the sender thread; beyond this, new ones are dropped with an error line
# rather than letting a dead SMTP server grow the process's memory without bound.
QUEUE_LIMIT = 500
# How long the process waits at exit for queued mail to go out.
EXIT_WAIT_SECONDS = 5.0


@dataclass
class OutgoingMail:
    """A mail to render from `emails/<kind>.txt` (and `.html`), and what the log says about it."""

    kind: str
    about: str
    subject: str
    recipients: list[str]
    context: dict[str, Any]
    message: EmailMultiAlternatives | None = None
    # False for a stand-in: prepared and queued like a real mail, then dropped by the sender.
    deliver: bool = True
    # The recipient's language (a code of settings.LANGUAGES); "" renders in the current one.
    language: str = ""

    def render(self) -> EmailMultiAlternatives:
        """Build the message once, in the recipient's language (a broken template raises here)."""
        if self.message is None:
            # Rendered later than composed (after the commit, in the sender thread): the
            # language must be set again here, not taken from whatever request is running.
            with translation.override(self.language) if self.language else nullcontext():
                self.message = self._build()
        return self.message

    def _build(self) -> EmailMultiAlternatives:
        text = render_to_string(f"emails/{self.kind}.txt", self.context)
        message = EmailMultiAlternatives(
            # A template may end the subject with a newline; headers must be one line.
            "".join(self.subject.splitlines()),
            text,
            settings.DEFAULT_FROM_EMAIL,
            self.recipients,
        )
        html: str
        try:
            html = render_to_string(f"emails/{self.kind}.html", self.context)
        except TemplateDoesNotExist:
            html = ""
        if html:
            message.attach_alternative(html, "text/html")
        if self.language:
            message.extra_headers["Content-Language"] = self.language
        return message


def compose(
    kind: str,
    *,
    subject: str,
    recipients: list[str],
    context: dict[str, Any],
    about: str,
    language: str = "",
) -> OutgoingMail:
    """Describe a mail from `emails/<kind>.txt` (and `.html` when it exists) to recipients.

    `language`: the recipient's; compose the subject inside `translation.override(language)`.
    """
    return OutgoingMail(
        kind=kind,
        about=about,
        subject=subject,
        recipients=recipients,
        context=context,
        language=language,
    )


def send_now(mail: OutgoingMail) -> str:
    """Render and send the mail at once; return "" when it went out, else why (logged)."""
    try:
        mail.render().send()
    except Exception as exc:
        # Any failure (refused, timed out, TLS, bad header, broken template) is the mail's
        # problem, not the request's: it is logged here and reported by the caller, never raised.
        logger.warning(
            "sending %s e-mail for %s failed: %s",
            mail.kind,
            mail.about,
            exc,
            exc_info=not isinstance(exc, OSError),
        )
        return str(exc) or exc.__class__.__name__
    logger.info("sent %s e-mail for %s", mail.kind, mail.about)
    return ""


def send_after_commit(
    mail: OutgoingMail, *, on_failure: Callable[[str], None] | None = None
) -> None:
    """Send the mail once the current transaction commits; a failure goes to `on_failure`."""

    def deliver() -> None:
        error = send_now(mail)
        if error and on_failure is not None:
            on_failure(error)

    transaction.on_commit(deliver)


def send_in_background(mail: OutgoingMail, *, deliver: bool = True) -> None:
    """Render the mail now and queue it for the sender thread once the transaction commits.

    With `deliver=False` the mail goes the same way and the sender thread drops it: a request
    for an unknown account does the same work as one whose link goes out.
    """
    # Rendered here, where the request's models and language are; the thread only sends. The
    # connection is made now too, so it uses this request's settings (tests change them).
    mail.deliver = deliver
    mail.render().connection = get_connection()
    transaction.on_commit(lambda: _sender.put(mail))


def wait_for_background(timeout: float) -> bool:
    """Wait until the sender thread has handled every queued mail; False if time ran out."""
    return _sender.wait(timeout)


class _Sender:
    """One daemon thread per process that sends queued mail one after the other."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: queue.Queue[OutgoingMail] = queue.Queue(maxsize=QUEUE_LIMIT)
        self._thread: threading.Thread | None = None
        self._pid = 0

    def put(self, mail: OutgoingMail) -> None:
        self._ensure_thread()
        try:
            self._queue.put_nowait(mail)
        except queue.Full:
            if not mail.deliver:
                return
            logger.error(
                "mail queue full (%d waiting): %s e-mail for %s dropped",
                QUEUE_LIMIT,
                mail.kind,
                mail.about,
            )

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._pid != os.getpid():
                # A forked worker inherits the queue but not the thread: start afresh.
                self._queue = queue.Queue(maxsize=QUEUE_LIMIT)
                self._thread = None
                self._pid = os.getpid()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="vimbadmin-mail-sender", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        work = self._queue
        while True:
            mail = work.get()
            try:
                if mail.deliver:
                    send_now(mail)
                else:
                    # Never the address: it may be one that has no account here.
                    logger.debug("stand-in %s e-mail dropped", mail.kind)
            finally:
                work.task_done()

    def wait(self, timeout: float) -> bool:
        work = self._queue
        deadline = time.monotonic() + timeout
        with work.all_tasks_done:
            while work.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                work.all_tasks_done.wait(remaining)
        return True


_sender = _Sender()


@atexit.register
def _drain_at_exit() -> None:
    if not _sender.wait(EXIT_WAIT_SECONDS):
        logger.error("queued e-mail not sent before the process ended")
