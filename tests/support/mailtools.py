"""Outgoing mail in tests: wait for the background sender; SMTP servers that fail, on loopback."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.test import TestCase

from mail.email import wait_for_background


@contextmanager
def mail_sent() -> Iterator[None]:
    """Commit the block's mail as a real commit would, then wait for the sender thread."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        yield
    assert wait_for_background(30), "queued mail was not handed to the backend"


def closed_port() -> int:
    """Return a local port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SilentSMTPServer:
    """A server on loopback that accepts every connection and never says a word."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._held: list[socket.socket] = []
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        self._listener.settimeout(0.2)
        while not self._stopped.is_set():
            try:
                conn, _addr = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._held.append(conn)

    def __enter__(self) -> SilentSMTPServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)
        # Closing the held connections ends any client still waiting for the greeting.
        for conn in self._held:
            conn.close()
        self._listener.close()
