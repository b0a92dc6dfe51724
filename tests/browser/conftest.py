"""Playwright harness: Debian's chromium against pytest-django's live server.

Never downloads a browser. axe-core comes from the npm registry into the git-ignored .cache/axe:
    npm install --prefix .cache/axe --no-save --no-audit --no-fund axe-core@4.14.1
(installed by the `axe_source` fixture when missing). It is loaded as an init script, since the
page's Content-Security-Policy rightly refuses an injected <script>.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, sync_playwright

from tests.support.tools import require_tool

BASE_DIR = Path(__file__).resolve().parents[2]
SCREENSHOTS = BASE_DIR / "test-artifacts" / "screenshots"
AXE_DIR = BASE_DIR / ".cache" / "axe"
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
AXE_PACKAGE = "axe-core@4.14.1"
NPM_FLAGS = ("--no-save", "--no-audit", "--no-fund")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
WIDE = {"width": 1280, "height": 900}
NARROW = {"width": 390, "height": 844}
# Phone widths at which no page may be wider than the screen (checked after every navigation).
PHONE_WIDTHS = (360, 390)
# The elements that stick out furthest, for the failure message.
_WIDEST = """() => Array.from(document.querySelectorAll('body *'))
    .map(e => [e.getBoundingClientRect().right, e])
    .filter(([right]) => right > window.innerWidth + 0.5)
    .sort((a, b) => b[0] - a[0]).slice(0, 5)
    .map(([right, e]) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}` +
         `${e.className && typeof e.className === 'string' ? '.' + e.className.trim()
             .split(/\\s+/).join('.') : ''} right=${Math.round(right)}`)"""


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    chromium_path = require_tool("chromium")
    # Playwright's sync API keeps an event loop in this thread; Django's ORM would otherwise
    # refuse to run in the test body (the live server answers in its own thread either way).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_JS.exists():
        npm = require_tool("npm")
        subprocess.run(
            [npm, "install", "--prefix", str(AXE_DIR), *NPM_FLAGS, AXE_PACKAGE],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return str(AXE_JS)


@pytest.fixture(autouse=True)
def _clean_tables(pfa_cleanup) -> None:
    """Start each browser test from empty Postfix Admin tables (the live server commits)."""


class UI:
    """One browser tab on the live server, with the checks every end-to-end test needs."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url.rstrip("/")
        self.console_errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.console_errors.append(f"page error: {exc}"))

    def _on_console(self, message) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def check_fits_phone(self, label: str = "") -> None:
        """Assert that the page is no wider than a 360 and a 390 px wide phone screen."""
        page = self.page
        previous = page.viewport_size or ViewportSize(width=WIDE["width"], height=WIDE["height"])
        try:
            for width in PHONE_WIDTHS:
                page.set_viewport_size(ViewportSize(width=width, height=NARROW["height"]))
                sizes = page.evaluate(
                    "() => [document.documentElement.scrollWidth, window.innerWidth]"
                )
                if sizes[0] > sizes[1]:
                    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                    name = re.sub(r"[^a-z0-9]+", "-", (label or self.path()).lower()).strip("-")
                    page.screenshot(path=SCREENSHOTS / f"too-wide-{width}-{name}.png")
                    widest = page.evaluate(_WIDEST)
                    raise AssertionError(
                        f"{label or self.path()} is {sizes[0]} px wide on a {width} px screen: "
                        f"{widest}"
                    )
        finally:
            page.set_viewport_size(previous)

    def url(self, path: str) -> str:
        return path if path.startswith("http") else self.base_url + path

    def goto(self, path: str) -> None:
        response = self.page.goto(self.url(path))
        assert response is not None
        assert response.status < 500, f"{path} answered {response.status}"
        self.check_fits_phone()

    def path(self) -> str:
        return self.page.url.removeprefix(self.base_url)

    def login(self, username: str, password: str, path: str = "/accounts/login/") -> None:
        self.goto(path)
        self.page.locator("input[name=username]").fill(username)
        self.page.locator("input[name=password]").fill(password)
        self.submit()

    def follow(self, locator) -> None:
        """Click a link or button and wait until the page it leads to has loaded."""
        with self.page.expect_navigation():
            locator.click()
        self.check_fits_phone()

    def nav(self, name: str) -> None:
        """Follow a link of the main menu."""
        menu = self.page.get_by_role("navigation", name="Main")
        self.follow(menu.get_by_role("link", name=name, exact=True))

    def submit(self, label: str | re.Pattern | None = None) -> None:
        """Press a form's submit button (by its visible name) and wait for the next page."""
        if label is None:
            button = self.page.locator("main form button[type=submit]").first
        else:
            button = self.page.get_by_role("button", name=label).first
        with self.page.expect_navigation():
            button.click()
        self.check_fits_phone()

    def unexpected_errors(self) -> list[str]:
        """Return script errors and refused resources; a 404 page's own status is expected."""
        return [text for text in self.console_errors if "status of 404" not in text]

    def csp_violations(self) -> list[str]:
        return [text for text in self.console_errors if "Content Security Policy" in text]

    def check_accessibility(self, label: str) -> None:
        """Run axe-core on the current page; fail on serious or critical violations."""
        # From the top, as a reader arrives: axe misjudges colours of elements scrolled away.
        self.page.evaluate("window.scrollTo(0, 0)")
        result = self.page.evaluate(
            """async () => {
                const r = await axe.run(document, {
                    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                                     'best-practice']},
                });
                return r.violations.map(v => ({
                    id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' +
                                                      n.failureSummary),
                }));
            }"""
        )
        serious = [v for v in result if v["impact"] in ("serious", "critical")]
        report = "\n".join(
            f"{v['impact']} {v['id']}: {v['help']}\n    " + "\n    ".join(v["nodes"])
            for v in serious
        )
        if serious:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^a-z0-9]+", "-", label.lower())
            self.page.screenshot(path=SCREENSHOTS / f"axe-failure-{name}.png", full_page=True)
        assert not serious, f"accessibility violations on {label} ({self.path()}):\n{report}"

    def theme(self) -> str | None:
        """Return the colour mode the page is shown in (js/theme.js sets data-bs-theme)."""
        return self.page.evaluate("document.documentElement.getAttribute('data-bs-theme')")

    def wait_for_theme(self, theme: str) -> None:
        self.page.wait_for_function(
            "theme => document.documentElement.getAttribute('data-bs-theme') === theme", arg=theme
        )

    def check_accessibility_dark(self, label: str) -> None:
        """Run axe again with the system asking for dark mode, then go back to light."""
        self.page.emulate_media(color_scheme="dark")
        try:
            self.wait_for_theme("dark")
            self.check_accessibility(f"{label} (dark mode)")
        finally:
            self.page.emulate_media(color_scheme="light")
        self.wait_for_theme("light")

    def check_page(self, label: str) -> None:
        """Check the current page: no CSP violation so far, no serious accessibility problem
        in light or dark mode."""
        self.page.wait_for_load_state("load")
        assert self.csp_violations() == [], f"{label}: {self.csp_violations()}"
        self.check_accessibility(label)
        self.check_accessibility_dark(label)
        self.check_fits_phone(label)

    def screenshot(self, name: str) -> None:
        """Save the current page at 1280 and 390 px wide (whole page) as test artifacts."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.wait_for_load_state("load")
        self.check_fits_phone(name)
        for suffix, size in (("1280", WIDE), ("390", NARROW)):
            self.page.set_viewport_size(size)
            self.page.screenshot(path=SCREENSHOTS / f"{name}-{suffix}.png", full_page=True)
        self.page.set_viewport_size(WIDE)


def _open(browser: Browser, base_url: str, axe_source: str) -> tuple[BrowserContext, UI]:
    # Light unless a test asks for dark; no transitions, so axe never sees a colour half-way.
    context = browser.new_context(
        viewport=WIDE, locale="en-GB", color_scheme="light", reduced_motion="reduce"
    )
    # An init script runs outside the page's CSP; a <script> tag with axe would be refused.
    context.add_init_script(path=axe_source)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, UI(page, base_url)


def _final_screenshot(tab: UI, name: str) -> None:
    # Every test leaves the page it ended on as an artifact, at both widths.
    if tab.page.url.startswith("http"):
        tab.screenshot("final-" + re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-"))


@pytest.fixture
def ui(request, browser: Browser, live_server, axe_source: str) -> Iterator[UI]:
    context, tab = _open(browser, live_server.url, axe_source)
    yield tab
    _final_screenshot(tab, request.node.name)
    context.close()
    assert tab.unexpected_errors() == []


@pytest.fixture
def new_ui(request, browser: Browser, live_server, axe_source: str) -> Iterator:
    """Open further independent browsers (separate cookies), e.g. for a second user."""
    opened: list[tuple[BrowserContext, UI]] = []

    def make() -> UI:
        opened.append(_open(browser, live_server.url, axe_source))
        return opened[-1][1]

    yield make
    for number, (context, tab) in enumerate(opened, start=2):
        _final_screenshot(tab, f"{request.node.name}-{number}")
        context.close()
        assert tab.unexpected_errors() == []
