"""A private Postfix + Dovecot pair on loopback ports, configured by `manage.py mailconfig`.

Everything lives in one temporary directory: both configurations, Postfix's queue, Dovecot's
base_dir and the maildirs. The generated files are used byte for byte; only the parts a real
site would write itself (listeners, queue, logging) come from here. Daemons are started and
stopped by their own control commands and never see a password on their command line.
"""

from __future__ import annotations

import contextlib
import grp
import imaplib
import os
import pwd
import shutil
import smtplib
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.support.tools import missing, require_tool

REQUIRED_BINARIES = ("postfix", "postconf", "dovecot", "doveconf")
# Mail is owned by an unprivileged account: Dovecot refuses uid 0 for mail processes.
VMAIL_USER = "nobody"
DELIVERY_TIMEOUT = 20.0
START_TIMEOUT = 20.0
# Goto targets local#domain@VACATION_DOMAIN go to `manage.py vacation_deliver` (pipe, as nobody).
VACATION_DOMAIN = "autoreply.vimbadmin-it.invalid"


def require_stack(driver: str | None) -> str:
    """Return `driver` (pgsql or mysql) once the stack can run for it.

    No driver means the test database is SQLite, which Postfix and Dovecot cannot read: an
    engine fact, so the test skips (`make test` runs these on PostgreSQL and MariaDB). A missing
    binary or prerequisite fails the test (tests/support/tools.py).
    """
    if driver is None:
        pytest.skip(
            "the mail stack needs PostgreSQL or MariaDB: set DATABASE_URL to a postgresql:// "
            "or mysql:// URL"
        )
    for name in REQUIRED_BINARIES:
        require_tool(name)
    problems = missing_prerequisites(driver)
    if problems:
        missing("mailstack", "the mail stack cannot run here: " + "; ".join(problems))
    return driver


def missing_prerequisites(driver: str) -> list[str]:
    """Return what this machine lacks, besides REQUIRED_BINARIES, to run the stack for `driver`
    (pgsql or mysql)."""
    problems = []
    if os.geteuid() != 0:
        problems.append("Postfix's master and Dovecot must be started as root")
    # An empty configuration of our own: a host whose Postfix was installed with "No
    # configuration" has no /etc/postfix/main.cf, and postconf then lists nothing.
    with tempfile.TemporaryDirectory() as config:
        (Path(config) / "main.cf").touch()
        maps = subprocess.run(
            ["postconf", "-c", config, "-m"],
            capture_output=True,
            text=True,
            check=False,
            env=_env(),
        ).stdout.split()
    if driver not in maps:
        problems.append(f"Postfix has no {driver} map support (install postfix-{driver})")
    if not any(Path("/usr/lib/dovecot/modules").glob(f"**/libdriver_{driver}.so")):
        problems.append(f"Dovecot has no {driver} driver (install dovecot-{driver})")
    for account in ("postfix", "dovecot", "dovenull", VMAIL_USER):
        try:
            pwd.getpwnam(account)
        except KeyError:
            problems.append(f"system user {account} is missing")
    return problems


def _sbin_path() -> str:
    return os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": _sbin_path()}


def free_port() -> int:
    """Return a loopback TCP port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float, what: str, log: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port}.\n{log()}")


def _alive(pid: int) -> bool:
    """Tell whether a process still runs; a zombie (never reaped here) counts as gone."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _wait_gone(pid: int | None, timeout: float = 10.0) -> None:
    if pid is None:
        return
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)


class _IMAP4From(imaplib.IMAP4):
    """An IMAP client connecting from a chosen local address (any of 127.0.0.0/8)."""

    def __init__(self, source: str, host: str, port: int, timeout: float) -> None:
        self._source = source
        super().__init__(host, port, timeout=timeout)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        return socket.create_connection(
            (self.host, self.port), timeout, source_address=(self._source, 0)
        )


