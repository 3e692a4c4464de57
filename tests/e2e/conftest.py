"""End-to-end tests: the real app in a subprocess, driven by Playwright in Debian's Chromium.

Off by default (`make test` doesn't collect them): run with `ESSP_E2E=1` or `-m e2e`,
e.g. `make test-e2e`. Needs `/usr/bin/chromium` (apt-get install chromium), the
`playwright` Python package (its driver only: never `playwright install`) and axe-core
from npm in `tests/e2e/node_modules` (installed here with `npm ci` if missing). Any
of them missing is a FAILURE with a message saying what to install, never a skip.

The server runs in its own process with its own environment (tests/conftest.py sets
the in-process suite's variables at import time): a scratch SQLite database in a
temporary folder, `BASE_URL` on a free port, no SMTP (mail is captured and shown in
the demo inbox), and the mail worker as a second process.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
SCREENSHOTS = Path(os.environ.get("ESSP_SCREENSHOT_DIR") or ROOT / "docs" / "screenshots")
CHROMIUM = os.environ.get("ESSP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "device_scale_factor": 1, "locale": "fr-FR", "timezone_id": "Europe/Paris"}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "fr-FR",
    "timezone_id": "Europe/Paris",
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/130.0.0.0 Mobile Safari/537.36"
    ),
}
# Variables the in-process suite (tests/conftest.py) or the caller may have set: never inherited.
APP_VARIABLES = (
    "DATABASE_URL", "ESSP_VAR_DIR", "ESSP_ENV", "SECRET_KEY", "BASE_URL", "PORT", "HOST", "DB_POOL",
    "SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_PASSWORD", "SMTP_SECURITY", "MAIL_FROM",
    "MAIL_RATE_PER_MINUTE", "LOGIN_RATE_PER_MINUTE", "LINK_RATE_PER_MINUTE", "SESSION_DAYS",
)


# --- Switch: collected only with ESSP_E2E=1 or -m e2e -------------------------------------


def e2e_enabled(config: pytest.Config) -> bool:
    if os.environ.get("ESSP_E2E", "").strip() in ("1", "true", "yes"):
        return True
    markexpr = (config.getoption("markexpr", "") or "").replace("(", " ").replace(")", " ")
    words = markexpr.split()
    return any(w == "e2e" and (i == 0 or words[i - 1] != "not") for i, w in enumerate(words))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: browser tests (Playwright + Chromium); run with ESSP_E2E=1 or -m e2e")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    # Not even imported by a plain `pytest`: playwright needn't be installed for `make test`.
    if collection_path.suffix == ".py" and collection_path.name.startswith("test_") and not e2e_enabled(config):
        return True
    return None


def pytest_report_header(config: pytest.Config) -> str:
    if e2e_enabled(config):
        return f"e2e: browser tests ON (Chromium: {CHROMIUM})"
    return "e2e: browser tests not collected (ESSP_E2E=1 or -m e2e to run them: make test-e2e)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark everything here `e2e`; the journey runs first, in file order (its steps build on each other)."""
    mine = [i for i in items if HERE in Path(str(i.fspath)).parents]
    for item in mine:
        item.add_marker(pytest.mark.e2e)
    if not mine:
        return
    order = {"test_journey.py": 0, "test_accessibility.py": 1}
    positions = [items.index(i) for i in mine]
    ranked = sorted(mine, key=lambda i: (order.get(Path(str(i.fspath)).name, 2), mine.index(i)))
    for position, item in zip(sorted(positions), ranked):
        items[position] = item


# --- Prerequisites: fail loudly ---------------------------------------------------------


def _require_chromium() -> str:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}. Install Debian's: `apt-get update && apt-get install -y chromium` "
            "(or set ESSP_CHROMIUM to a Chromium binary). Never `playwright install`.",
            pytrace=False,
        )
    return CHROMIUM


def _require_playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("The `playwright` package is missing: `.venv/bin/pip install playwright` (no browser download).", pytrace=False)
    return sync_playwright


def axe_script() -> Path:
    script = HERE / "node_modules" / "axe-core" / "axe.min.js"
    if script.is_file():
        return script
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("axe-core is missing and npm isn't installed: install Node.js and npm, then `npm ci` in tests/e2e.", pytrace=False)
    result = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not script.is_file():
        pytest.fail(f"`npm ci` in tests/e2e failed; axe-core is needed:\n{result.stdout}\n{result.stderr}", pytrace=False)
    return script


