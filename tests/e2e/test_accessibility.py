"""Accessibility, checked by axe-core in Chromium: no violation of impact serious or critical.

`test_journey.py` runs first (tests/e2e/conftest.py orders it) and audits every page it
reaches; the first test here gives the verdict on those audits. The others audit the
pages the journey doesn't pass through: public pages, error pages, the English survey.
Every audit, whatever the impact, is in test-artifacts/e2e/axe-report.json.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.axe import describe

pytestmark = pytest.mark.e2e

EXPECTED_JOURNEY_PAGES = 40


def test_every_page_of_the_journey_passes_axe(axe_log):
    journey = [a for a in axe_log.audits if not a.label.startswith("standalone:")]
    assert journey, "The journey audited no page: run tests/e2e as a whole (make test-e2e)."
    blocking = [a for a in journey if a.blocking]
    assert not blocking, (
        f"axe-core found serious or critical violations on {len(blocking)} of {len(journey)} pages of the journey:\n"
        + describe(blocking)
    )
    assert len(journey) >= EXPECTED_JOURNEY_PAGES, (
        f"only {len(journey)} journey pages were audited (expected at least {EXPECTED_JOURNEY_PAGES}): "
        "a step of the journey failed before reaching its pages"
    )


def test_axe_reports_known_faults(contexts, axe_log):
    """The check isn't vacuous: axe, as injected here, reports faults planted in a page as blocking."""
    page = contexts.desktop().new_page()
    page.set_content(
        "<!doctype html><html><head><title>Fautes</title></head><body><main><h1>Fautes</h1>"
        '<img src="data:,"><input type="text"><p style="color:#aaa;background:#fff">gris clair</p></main></body></html>'
    )
    found = {v["id"]: v["impact"] for v in axe_log.run(page)}
    page.context.close()
    assert found.get("html-has-lang") == "serious", found
    assert found.get("image-alt") == "critical", found
    assert found.get("label") == "critical", found
    assert found.get("color-contrast") == "serious", found


@pytest.mark.parametrize(
    ("path", "status", "heading"),
    [
        ("/connexion", 200, "Se connecter"),
        ("/compte/mot-de-passe-oublie", 200, re.compile("Mot de passe oublié", re.IGNORECASE)),
        ("/cette-page-n-existe-pas", 404, None),
        ("/r/xxxx", 404, "Ce lien n'est pas valide"),
        ("/r/xxxx?lang=en", 404, "This link is not valid"),
        ("/q/xxxx", 404, "Ce lien n'est pas valide"),
        ("/desinscription/xxxx", 404, "Ce lien n'est pas valide"),
    ],
)
@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_public_and_error_pages_pass_axe(path, status, heading, device, contexts, axe_log):
    from playwright.sync_api import expect

    context = getattr(contexts, device)()
    page = context.new_page()
    response = page.goto(path)
    assert response is not None and response.status == status, f"{path}: HTTP {response.status if response else None}"
    if heading is not None:
        expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
    audit = axe_log.audit(page, f"standalone: {path} ({device})")
    context.close()
    assert not audit.blocking, f"axe-core on {path} ({device}):\n" + describe([audit])