@dataclass
class MailStack:
    """Running Postfix and Dovecot; helpers speak SMTP and IMAP to them like a client would."""

    root: Path
    # Extra `mailconfig` options (mail_location, mailbox_locations) and a mail root of the
    # test's own (mail written before the stack starts, as an imported installation's).
    mailconfig: dict[str, object] = field(default_factory=dict)
    own_mail_root: Path | None = None
    smtp_port: int = field(default_factory=free_port)
    imap_port: int = field(default_factory=free_port)
    lmtp_port: int = field(default_factory=free_port)

    @property
    def postfix_dir(self) -> Path:
        return self.root / "postfix"

    @property
    def postfix_generated(self) -> Path:
        return self.root / "postfix" / "sql"

    @property
    def dovecot_dir(self) -> Path:
        return self.root / "dovecot"

    @property
    def dovecot_generated(self) -> Path:
        return self.root / "dovecot" / "conf.d"

    @property
    def mail_root(self) -> Path:
        return self.own_mail_root or self.root / "vmail"

    @property
    def local_spool(self) -> Path:
        return self.root / "local-spool"

    @property
    def vacation_env_file(self) -> Path:
        return self.root / "vacation.env"

    @property
    def postfix_log(self) -> Path:
        return self.root / "postfix.log"

    @property
    def dovecot_log(self) -> Path:
        return self.root / "dovecot.log"

    # -- setup ------------------------------------------------------------------------------

    def generate(self) -> None:
        """Write both configurations with `manage.py mailconfig`, as an operator would."""
        vmail = pwd.getpwnam(VMAIL_USER)
        common = {
            "mail_root": str(self.mail_root),
            "uid": vmail.pw_uid,
            "gid": vmail.pw_gid,
            "mail_user": VMAIL_USER,
            "stdout": StringIO(),
            **self.mailconfig,
        }
        call_command(
            "mailconfig",
            "postfix",
            output=str(self.postfix_generated),
            vacation_domain=VACATION_DOMAIN,
            vacation_user=VMAIL_USER,
            vacation_env_file=str(self.vacation_env_file),
            vacation_python=_python_for(VMAIL_USER),
            **common,
        )
        self._write_vacation_env()
        call_command(
            "mailconfig",
            "dovecot",
            output=str(self.dovecot_generated),
            second_factor=True,
            **common,
        )
        # The ownership the files' own comments ask for: mode 640, group of the reading daemon.
        for directory, group in (
            (self.postfix_generated, "postfix"),
            (self.dovecot_generated, "dovecot"),
        ):
            gid = grp.getgrnam(group).gr_gid
            directory.chmod(0o755)
            for path in directory.iterdir():
                os.chown(path, -1, gid)
        # The auto-responder runs as the mail user, who is not in the postfix group.
        (self.postfix_generated / "vacation-deliver").chmod(0o755)

    def _write_vacation_env(self) -> None:
        """The auto-responder's settings: this run's test database, SMTP back into Postfix."""
        from urllib.parse import quote

        from django.conf import settings

        db = settings.DATABASES["default"]
        scheme = "postgresql" if db["ENGINE"].endswith("postgresql") else "mysql"
        password = f":{quote(str(db['PASSWORD']), safe='')}" if db.get("PASSWORD") else ""
        port = f":{db['PORT']}" if db.get("PORT") else ""
        user = quote(str(db["USER"]), safe="")
        url = f"{scheme}://{user}{password}@{db['HOST']}{port}/{db['NAME']}"
        lines = {
            "DATABASE_URL": url,
            "SECRET_KEY": uuid.uuid4().hex * 2,
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.smtp_port),
            "VIMBADMIN_VACATION_DOMAIN": VACATION_DOMAIN,
            "PYTHONPATH": os.pathsep.join(_site_packages()),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        self.vacation_env_file.write_text("".join(f"{k}='{v}'\n" for k, v in lines.items()))
        self.vacation_env_file.chmod(0o644)

    def start(self) -> None:
        self.root.chmod(0o755)
        self.mail_root.mkdir(exist_ok=True)
        vmail = pwd.getpwnam(VMAIL_USER)
        os.chown(self.mail_root, vmail.pw_uid, vmail.pw_gid)
        self.generate()
        self._start_dovecot()
        self._start_postfix()

    def _start_dovecot(self) -> None:
        run = self.dovecot_dir / "run"
        state = self.dovecot_dir / "state"
        state.mkdir(parents=True)
        generated = self.dovecot_generated
        conf = f"""\
# The site's own part; the included files come from `manage.py mailconfig dovecot`.
base_dir = {run}
state_dir = {state}
instance_name = vimbadmin-it-{self.root.name}
listen = 127.0.0.1
protocols = imap lmtp
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# Every login must reach the database: a cache would hide a missing active check.
auth_cache_size = 0
auth_verbose = yes
# Failed logins are part of the tests; brute-force slowdowns would only make them slow.
auth_failure_delay = 0
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
# Postfix's SMTP AUTH asks Dovecot (smtpd_sasl_type = dovecot), as on a real site.
service auth {{
  unix_listener auth-postfix {{
    mode = 0666
  }}
}}
log_path = {self.dovecot_log}
default_internal_user = dovecot
default_login_user = dovenull
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {self.lmtp_port}
  }}
}}
!include {generated}/10-auth-sql.conf
!include {generated}/10-mail-vimbadmin.conf
!include {generated}/90-quota-vimbadmin.conf
"""
        (self.dovecot_dir / "dovecot.conf").write_text(conf)
        self._run(["dovecot", "-c", str(self.dovecot_dir / "dovecot.conf")], "dovecot")
        for port, what in ((self.imap_port, "Dovecot IMAP"), (self.lmtp_port, "Dovecot LMTP")):
            wait_for_port(port, START_TIMEOUT, what, self.logs)

    def _start_postfix(self) -> None:
        spool = self.root / "postfix-spool"
        data = self.root / "postfix-data"
        spool.mkdir()
        data.mkdir()
        # local(8) writes a system user's mailbox file with that user's rights (root's as nobody).
        self.local_spool.mkdir()
        self.local_spool.chmod(0o1777)
        postfix_uid = pwd.getpwnam("postfix").pw_uid
        os.chown(data, postfix_uid, -1)
        main_cf = f"""\
# The site's own part; the lines after the marker come from `manage.py mailconfig postfix`.
compatibility_level = 3.6
queue_directory = {spool}
data_directory = {data}
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.vimbadmin-it.invalid
mydomain = vimbadmin-it.invalid
myorigin = $myhostname
# Local delivery as on a stock Debian host: a bare alias target (root) gets @$myorigin and
# postmaster@localhost stays local; mailbox files land in the stack's own spool directory.
mydestination = $myhostname, localhost
local_recipient_maps =
alias_maps = inline:{{postmaster=root, abuse=root, hostmaster=root, webmaster=root}}
alias_database =
mail_spool_directory = {self.local_spool}
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = reject_unauth_destination
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = {self.dovecot_dir / "run" / "auth-postfix"}
smtpd_recipient_restrictions = reject_unlisted_recipient
smtputf8_enable = no
biff = no
delay_warning_time = 0
minimal_backoff_time = 2s
maximal_backoff_time = 4s
queue_run_delay = 2s
maillog_file = {self.postfix_log}
maillog_file_prefixes = {self.root}
virtual_transport = lmtp:inet:127.0.0.1:{self.lmtp_port}
# ---- mailconfig ----
"""
        main_cf += (self.postfix_generated / "main.cf.snippet").read_text()
        (self.postfix_dir / "main.cf").write_text(main_cf)
        services = [
            # smtpd keeps a per-process cache of address classes (virtual, relay, unknown);
            # one process per connection makes each test see what a fresh connection sees.
            f"127.0.0.1:{self.smtp_port} inet n - n - - smtpd -o max_use=1",
            "pickup unix n - n 60 1 pickup",
            "cleanup unix n - n - 0 cleanup",
            "qmgr unix n - n 300 1 qmgr",
            "rewrite unix - - n - - trivial-rewrite",
            "bounce unix - - n - 0 bounce",
            "defer unix - - n - 0 bounce",
            "trace unix - - n - 0 bounce",
            "verify unix - - n - 1 verify",
            "proxymap unix - - n - - proxymap",
            "smtp unix - - n - - smtp",
            "relay unix - - n - - smtp",
            "showq unix n - n - - showq",
            "error unix - - n - - error",
            "retry unix - - n - - error",
            "discard unix - - n - - discard",
            "lmtp unix - - n - - lmtp",
            "local unix - n n - - local",
            "anvil unix - - n - 1 anvil",
            "scache unix - - n - 1 scache",
            "postlog unix-dgram n - n - 1 postlogd",
        ]
        vacation = (self.postfix_generated / "master.cf.vacation").read_text()
        (self.postfix_dir / "master.cf").write_text("\n".join(services) + "\n" + vacation)
        self._run(["postfix", "-c", str(self.postfix_dir), "check"], "postfix check")
        self._run(["postfix", "-c", str(self.postfix_dir), "start"], "postfix start")
        wait_for_port(self.smtp_port, START_TIMEOUT, "Postfix smtpd", self.logs)

    def _run(self, argv: list[str], what: str) -> None:
        # Output goes to a file, not a pipe: a daemon that forks keeps a pipe open forever.
        out_path = self.root / "commands.log"
        with out_path.open("a") as out:
            out.write(f"$ {' '.join(argv)}\n")
            out.flush()
            result = subprocess.run(
                argv, stdout=out, stderr=subprocess.STDOUT, check=False, env=_env(), timeout=60
            )
        if result.returncode != 0:
            raise RuntimeError(
                f"{what} failed ({result.returncode}):\n{out_path.read_text()}\n{self.logs()}"
            )

    def stop(self) -> None:
        """Stop both daemons and wait until they are gone, so the database can be dropped."""
        master_pid = _read_pid(self.root / "postfix-spool" / "pid" / "master.pid")
        if (self.postfix_dir / "main.cf").exists():
            subprocess.run(
                ["postfix", "-c", str(self.postfix_dir), "stop"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
                env=_env(),
                timeout=60,
            )
        dovecot_pid = _read_pid(self.dovecot_dir / "run" / "master.pid")
        if dovecot_pid is not None and _alive(dovecot_pid):
            os.kill(dovecot_pid, 15)
        _wait_gone(master_pid)
        _wait_gone(dovecot_pid)

    # -- client side ------------------------------------------------------------------------

    def logs(self, lines: int = 40) -> str:
        parts = []
        for path in (self.postfix_log, self.dovecot_log):
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path.name} ---\n" + "\n".join(tail))
        return "\n".join(parts)

    def send(self, recipients: list[str], *, sender: str = "someone@sender.test") -> str:
        """Send one message over SMTP and return its unique subject.

        smtplib raises SMTPRecipientsRefused when every recipient is refused at RCPT.
        """
        subject = f"it-{uuid.uuid4().hex}"
        message = EmailMessage()
        message["From"] = sender
        message["To"] = ", ".join(recipients)
        message["Subject"] = subject
        message.set_content("Integration test message.\n")
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as smtp:
            refused = smtp.send_message(message, from_addr=sender, to_addrs=recipients)
        if refused:
            raise smtplib.SMTPRecipientsRefused(refused)
        return subject

    def rcpt_code(self, recipient: str, *, sender: str = "someone@sender.test") -> int:
        """Return the SMTP reply code the server gives at RCPT TO for one recipient."""
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as smtp:
            smtp.ehlo("client.sender.test")
            smtp.mail(sender)
            code, _ = smtp.rcpt(recipient)
            smtp.rset()
        return code

    def wait_for_local(self, user: str, subject: str, timeout: float = DELIVERY_TIMEOUT) -> int:
        """Poll a local system user's mailbox file until `subject` is in it; return its count."""
        path = self.local_spool / user
        deadline = time.monotonic() + timeout
        while True:
            text = path.read_text(errors="replace") if path.exists() else ""
            if subject in text or time.monotonic() >= deadline:
                return text.count(f"Subject: {subject}")
            time.sleep(0.25)

    def can_login(self, username: str, password: str, *, source: str = "127.0.0.1") -> bool:
        """Try an IMAP LOGIN (from the given loopback address) and report whether it succeeded."""
        with _IMAP4From(source, "127.0.0.1", self.imap_port, timeout=30) as imap:
            try:
                imap.login(username, password)
            except imaplib.IMAP4.error:
                return False
            imap.logout()
            return True

    def can_smtp_auth(self, username: str, password: str, *, source: str = "127.0.0.1") -> bool:
        """Try SMTP AUTH at Postfix (which asks Dovecot) and report whether it succeeded."""
        with smtplib.SMTP(
            "127.0.0.1", self.smtp_port, timeout=30, source_address=(source, 0)
        ) as smtp:
            smtp.ehlo("client.sender.test")
            try:
                smtp.login(username, password)
            except smtplib.SMTPAuthenticationError:
                return False
            return True

    def inbox_subjects(self, username: str, password: str) -> list[str]:
        with imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=30) as imap:
            imap.login(username, password)
            imap.select("INBOX", readonly=True)
            _, data = imap.search(None, "ALL")
            subjects = []
            for num in data[0].split():
                _, parts = imap.fetch(num, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
                header = parts[0][1].decode() if parts and isinstance(parts[0], tuple) else ""
                subjects.append(header.partition(":")[2].strip())
            imap.logout()
        return subjects

    def wait_for(
        self, username: str, password: str, subject: str, timeout: float = DELIVERY_TIMEOUT
    ) -> bool:
        """Poll the IMAP INBOX until the message with `subject` shows up, or time runs out."""
        deadline = time.monotonic() + timeout
        while True:
            if subject in self.inbox_subjects(username, password):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.25)


