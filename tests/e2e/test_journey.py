"""The whole journey in a real browser, as people do it, in the French interface.

An organisation signs up, fills its self-diagnosis, builds its stakeholder map (groups,
then a CSV import), creates and launches a campaign; three employees open their
invitation in the demo inbox and answer on a phone — one leaves half-way and comes back
with the same link, one uses the keyboard alone; the organisation closes the campaign,
reads the results, turns a priority into an action and downloads the general-assembly
report.

The steps are tests run in this order, sharing one organisation: a step whose
predecessor failed fails at once, saying which one. axe-core audits every page reached
(`axe_log.audit`); the verdict on those audits is `test_accessibility.py`'s, so that an
accessibility defect doesn't hide the rest of the journey.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

PASSWORD = "une phrase de passe assez longue"
ADMIN = {"name": "Camille Durand", "email": "camille@ressourcerie-e2e.example", "org": "Ressourcerie du Port"}
EMPLOYEES = {
    "alice": "alice.martin@ressourcerie-e2e.example",
    "bruno": "bruno.petit@ressourcerie-e2e.example",
    "chloe": "chloe.bernard@ressourcerie-e2e.example",
}
VOLUNTEER = "dominique.leroy@ressourcerie-e2e.example"
CONTACTS_CSV = (
    "email;nom;organisation;langue;groupe\r\n"
    f"{EMPLOYEES['alice']};Alice Martin;;fr;Salariés\r\n"
    f"{EMPLOYEES['bruno']};Bruno Petit;;fr;Salariés\r\n"
    f"{EMPLOYEES['chloe']};Chloé Bernard;;fr;salaries\r\n"
    f"{VOLUNTEER};Dominique Leroy;Amis du Port;fr;Bénévoles\r\n"
)
CAMPAIGN_TITLE = "Consultation des salariés 2026"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@dataclass
class Journey:
    """What the steps hand each other."""

    done: list[str] = field(default_factory=list)
    admin: Any = None  # the organisation's desktop page, signed in
    slug: str = ""
    campaign_id: str = ""
    links: dict[str, str] = field(default_factory=dict)  # respondent -> personal link (path)
    steps_seen: int = 0
    priority: str = ""  # the practice of the priority pinned on the results page

    def needs(self, *steps: str) -> None:
        missing = [s for s in steps if s not in self.done]
        if missing:
            pytest.fail(f"This step needs {', '.join(missing)}, which didn't pass (see above).", pytrace=False)


@pytest.fixture(scope="module")
def journey() -> Journey:
    return Journey()


@pytest.fixture(autouse=True)
def _record_step(request, journey: Journey):
    yield
    report = getattr(request.node, "rep_call", None)
    name = request.node.name.removeprefix("test_")
    if report is not None and report.passed:
        journey.done.append(name)


# --- Helpers ---------------------------------------------------------------------------------


def path_of(page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url)


def expect_heading(page, text: str | re.Pattern, level: int = 1) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", level=level, name=text)).to_be_visible()


def wait_saved(question) -> None:
    """The htmx autosave's status line, as the person sees it."""
    from playwright.sync_api import expect

    expect(question.get_by_role("status")).to_contain_text("enregistrée", timeout=10_000)


def answer_questions(page, level: str, importance: str | None = None, touch: bool = False) -> int:
    """Answers every question of a respondent step: level "1"…"5", importance "1"…"5"."""
    questions = page.locator("fieldset.question")
    count = questions.count()
    assert count > 0, f"no question on {page.url}"
    for i in range(count):
        q = questions.nth(i)
        radio = q.get_by_role("radio", name=re.compile(rf"^{level} — "))
        if touch:
            q.locator(f"label[for='{radio.get_attribute('id')}']").tap()
        else:
            radio.check()
        assert radio.is_checked()
        wait_saved(q)
        if importance:
            q.get_by_label(re.compile(r"important pour vous", re.IGNORECASE)).select_option(importance)
            wait_saved(q)
    return count