# --- The app under test ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveApp:
    base_url: str
    run_dir: Path
    env: dict[str, str]
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def mail_dir(self) -> Path:
        return self.run_dir / "var" / "mail"

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = open(ARTIFACTS / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        proc.log = log  # type: ignore[attr-defined]
        self.processes[name] = proc
        return proc

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = ARTIFACTS / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def check_alive(self) -> None:
        for name, proc in self.processes.items():
            if proc.poll() is not None:
                pytest.fail(f"The {name} process exited ({proc.returncode}):\n{self.log_tail(name)}", pytrace=False)

    def wait_for_mail(self, to: str, count: int = 1, timeout: float = 30) -> None:
        """Waits until the worker has captured `count` messages to `to` (the inbox page reads the same folder)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            found = 0
            if self.mail_dir.is_dir():
                for path in self.mail_dir.glob("*.eml"):
                    head = path.read_bytes()[:4000].decode("ascii", "replace")
                    if f"To: {to}" in head or f"<{to}>" in head:
                        found += 1
            if found >= count:
                return
            time.sleep(0.25)
        pytest.fail(f"No mail to {to} captured within {timeout:.0f} s.\nworker log:\n{self.log_tail('worker')}", pytrace=False)

    def stop(self) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.processes.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
            proc.log.close()  # type: ignore[attr-defined]


def _app_env(run_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in APP_VARIABLES}
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{run_dir / 'e2e.sqlite'}",
            "ESSP_VAR_DIR": str(run_dir / "var"),
            "ESSP_ENV": "development",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "BASE_URL": f"http://127.0.0.1:{port}",
            "PORT": str(port),
            "HOST": "127.0.0.1",
            # Every respondent, keyboard presses and autosaves included, comes from 127.0.0.1.
            "LINK_RATE_PER_MINUTE": "100000",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


@pytest.fixture(scope="session")
def live_app() -> LiveApp:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("failure-*.png"):
        old.unlink()
    run_dir = Path(tempfile.mkdtemp(prefix="essp-e2e-"))
    port = _free_port()
    app = LiveApp(base_url=f"http://127.0.0.1:{port}", run_dir=run_dir, env=_app_env(run_dir, port))
    migrated = app.cli("migrate")
    if migrated.returncode != 0:
        pytest.fail(f"`esspratiques migrate` failed:\n{migrated.stdout}\n{migrated.stderr}", pytrace=False)
    app.start("server", "serve", "--host", "127.0.0.1", "--port", str(port))
    app.start("worker", "worker", "--poll", "0.5")
    try:
        deadline = time.monotonic() + 60
        while True:
            app.check_alive()
            try:
                with urllib.request.urlopen(f"{app.base_url}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"The server didn't answer /health within 60 s:\n{app.log_tail('server')}", pytrace=False)
            time.sleep(0.2)
        yield app
    finally:
        app.stop()
        shutil.rmtree(run_dir, ignore_errors=True)


# --- The browser ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    executable = _require_chromium()
    sync_playwright = _require_playwright()
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        except Exception as exc:  # noqa: BLE001 - turned into a readable failure
            pytest.fail(f"Chromium at {executable} didn't start under Playwright: {exc}", pytrace=False)
        yield chromium
        chromium.close()


class Contexts:
    """Browser contexts (desktop for the organisation, phone for respondents), closed at the end."""

    def __init__(self, browser, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.opened: list = []

    def _new(self, options: dict):
        context = self.browser.new_context(base_url=self.base_url, **options)
        context.set_default_timeout(15_000)
        self.opened.append(context)
        return context

    def desktop(self):
        return self._new(DESKTOP)

    def phone(self):
        return self._new(PHONE)

    def close_all(self) -> None:
        for context in self.opened:
            try:
                context.close()
            except Exception:  # noqa: BLE001, S110 - already closed on purpose (a respondent leaving)
                pass


_OPEN_CONTEXTS: list[Contexts] = []  # for the failure screenshots


@pytest.fixture(scope="session")
def contexts(browser, live_app):
    made = Contexts(browser, live_app.base_url)
    _OPEN_CONTEXTS.append(made)
    yield made
    made.close_all()
    _OPEN_CONTEXTS.remove(made)


@pytest.fixture(scope="session")
def axe_log():
    from tests.e2e.axe import AxeLog

    return AxeLog(script=axe_script(), report=ARTIFACTS / "axe-report.json")


@pytest.fixture(scope="session")
def shoot():
    """shoot(page, name): a viewport screenshot, one CSS pixel per pixel, into docs/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), scale="css", animations="disabled", caret="hide")
        return path

    return take


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, save a screenshot of every open page into test-artifacts/e2e/."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report  # read by the journey's step bookkeeping
    if report.when != "call" or not report.failed or not _OPEN_CONTEXTS:
        return
    for i, context in enumerate(_OPEN_CONTEXTS[0].opened):
        try:
            for j, open_page in enumerate(context.pages):
                name = re.sub(r"[^\w.-]+", "_", item.name)
                open_page.screenshot(path=str(ARTIFACTS / f"failure-{name}-{i}-{j}.png"), full_page=True)
        except Exception:  # noqa: BLE001, S110 - contexts closed on purpose (a respondent leaving)
            pass