def _world_runnable(path: Path) -> bool:
    """Tell whether any user may run `path`: every directory above it is world-searchable."""
    path = path.resolve()
    if not path.stat().st_mode & 0o001:
        return False
    return all(parent.stat().st_mode & 0o001 for parent in path.parents)


def _python_for(user: str) -> str:
    """Return a Python of this version that `user` may run (this one, else the system's).

    A Python under /root (pyenv) cannot be run by the mail user; Debian's python3 of the same
    minor version loads this environment's packages through PYTHONPATH instead.
    """
    import sys

    if _world_runnable(Path(sys.executable)):
        return sys.executable
    system = Path("/usr/bin") / f"python{sys.version_info.major}.{sys.version_info.minor}"
    if system.exists() and _world_runnable(system):
        return str(system)
    raise RuntimeError(
        f"no Python {sys.version_info.major}.{sys.version_info.minor} that {user} may run "
        f"(install python{sys.version_info.major}.{sys.version_info.minor})"
    )


def _site_packages() -> list[str]:
    import site

    return [p for p in site.getsitepackages() if Path(p).is_dir()]


@contextlib.contextmanager
def running_stack(
    mailconfig: dict[str, object] | None = None, own_mail_root: Path | None = None
) -> Iterator[MailStack]:
    """Start a stack in a fresh temporary directory; stop it and remove the directory after."""
    # /tmp rather than pytest's deep tmp paths: Unix socket paths must stay under 108 bytes.
    root = Path(tempfile.mkdtemp(prefix="vimb-it-", dir="/tmp"))
    (root / "postfix").mkdir()
    (root / "dovecot").mkdir()
    stack = MailStack(root=root, mailconfig=mailconfig or {}, own_mail_root=own_mail_root)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        if not os.environ.get("VIMBADMIN_IT_KEEP"):
            shutil.rmtree(root, ignore_errors=True)