def focused(page) -> dict[str, str]:
    return page.evaluate(
        """() => { const el = document.activeElement;
        return { tag: el.tagName.toLowerCase(), type: el.type || '', name: el.name || '', id: el.id || '',
                 text: (el.innerText || el.value || '').trim(), checked: !!el.checked }; }"""
    )


def assert_focus_visible(page) -> None:
    """The focused element shows it (WCAG 2.4.7): :focus-visible matches and draws an outline or a ring."""
    style = page.evaluate(
        """() => { const el = document.activeElement, s = getComputedStyle(el);
        return { visible: el.matches(':focus-visible'), outline: s.outlineStyle, width: parseFloat(s.outlineWidth) || 0,
                 shadow: s.boxShadow, what: el.outerHTML.slice(0, 120) }; }"""
    )
    drawn = (style["outline"] != "none" and style["width"] >= 2) or style["shadow"] not in ("", "none")
    assert style["visible"] and drawn, f"no visible focus on {style['what']}: {style}"


def tab_to(page, want, what: str, limit: int = 80) -> dict[str, str]:
    """Presses Tab until the focused element satisfies `want`; fails if it never does (not reachable by keyboard)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if want(now):
            return now
    raise AssertionError(f"{what}: not reached with Tab in {limit} presses on {page.url}")


def open_invitation(page, address: str, *, keyboard: bool = False):
    """In the demo inbox: open the message sent to `address`, then follow its survey link (new tab)."""
    from playwright.sync_api import expect

    page.goto("/demo/boite-de-reception")
    expect_heading(page, "Boîte de réception de démonstration")
    row = page.get_by_role("row").filter(has_text=address)
    expect(row).to_have_count(1)
    subject = row.get_by_role("link")
    if keyboard:
        href = subject.get_attribute("href")
        tab_to(page, lambda f: f["tag"] == "a" and href in page.evaluate("document.activeElement.href"), "the message in the inbox")
        page.keyboard.press("Enter")
    else:
        subject.click()
    page.wait_for_url(re.compile(rf"/demo/boite-de-reception/{UUID}$"))
    link = page.locator("pre").get_by_role("link", name=re.compile(r"\/r\/"))
    expect(link).to_have_count(1)
    with page.context.expect_page() as opened:
        if keyboard:
            tab_to(page, lambda f: f["tag"] == "a" and "/r/" in f["text"], "the survey link in the message")
            page.keyboard.press("Enter")
        else:
            link.click()
    survey = opened.value
    survey.wait_for_load_state()
    assert re.search(r"/r/[^/?]+/?(\?.*)?$", survey.url), survey.url
    return survey


# --- The journey -----------------------------------------------------------------------------


def test_sign_up(journey: Journey, contexts, axe_log, shoot):
    from playwright.sync_api import expect

    page = contexts.desktop().new_page()
    page.goto("/")
    axe_log.audit(page, "home (anonymous)")
    page.get_by_role("link", name="Créer un compte").first.click()
    expect_heading(page, "Créer un compte pour votre organisation")
    axe_log.audit(page, "sign-up form")

    # A first try with a short password and no organisation: the error summary, then fix it.
    page.get_by_label("Votre nom").fill(ADMIN["name"])
    page.get_by_label("Adresse e-mail").fill(ADMIN["email"])
    page.get_by_label("Mot de passe").fill("court")
    page.get_by_role("button", name="Créer le compte").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Certaines informations sont à corriger")
    axe_log.audit(page, "sign-up form with errors")

    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_label("Nom de l'organisation").fill(ADMIN["org"])
    page.get_by_label("Forme juridique").select_option(label="Association")
    page.get_by_label("Code postal du siège").fill("44000")
    page.get_by_label("Effectif salarié").select_option(label="10 à 49 salariés")
    page.get_by_role("button", name="Créer le compte").click()
    page.wait_for_url(re.compile(r"/o/[^/]+/demarche$"))
    journey.slug = path_of(page).split("/")[2]
    expect_heading(page, "Votre démarche de bonnes pratiques")
    expect(page.get_by_text(ADMIN["org"]).first).to_be_visible()
    axe_log.audit(page, "organisation dashboard")
    journey.admin = page


def test_self_diagnosis(journey: Journey, axe_log, shoot):
    from playwright.sync_api import expect

    journey.needs("sign_up")
    page = journey.admin
    page.get_by_role("navigation", name="Étapes de la démarche").get_by_role("link", name="Diagnostic").click()
    expect_heading(page, "Auto-diagnostic")
    axe_log.audit(page, "self-diagnosis: overview (none open)")

    page.get_by_role("radio", name=re.compile("^Référentiel essentiel")).check()
    page.get_by_label("Titre").fill("Auto-diagnostic 2026")
    page.get_by_role("button", name="Ouvrir le diagnostic").click()
    page.wait_for_url(re.compile(rf"/diagnostic/{UUID}/theme/[a-z_-]+$"))

    themes = 0
    levels = ["4", "2", "3", "5", "1", "3", "4", "2"]
    while True:
        themes += 1
        expect(page.get_by_text(re.compile(r"thème \d+ sur 8"))).to_be_visible()
        practices = page.locator("form fieldset[id^='pratique-']")
        assert practices.count() == 2, "the essentiel référentiel asks two practices per theme"
        for i in range(practices.count()):
            p = practices.nth(i)
            p.get_by_role("radio", name=re.compile(rf"^{levels[themes - 1]} — ")).check()
            expect(p.get_by_role("status")).to_contain_text("Réponse enregistrée")
            p.get_by_label("Importance pour votre organisation").select_option(str(3 + (i + themes) % 3))
        if themes == 1:
            page.get_by_label("Commentaire").first.fill("Les statuts sont à jour depuis l'AG de 2025.")
            axe_log.audit(page, "self-diagnosis: theme step")
            shoot(page, "desktop-diagnostic")
        last = page.get_by_role("button", name="Enregistrer et terminer")
        if last.count():
            last.click()
            break
        page.get_by_role("button", name="Enregistrer et continuer").click()
        page.wait_for_load_state()
    assert themes == 8
    page.wait_for_url(re.compile(r"/diagnostic$"))
    expect(page.get_by_text("2 / 2", exact=True)).to_have_count(8)  # "Votre avancement": every theme answered
    axe_log.audit(page, "self-diagnosis: overview (open)")

    page.get_by_role("button", name="Clôturer le diagnostic").click()
    page.wait_for_url(re.compile(rf"/diagnostic/{UUID}/resultats$"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    axe_log.audit(page, "self-diagnosis: results")


def test_stakeholder_map(journey: Journey, axe_log, shoot, tmp_path):
    from playwright.sync_api import expect

    journey.needs("sign_up")
    page = journey.admin
    page.get_by_role("navigation", name="Étapes de la démarche").get_by_role("link", name="Parties prenantes").click()
    expect_heading(page, "Cartographie des parties prenantes")
    axe_log.audit(page, "stakeholder map (empty)")

    for category, influence, importance, salience, engagement in (
        ("Salariés", "4", "5", ["Légitimité", "Urgence"], "Impliquer"),
        ("Bénévoles", "2", "4", ["Légitimité"], "Consulter"),
    ):
        page.get_by_role("link", name="Ajouter un groupe").click()
        expect_heading(page, "Nouveau groupe de parties prenantes")
        if category == "Salariés":
            axe_log.audit(page, "stakeholder group form")
        page.get_by_label("Catégorie", exact=True).select_option(label=category)
        page.get_by_role("combobox", name=re.compile("^Influence")).select_option(influence)
        page.get_by_role("combobox", name=re.compile(r"^Importance \/ intérêt")).select_option(importance)
        for flag in salience:
            page.get_by_role("checkbox", name=re.compile(f"^{flag}")).check()
        page.get_by_role("radio", name=engagement).check()
        page.get_by_role("button", name="Créer le groupe").click()
        page.wait_for_url(re.compile(r"/parties-prenantes/$"))
        expect(page.get_by_role("rowheader", name=category)).to_be_visible()

    # The contacts, from a spreadsheet saved as CSV with `;` (as French Excel does).
    page.get_by_role("link", name="Importer des contacts").first.click()
    expect_heading(page, "Importer des contacts")
    axe_log.audit(page, "contact import form")
    csv_file = tmp_path / "contacts.csv"
    csv_file.write_bytes(b"\xef\xbb\xbf" + CONTACTS_CSV.encode("utf-8"))
    page.get_by_label("Fichier CSV ou XLSX").set_input_files(csv_file)
    page.get_by_role("button", name="Voir l'aperçu").click()
    expect_heading(page, "Aperçu de l'import")
    expect(page.get_by_role("status")).to_contain_text("4 contacts prêts à être importés")
    expect(page.get_by_role("cell", name=EMPLOYEES["chloe"])).to_be_visible()
    axe_log.audit(page, "contact import preview")
    page.get_by_role("button", name="Importer 4 contacts").click()
    expect(page.get_by_text("4 contacts importés.")).to_be_visible()
    axe_log.audit(page, "contacts list after import")

    page.get_by_role("navigation", name="Parties prenantes").get_by_role("link", name="Cartographie").click()
    expect_heading(page, "Cartographie des parties prenantes")
    table = page.get_by_role("table", name=re.compile("Groupes de parties prenantes"))
    expect(table.get_by_role("row").filter(has_text="Salariés")).to_contain_text("Gérer de près")
    expect(table.get_by_role("row").filter(has_text="Salariés").get_by_role("cell").nth(4)).to_have_text("3")
    expect(page.locator("figure svg").first).to_be_visible()
    axe_log.audit(page, "stakeholder map (two groups)")
    shoot(page, "desktop-cartographie")


def test_campaign_created_and_launched(journey: Journey, axe_log, shoot):
    from playwright.sync_api import expect

    journey.needs("stakeholder_map")
    page = journey.admin
    page.get_by_role("navigation", name="Étapes de la démarche").get_by_role("link", name="Consultations").click()
    expect_heading(page, "Consultations des parties prenantes")
    axe_log.audit(page, "campaigns list (empty)")
    page.get_by_role("link", name="Nouvelle consultation").click()
    expect_heading(page, "Nouvelle consultation")
    axe_log.audit(page, "new campaign form")

    page.get_by_label("Titre").fill(CAMPAIGN_TITLE)
    page.get_by_label("Référentiel").select_option(value="essentiel")
    page.get_by_label("Votre message aux parties prenantes").fill(
        "Merci de prendre dix minutes pour nous dire comment vous voyez nos pratiques. Vos réponses sont anonymes."
    )
    page.get_by_label("Seuil d'anonymat").fill("3")
    audience = page.get_by_role("group", name="Public consulté")
    audience.get_by_role("checkbox", name=re.compile("^Salariés")).check()
    audience.get_by_role("checkbox", name=re.compile("^Bénévoles")).check()
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    page.wait_for_url(re.compile(rf"/consultations/{UUID}$"))
    journey.campaign_id = path_of(page).rsplit("/", 1)[1]
    expect_heading(page, CAMPAIGN_TITLE)
    # One volunteer only: below the threshold, the page warns before launching.
    expect(page.get_by_text("À savoir avant de lancer")).to_be_visible()
    axe_log.audit(page, "campaign draft (launch check with a warning)")

    page.get_by_role("button", name="Lancer la consultation").click()
    expect(page.get_by_role("status")).to_contain_text("Cochez la case")
    axe_log.audit(page, "campaign draft: launch refused until the warnings are accepted")
    page.get_by_label("J'ai lu les avertissements et je lance quand même").check()
    page.get_by_role("button", name="Lancer la consultation").click()
    page.wait_for_url(re.compile(rf"/consultations/{journey.campaign_id}$"))
    expect(page.get_by_role("heading", name="Participation")).to_be_visible()
    participation = page.get_by_role("table", name=re.compile("^Participation par groupe"))
    expect(participation.get_by_role("row").filter(has_text="Total")).to_contain_text("4")
    axe_log.audit(page, "campaign open (participation)")


def test_invitations_reach_the_demo_inbox(journey: Journey, live_app, contexts, axe_log):
    from playwright.sync_api import expect

    journey.needs("campaign_created_and_launched")
    for address in (*EMPLOYEES.values(), VOLUNTEER):
        live_app.wait_for_mail(address)
    page = contexts.desktop().new_page()
    page.goto("/demo/boite-de-reception")
    for address in (*EMPLOYEES.values(), VOLUNTEER):
        expect(page.get_by_role("row").filter(has_text=address)).to_have_count(1)
    axe_log.audit(page, "demo inbox (desktop)")
    page.get_by_role("row").filter(has_text=VOLUNTEER).get_by_role("link").click()
    expect(page.locator("pre")).to_contain_text("/r/")
    axe_log.audit(page, "demo inbox: invitation message (desktop)")
    # The email itself, as a mail client shows it (its own document, outside the inbox's sandboxed frame).
    email_html = page.locator("iframe[title='Version HTML du message']").get_attribute("srcdoc")
    email = page.context.new_page()
    email.set_content(email_html)
    axe_log.audit(email, "invitation email (HTML part)")
    email.close()
    # The volunteer won't answer: keep the link to see the closed-campaign page later.
    journey.links["dominique"] = path_of_link(page.locator("pre").get_by_role("link", name=re.compile(r"\/r\/")).get_attribute("href"))
    page.context.close()


def path_of_link(href: str) -> str:
    return re.sub(r"^https?://[^/]+", "", href)


def test_first_respondent_answers_on_a_phone(journey: Journey, contexts, axe_log, shoot):
    from playwright.sync_api import expect

    journey.needs("invitations_reach_the_demo_inbox")
    phone = contexts.phone()
    inbox = phone.new_page()
    survey = open_invitation(inbox, EMPLOYEES["alice"])
    axe_log.audit(inbox, "demo inbox: invitation message (phone)")
    journey.links["alice"] = path_of(survey).split("?")[0]
    expect_heading(survey, "Votre avis compte")
    expect(survey.get_by_text(re.compile("^Vos réponses sont anonymes :"))).to_be_visible()
    axe_log.audit(survey, "respondent: welcome (phone)")
    shoot(survey, "phone-accueil")
    survey.get_by_role("link", name="Commencer").tap()

    step = 0
    while True:
        step += 1
        survey.wait_for_url(re.compile(rf"/etape/{step}\b"))
        expect(survey.get_by_text(re.compile(rf"Étape {step} sur \d+")).first).to_be_visible()
        answer_questions(survey, level=str(2 + step % 3), importance="4", touch=True)
        axe_log.audit(survey, f"respondent: step {step} (phone)")
        if step == 1:
            survey.locator("textarea").first.fill("Plus de réunions d'équipe sur le projet associatif.")
            survey.locator("textarea").first.blur()
            survey.evaluate("window.scrollTo(0, 0)")
            shoot(survey, "phone-questionnaire")
        button = survey.get_by_role("button", name=re.compile("^Enregistrer et (continuer|finir)$"))
        finishing = button.inner_text().strip() == "Enregistrer et finir"
        button.tap()
        if finishing:
            break
    journey.steps_seen = step
    survey.wait_for_url(re.compile(r"/envoyer\b"))
    expect_heading(survey, "Prêt à envoyer ?")
    axe_log.audit(survey, "respondent: review (phone)")
    survey.get_by_role("button", name="Envoyer mes réponses").tap()
    expect_heading(survey, "Merci !")
    axe_log.audit(survey, "respondent: thanks (phone)")
    shoot(survey, "phone-merci")
    phone.close()


def test_second_respondent_leaves_half_way_and_comes_back(journey: Journey, contexts, axe_log):
    from playwright.sync_api import expect

    journey.needs("first_respondent_answers_on_a_phone")
    phone = contexts.phone()
    survey = open_invitation(phone.new_page(), EMPLOYEES["bruno"])
    journey.links["bruno"] = path_of(survey).split("?")[0]
    survey.get_by_role("link", name="Commencer").tap()
    survey.wait_for_url(re.compile(r"/etape/1\b"))
    answered = answer_questions(survey, level="5", importance="5", touch=True)
    survey.get_by_role("button", name="Enregistrer et continuer").tap()
    survey.wait_for_url(re.compile(r"/etape/2\b"))
    # On step 2, one answer only (saved as given, no button pressed), then the phone is put away.
    first = survey.locator("fieldset.question").first
    first.get_by_role("radio", name=re.compile("^1 — ")).check()
    wait_saved(first)
    phone.close()

    # Later, another browser session (say the next day), the same link from the same email.
    later = contexts.phone()
    survey = later.new_page()
    survey.goto(journey.links["bruno"])
    expect_heading(survey, "Votre avis compte")
    resume = survey.get_by_role("link", name="Reprendre")
    expect(resume).to_be_visible()
    axe_log.audit(survey, "respondent: welcome when resuming (phone)")
    resume.tap()
    survey.wait_for_url(re.compile(r"/etape/1\b"))
    questions = survey.locator("fieldset.question")
    assert questions.count() == answered
    for i in range(answered):
        expect(questions.nth(i).get_by_role("radio", name=re.compile("^5 — "))).to_be_checked()
        expect(questions.nth(i).get_by_role("combobox")).to_have_value("5")
    axe_log.audit(survey, "respondent: step 1 with earlier answers (phone)")
    survey.get_by_role("button", name="Enregistrer et continuer").tap()
    survey.wait_for_url(re.compile(r"/etape/2\b"))
    expect(survey.locator("fieldset.question").first.get_by_role("radio", name=re.compile("^1 — "))).to_be_checked()

    step = 2
    while True:
        answer_questions(survey, level="4")
        button = survey.get_by_role("button", name=re.compile("^Enregistrer et (continuer|finir)$"))
        finishing = button.inner_text().strip() == "Enregistrer et finir"
        button.tap()
        if finishing:
            break
        step += 1
        survey.wait_for_url(re.compile(rf"/etape/{step}\b"))
    survey.wait_for_url(re.compile(r"/envoyer\b"))
    expect(survey.get_by_text(re.compile(r"Vous avez répondu à \d+ question"))).to_be_visible()
    survey.get_by_role("button", name="Envoyer mes réponses").tap()
    expect_heading(survey, "Merci !")
    later.close()


def test_third_respondent_uses_the_keyboard_alone(journey: Journey, contexts, axe_log):
    """No click, no tap: Tab, Space, arrows, typing and Enter — from the inbox to the thanks page, focus always visible."""
    from playwright.sync_api import expect

    journey.needs("invitations_reach_the_demo_inbox")
    phone = contexts.phone()
    survey = open_invitation(phone.new_page(), EMPLOYEES["chloe"], keyboard=True)
    journey.links["chloe"] = path_of(survey).split("?")[0]
    expect_heading(survey, "Votre avis compte")

    # The skip link comes first and moves to the content.
    survey.keyboard.press("Tab")
    assert focused(survey)["text"] == "Aller au contenu"
    assert_focus_visible(survey)
    survey.keyboard.press("Enter")
    assert focused(survey)["id"] == "contenu"
    tab_to(survey, lambda f: f["text"] == "Commencer", "the start button")
    assert_focus_visible(survey)
    survey.keyboard.press("Enter")

    step = 0
    while True:
        step += 1
        survey.wait_for_url(re.compile(rf"/etape/{step}\b"))
        questions = survey.locator("fieldset.question")
        names = [questions.nth(i).locator("input[type=radio]").first.get_attribute("name") for i in range(questions.count())]
        for i, name in enumerate(names):
            # Tab into the question's radio group: nothing checked yet, so focus lands on its first choice.
            now = tab_to(survey, lambda f, n=name: f["type"] == "radio" and f["name"] == n, f"question {i + 1} of step {step}")
            assert now["id"].endswith("-1"), now
            assert_focus_visible(survey)
            survey.keyboard.press("Space")  # choose "1 — Pas du tout"
            for _ in range(2 + (i + step) % 3):  # then move down to 3, 4 or 5
                survey.keyboard.press("ArrowDown")
            wanted = str(1 + 2 + (i + step) % 3)
            expect(questions.nth(i).get_by_role("radio", name=re.compile(rf"^{wanted} — "))).to_be_checked()
            survey.keyboard.press("Tab")  # the importance list
            assert focused(survey)["tag"] == "select"
            assert_focus_visible(survey)
            for _ in range(4):
                survey.keyboard.press("ArrowDown")  # "4 — Important"
            expect(questions.nth(i).get_by_role("combobox")).to_have_value("4")
            if i == 0 and step == 1:
                survey.keyboard.press("Tab")
                assert focused(survey)["tag"] == "textarea"
                survey.keyboard.type("Répondu au clavier seulement.")
            wait_saved(questions.nth(i))
        if step == 1:
            axe_log.audit(survey, "respondent: step 1 answered with the keyboard (phone)")
        now = tab_to(survey, lambda f: f["tag"] == "button" and f["text"].startswith("Enregistrer et"), "the save button")
        assert_focus_visible(survey)
        survey.keyboard.press("Enter")
        if now["text"] == "Enregistrer et finir":
            break
    survey.wait_for_url(re.compile(r"/envoyer\b"))
    expect_heading(survey, "Prêt à envoyer ?")
    tab_to(survey, lambda f: f["text"] == "Envoyer mes réponses", "the send button")
    survey.keyboard.press("Enter")
    expect_heading(survey, "Merci !")
    assert step == journey.steps_seen or journey.steps_seen == 0
    phone.close()


def test_used_and_bad_links_say_so(journey: Journey, contexts, axe_log):
    journey.needs("first_respondent_answers_on_a_phone")
    page = contexts.phone().new_page()
    page.goto(journey.links["alice"])
    expect_heading(page, "Votre réponse est déjà enregistrée")
    axe_log.audit(page, "respondent: link already used (phone)")
    response = page.goto("/r/xxxx")
    assert response is not None and response.status == 404
    expect_heading(page, "Ce lien n'est pas valide")
    axe_log.audit(page, "respondent: bad link (phone)")
    page.context.close()


def test_campaign_closed(journey: Journey, contexts, axe_log, shoot):
    from playwright.sync_api import expect

    journey.needs("campaign_created_and_launched")
    page = journey.admin
    page.goto(f"/o/{journey.slug}/consultations/{journey.campaign_id}")
    participation = page.get_by_role("table", name=re.compile("^Participation par groupe"))
    salaries = participation.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Salariés"))
    expect(salaries.get_by_role("cell").nth(1)).to_have_text("3")  # answered: counts only, never who
    shoot(page, "desktop-consultation")
    page.get_by_role("button", name="Clôturer la consultation").click()
    expect(page.get_by_role("link", name="Voir les résultats")).to_be_visible()
    axe_log.audit(page, "campaign closed")

    # The volunteer's link now says the consultation is over.
    phone = contexts.phone().new_page()
    phone.goto(journey.links["dominique"])
    expect_heading(phone, "La consultation est terminée")
    axe_log.audit(phone, "respondent: campaign closed (phone)")
    phone.context.close()


def test_results_and_priorities(journey: Journey, axe_log, shoot):
    from playwright.sync_api import expect

    journey.needs("campaign_closed")
    page = journey.admin
    page.get_by_role("link", name="Voir les résultats").click()
    page.wait_for_url(re.compile(rf"/o/{journey.slug}/resultats/{journey.campaign_id}$"))
    expect_heading(page, re.compile(f"Résultats.*{CAMPAIGN_TITLE}"))
    expect(page.get_by_text(re.compile(r"^3 réponses\."))).to_be_visible()
    # The volunteers (one contact, no answer) stay below the threshold; the employees are shown.
    participation = page.get_by_role("table").filter(has=page.get_by_role("columnheader", name="Réponses")).first
    expect(participation.get_by_role("row").filter(has_text="Salariés")).to_contain_text("3")
    axe_log.audit(page, "campaign results")
    shoot(page, "desktop-resultats")

    expect(page.get_by_role("heading", name="Axes de progrès")).to_be_visible()
    priorities = page.locator("#priorites + p + ol > li")
    assert priorities.count() >= 1, "no priority listed"
    first = priorities.first
    label = first.locator("strong").first.inner_text().strip()
    first.get_by_role("button", name=re.compile("^Retenir")).click()
    page.wait_for_load_state()
    pinned = page.locator("#priorites + p + ol > li").filter(has_text=label)
    expect(pinned.get_by_text("retenue", exact=True)).to_be_visible()
    axe_log.audit(page, "campaign results, a priority pinned")
    journey.priority = label

    page.get_by_role("navigation", name="Étapes de la démarche").get_by_role("link", name="Résultats").click()
    expect(page.get_by_role("link", name=re.compile(CAMPAIGN_TITLE)).first).to_be_visible()
    axe_log.audit(page, "results index")


def test_action_from_a_priority_and_general_assembly_report(journey: Journey, axe_log, shoot):
    from playwright.sync_api import expect

    journey.needs("results_and_priorities")
    page = journey.admin
    page.get_by_role("navigation", name="Étapes de la démarche").get_by_role("link", name="Plan d'action").click()
    expect_heading(page, "Plan d'action")
    axe_log.audit(page, "action plan (empty)")
    page.get_by_role("link", name="Créer à partir des priorités").click()
    expect_heading(page, "Des priorités aux actions")
    expect(page.get_by_text(CAMPAIGN_TITLE).first).to_be_visible()
    axe_log.audit(page, "plan: priorities")
    item = page.locator("ol.steps > li").filter(has_text=journey.priority)
    expect(item.get_by_text("retenue", exact=True)).to_be_visible()  # pinned on the results page
    item.get_by_role("link", name=re.compile("^Créer une action")).click()

    expect_heading(page, "Nouvelle action")
    expect(page.get_by_text("À partir de la priorité :")).to_be_visible()
    axe_log.audit(page, "action form, prefilled from a priority")
    title = page.get_by_label("Titre de l'action")
    if not title.input_value():
        title.fill("Réunir l'équipe chaque trimestre sur le projet associatif")
    action_title = title.input_value()
    page.get_by_label("Objectif à 1 an").fill("Quatre réunions d'équipe sur le projet dans l'année.")
    page.get_by_label("Objectif à 3 ans").fill("Un projet associatif réécrit avec les salariés.")
    page.get_by_label("Responsable").select_option(label=ADMIN["name"])
    page.get_by_role("checkbox", name="Salariés").check()
    page.get_by_label("Indicateur").first.fill("Réunions d'équipe sur le projet")
    page.get_by_label("Unité").first.fill("par an")
    page.get_by_label("Valeur de départ").first.fill("1")
    page.get_by_label("Cible").first.fill("4")
    page.get_by_role("button", name="Enregistrer l'action").click()
    page.wait_for_url(re.compile(rf"/o/{journey.slug}/plan/actions/{UUID}$"))
    expect_heading(page, action_title)
    axe_log.audit(page, "action page")

    page.get_by_role("navigation", name="Étapes de la démarche").get_by_role("link", name="Plan d'action").click()
    expect(page.get_by_role("link", name=action_title)).to_be_visible()
    axe_log.audit(page, "action plan (one action)")
    shoot(page, "desktop-plan")

    page.get_by_role("link", name="Rapport pour l'AG").click()
    page.wait_for_url(re.compile(rf"/o/{journey.slug}/plan/rapport$"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_text(action_title).first).to_be_visible()
    axe_log.audit(page, "general-assembly report (HTML)")
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger le PDF").click()
    pdf = download.value
    assert pdf.suggested_filename.endswith(".pdf"), pdf.suggested_filename
    with open(pdf.path(), "rb") as file:
        data = file.read()
    assert data[:5] == b"%PDF-" and len(data) > 5_000, len(data)
