"""Translations: the catalogues match the source, every shipped language is complete, and the
owner's pages and the welcome mail show no English string in any shipped language.

The catalogues of French, Spanish, Italian, Dutch, Portuguese (Brazil) and Polish are filled on
their own branches; until they are, their cases of the completeness tests fail, as they should.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.test import Client
from django.utils import translation
from django.utils.translation import to_locale

from domains.models import DomainSettings
from mailboxes.emails import send_welcome_email
from mailboxes.models import Mailbox
from tests.factories import PASSWORD, make_mailbox
from tests.support.po import Entry, Key, nplurals, read_po
from tests.support.tools import require_tool

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = [code for code, _name in settings.LANGUAGES if code != "en"]
# What the copy of the checkout for the extraction leaves out: nothing with marked strings.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "locale", "staticfiles", "var", "node_modules", "test-artifacts", "build",
    "dist", "docs", ".*_cache", "__pycache__", "*.egg-info", "*.png", "*.sqlite3", "*.mo",
)  # fmt: skip


@pytest.fixture(autouse=True)
def _language_back_to_the_default():
    """A request leaves its language active in the thread; later tests must not inherit it."""
    yield
    translation.deactivate()


def catalogue(language: str) -> Path:
    return ROOT / "locale" / to_locale(language) / "LC_MESSAGES" / "django.po"


def test_the_shipped_languages():
    assert SHIPPED == ["de", "fr", "es", "it", "nl", "pt-br", "pl"]
    assert settings.LOCALE_PATHS == [ROOT / "locale"]
    for language in SHIPPED:
        assert catalogue(language).is_file(), language


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> dict[Key, Entry]:
    """Extract the marked strings of the checkout as scripts/makemessages.sh does, in a copy."""
    require_tool("xgettext")
    copy = tmp_path_factory.mktemp("extract") / "checkout"
    shutil.copytree(ROOT, copy, ignore=NOT_SOURCE)
    (copy / "locale").mkdir()
    result = subprocess.run(
        ["scripts/makemessages.sh", "de"],
        cwd=copy,
        env={"PATH": "/usr/bin:/bin", "PYTHON": sys.executable, "HOME": str(copy)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return read_po(copy / "locale" / "de" / "LC_MESSAGES" / "django.po")


def _describe(keys: set[Key]) -> str:
    return "\n".join(
        f"  {f'[{context}] ' if context else ''}{msgid!r}"
        for context, msgid, _plural in sorted(keys)
    )


@pytest.mark.parametrize("language", SHIPPED)
def test_catalogue_has_exactly_the_strings_of_the_source(language, extracted):
    assert len(extracted) > 800  # the extraction found the project's strings
    committed = read_po(catalogue(language))
    missing = set(extracted) - set(committed)
    stale = set(committed) - set(extracted)
    assert not missing, (
        f"marked in the source but not in {catalogue(language).relative_to(ROOT)} "
        f"(run scripts/makemessages.sh and translate them):\n{_describe(missing)}"
    )
    assert not stale, (
        f"in {catalogue(language).relative_to(ROOT)} but no longer in the source "
        f"(run scripts/makemessages.sh):\n{_describe(stale)}"
    )


def test_the_stale_check_sees_a_changed_string(tmp_path, extracted):
    """The comparison above is not vacuous: one edited msgid shows on both sides."""
    edited = tmp_path / "django.po"
    text = catalogue("de").read_text(encoding="utf-8")
    edited.write_text(
        text.replace('msgid "Forwarding saved."', 'msgid "Forwarding stored."', 1),
        encoding="utf-8",
    )
    committed = read_po(edited)
    assert set(extracted) - set(committed) == {("", "Forwarding saved.", "")}
    assert set(committed) - set(extracted) == {("", "Forwarding stored.", "")}


@pytest.mark.parametrize("language", SHIPPED)
def test_every_string_is_translated(language):
    path = catalogue(language)
    forms = nplurals(path)
    entries = read_po(path)
    untranslated = [
        key
        for key, entry in entries.items()
        if "fuzzy" in entry.flags
        or any(not entry.msgstr.get(index) for index in range(forms if entry.plural else 1))
    ]
    assert len(entries) > 800
    assert not untranslated, (
        f"{len(untranslated)} of {len(entries)} strings of {language} are missing or fuzzy:\n"
        f"{_describe(set(untranslated[:40]))}"
    )


@pytest.mark.parametrize("language", SHIPPED)
def test_catalogue_compiles_with_msgfmt_check(language, tmp_path):
    msgfmt = require_tool("msgfmt")
    result = subprocess.run(
        [msgfmt, "--check", "-o", str(tmp_path / "django.mo"), str(catalogue(language))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr, result.stderr


# --- No English left on the owner's pages and in the welcome mail ------------------------------

# Names that read the same in every language.
TECHNICAL = re.compile(
    r"ViMbAdmin|Postfix|Dovecot|IMAP|POP3|SMTP|SSL/TLS|STARTTLS|TOTP|UTF-8|\bMB\b|\bGB\b|\bKB\b|\bB\b"
)
ADDRESS = re.compile(r"\S+@\S+|https?://\S+|\b[\w-]+(\.[\w-]+)+\b")


class _VisibleText(HTMLParser):
    """Collect the text a reader sees: text nodes and the attributes read out or shown."""

    SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")

    def __init__(self) -> None:
        super().__init__()
        self.nodes: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        # The switcher names each language in itself: the same on every page, on purpose.
        if tag in ("script", "style") or values.get("id") == "language-select":
            self.skip += 1
        for name in self.SHOWN_ATTRIBUTES:
            if values.get(name):
                self.nodes.append(str(values[name]))
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.nodes.append(str(values["value"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "select") and self.skip:
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self.skip:
            self.nodes.append(text)


def visible_text(html: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(html)
    return parser.nodes


def _same_in_language(language: str) -> set[str]:
    """Words the catalogue keeps as they are in English (e.g. "Server", "Port", "Webmail")."""
    words: set[str] = set()
    for entry in read_po(catalogue(language)).values():
        if entry.msgstr.get(0) == entry.msgid:
            words.update(re.findall(r"[^\W\d_]+", entry.msgid))
    return words


def english_left(translated: list[str], english: list[str], language: str) -> list[str]:
    """Return the text nodes of the translated rendering that are English sentences or words."""
    same = _same_in_language(language)
    english_nodes = set(english)
    left = []
    for node in translated:
        if node not in english_nodes:
            continue
        words = re.findall(r"[^\W\d_]{2,}", TECHNICAL.sub(" ", ADDRESS.sub(" ", node)))
        if any(word not in same for word in words):
            left.append(node)
    return left


def _owner_pages(language: str, mailbox: Mailbox) -> dict[str, list[str]]:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    pages = {"login": client.get("/me/login/")}
    response = client.post("/me/login/", {"address": mailbox.username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:2000]
    pages["overview"] = client.get("/me/")
    pages["password"] = client.get("/me/password/")
    texts = {}
    for name, page in pages.items():
        assert page.status_code == 200, name
        assert page["Content-Language"] == language
        texts[name] = visible_text(page.content.decode())
    return texts


def _welcome_mail(language: str, mailbox: Mailbox, capture) -> list[str]:
    DomainSettings.objects.filter(domain_id=mailbox.domain_id).update(
        language="" if language == "en" else language
    )
    mail.outbox.clear()
    with capture(execute=True):
        send_welcome_email(mailbox)
    [message] = mail.outbox
    assert isinstance(message, EmailMultiAlternatives)
    html = message.alternatives[0][0]
    return [str(message.subject), *message.body.splitlines(), *visible_text(str(html))]


@pytest.fixture
def owner(db, domain_a, settings) -> Mailbox:
    settings.VIMBADMIN_SETTINGS_IMAP = "imap.%d:993:SSL/TLS"
    settings.VIMBADMIN_SETTINGS_SMTP = "smtp.%d:587:STARTTLS"
    settings.VIMBADMIN_SETTINGS_WEBMAIL = "https://webmail.example/"
    settings.VIMBADMIN_BASE_URL = "https://mail.example.org"
    return make_mailbox(domain_a, "olive", name="", email_other="olive@home.example")


@pytest.mark.parametrize("language", SHIPPED)
def test_owner_pages_and_welcome_mail_have_no_english_left(
    language, owner, django_capture_on_commit_callbacks
):
    english = _owner_pages("en", owner)
    translated = _owner_pages(language, owner)
    for name, nodes in translated.items():
        assert len(nodes) > 10, name
        left = english_left(nodes, english[name], language)
        assert not left, f"English on the {name} page in {language}: {left}"

    english_mail = _welcome_mail("en", owner, django_capture_on_commit_callbacks)
    translated_mail = _welcome_mail(language, owner, django_capture_on_commit_callbacks)
    assert translated_mail[0] != english_mail[0]  # the subject
    left = english_left(translated_mail, english_mail, language)
    assert not left, f"English in the welcome mail in {language}: {left}"


def test_the_english_check_finds_an_untranslated_sentence(owner):
    """The check above is not vacuous: English on a German page is found."""
    english = _owner_pages("en", owner)["overview"]
    german = _owner_pages("de", owner)["overview"]
    assert english_left(german, english, "de") == []
    assert english_left([*german, "Change forwarding"], english, "de") == ["Change forwarding"]
    # Names, addresses and technical terms are not English sentences.
    assert english_left(["olive@alpha.example", "IMAP", "ViMbAdmin"], english, "de") == []
