"""Tests for emails.rendering: every kind x lang, escaping, anonymity wording."""

from __future__ import annotations

import html
from html.parser import HTMLParser

import pytest
from jinja2.exceptions import UndefinedError

from emails.rendering import CONTEXT_KEYS, KINDS, LANGS, RenderedEmail, render_email

EVIL_ORG = "<script>alert(1)</script> & Cie"
ESCAPED_EVIL_ORG = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Cie"

# Every URL carries a query string with "&" so HTML escaping is observable.
URL_KEYS = {
    "invitation": ("survey_url", "unsubscribe_url"),
    "reminder": ("survey_url", "unsubscribe_url"),
    "verify_email": ("verify_url",),
    "password_reset": ("reset_url",),
    "member_invitation": ("accept_url",),
    "campaign_closed": ("results_url",),
    "action_reminder": ("action_url",),
}

SURVEY_CONTEXT = {
    "org_name": "Les Jardins Solidaires",
    "org_logo_url": None,
    "campaign_title": "Baromètre des bénévoles 2026",
    "org_message": None,
    "survey_url": "https://ess.example/r/AbC123?lang=fr&src=mail",
    "closes_on": "12 décembre 2026",
    "unsubscribe_url": "https://ess.example/unsubscribe/Xy9?org=42&t=zz",
    "threshold": 7,
    "duration_minutes": 8,
}

CONTEXTS: dict[str, dict] = {
    "invitation": dict(SURVEY_CONTEXT),
    "reminder": dict(SURVEY_CONTEXT),
    "verify_email": {
        "user_name": "Camille",
        "verify_url": "https://ess.example/verify?token=abc.def&u=9",
        "expires_hours": 48,
    },
    "password_reset": {
        "reset_url": "https://ess.example/reset?token=r3s3t&u=9",
        "expires_minutes": 30,
    },
    "member_invitation": {
        "org_name": "Les Jardins Solidaires",
        "inviter_name": "Dominique Martin",
        "role_label": "Administrateur",
        "accept_url": "https://ess.example/team/accept?i=77&k=secret",
        "expires_days": 7,
    },
    "campaign_closed": {
        "org_name": "Les Jardins Solidaires",
        "campaign_title": "Baromètre des bénévoles 2026",
        "invited": 120,
        "answered": 54,
        "rate_percent": "45 %",
        "results_url": "https://ess.example/org/42/campaigns/9/results?tab=summary&g=all",
    },
    "action_reminder": {
        "org_name": "Les Jardins Solidaires",
        "action_title": "Organiser un temps d'accueil des nouveaux bénévoles",
        "due_on": "15 janvier 2027",
        "action_url": "https://ess.example/org/42/actions/3?from=mail&x=1",
    },
}

ANONYMITY = {
    "fr": (
        "Vos réponses sont anonymes : l'organisation ne saura pas qui a répondu ni ce que vous "
        "avez répondu ; elle ne voit que des résultats par groupe d'au moins {n} personnes."
    ),
    "en": (
        "Your answers are anonymous: the organisation will not know who answered or what you "
        "answered; it only sees results for groups of at least {n} people."
    ),
}

CASES = [(kind, lang) for kind in KINDS for lang in LANGS]


class _Collector(HTMLParser):
    """Collects tags, attributes and text; html.parser unescapes attribute values."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: dict[str, list[dict[str, str | None]]] = {}
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.setdefault(tag, []).append(dict(attrs))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        self.text.append(data)


def parse(markup: str) -> _Collector:
    parser = _Collector()
    parser.feed(markup)
    parser.close()
    return parser


def render(kind: str, lang: str, **overrides) -> RenderedEmail:
    return render_email(kind, lang=lang, context={**CONTEXTS[kind], **overrides})


def escaped(value: str) -> str:
    """What Jinja autoescape (markupsafe) produces for a URL without quotes."""
    assert '"' not in value and "'" not in value
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---------------------------------------------------------------- API surface


def test_kinds_and_langs_are_as_specified():
    assert LANGS == ("fr", "en")
    assert set(KINDS) == set(URL_KEYS) == set(CONTEXTS)
    for kind in KINDS:
        keys = CONTEXT_KEYS[kind]
        # test fixtures use exactly the documented keys (optional ones may be absent)
        assert set(keys.required) <= set(CONTEXTS[kind]) <= set(keys.required) | set(keys.optional)


def test_rendered_email_is_frozen():
    email = render("password_reset", "fr")
    with pytest.raises(Exception):
        email.subject = "x"  # type: ignore[misc]


def test_unknown_kind_raises_value_error():
    with pytest.raises(ValueError, match="kind"):
        render_email("newsletter", lang="fr", context={})


def test_unknown_lang_raises_value_error():
    with pytest.raises(ValueError, match="lang"):
        render_email("invitation", lang="de", context=CONTEXTS["invitation"])


def test_template_path_tricks_are_rejected():
    with pytest.raises(ValueError):
        render_email("../_layout", lang="fr", context={})
    with pytest.raises(ValueError):
        render_email("invitation", lang="fr/../en", context=CONTEXTS["invitation"])


# ---------------------------------------------------------------- every kind x lang


@pytest.mark.parametrize(("kind", "lang"), CASES)
def test_renders_subject_html_and_text(kind, lang):
    email = render(kind, lang)

    assert isinstance(email, RenderedEmail)
    assert email.subject.strip() == email.subject and email.subject
    assert "\n" not in email.subject and "\r" not in email.subject
    assert "{{" not in email.subject + email.html + email.text
    assert "{%" not in email.subject + email.html + email.text

    doc = parse(email.html)
    assert email.html.lstrip().lower().startswith("<!doctype html>")
    assert "html" in doc.tags and "body" in doc.tags and "head" in doc.tags
    assert doc.attrs["html"][0].get("lang") == lang
    assert f'<html lang="{lang}"' in email.html
    assert "title" in doc.tags
    assert f"<title>{email.subject}</title>" in html.unescape(email.html)

    # fonts={} : no external font loading
    assert "fonts.googleapis" not in email.html
    # no image is needed: without a logo there is no <img> at all
    assert "img" not in doc.tags

    hrefs = [a.get("href") for a in doc.attrs.get("a", [])]
    for key in URL_KEYS[kind]:
        url = CONTEXTS[kind][key]
        assert "&" in url
        assert url in hrefs, f"{key} not linked"
        assert f'href="{escaped(url)}"' in email.html
        assert url not in email.html  # the raw "&" form must never leak into HTML
        assert url in email.text  # verbatim, copy-pasteable
        assert escaped(url) not in email.text

    # the first (main) URL is both a button and a visible copy-paste link
    main_url = CONTEXTS[kind][URL_KEYS[kind][0]]
    assert hrefs.count(main_url) >= 2
    assert main_url in "".join(doc.text)

    # plain text is not HTML
    assert "<" not in email.text and "&amp;" not in email.text
    assert email.text.endswith("\n") and "\n\n\n" not in email.text


@pytest.mark.parametrize(("kind", "lang"), CASES)
def test_button_is_large_and_high_contrast(kind, lang):
    email = render(kind, lang)
    main_url = escaped(CONTEXTS[kind][URL_KEYS[kind][0]])
    start = email.html.index(f'<a href="{main_url}"')
    tag = email.html[start : email.html.index(">", start)]
    assert "background:#1f5f3f" in tag
    assert "color:#ffffff" in tag
    assert "font-size:18px" in tag


@pytest.mark.parametrize(("kind", "lang"), CASES)
def test_preheader_present(kind, lang):
    email = render(kind, lang)
    body = email.html[email.html.index("<body") :]
    # mj-preview renders a hidden div as the first element of <body>
    assert body.split(">", 1)[1].startswith('<div style="display:none;')
    hidden = body.split(">", 2)[2].split("</div>", 1)[0]
    assert len(hidden.strip()) > 10


@pytest.mark.parametrize(("kind", "lang"), CASES)
def test_missing_required_keys_raise(kind, lang):
    for key in CONTEXT_KEYS[kind].required:
        ctx = {k: v for k, v in CONTEXTS[kind].items() if k != key}
        with pytest.raises(UndefinedError, match=key):
            render_email(kind, lang=lang, context=ctx)


@pytest.mark.parametrize(("kind", "lang"), CASES)
def test_optional_keys_may_be_omitted(kind, lang):
    keys = CONTEXT_KEYS[kind]
    ctx = {k: CONTEXTS[kind][k] for k in keys.required}
    email = render_email(kind, lang=lang, context=ctx)
    assert email.subject and email.text and email.html


# ---------------------------------------------------------------- escaping

ORG_KINDS = [k for k in KINDS if "org_name" in CONTEXT_KEYS[k].required]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", ORG_KINDS)
def test_org_name_escaped_in_html_raw_in_text(kind, lang):
    email = render(kind, lang, org_name=EVIL_ORG)
    assert ESCAPED_EVIL_ORG in email.html
    assert "<script" not in email.html.lower()
    assert "script" not in parse(email.html).tags
    assert EVIL_ORG in email.text
    assert "&lt;" not in email.text and "&amp;" not in email.text


@pytest.mark.parametrize("lang", LANGS)
def test_subject_not_html_escaped_and_single_line(lang):
    email = render("invitation", lang, org_name="A & B\r\nBcc: evil@example.org", campaign_title="Titre\nsur deux lignes")
    assert "A & B Bcc: evil@example.org" in email.subject
    assert "\n" not in email.subject and "\r" not in email.subject
    assert "&amp;" not in email.subject


@pytest.mark.parametrize("lang", LANGS)
def test_user_name_escaped(lang):
    email = render("verify_email", lang, user_name="<b>Zoé</b>")
    assert "&lt;b&gt;Zoé&lt;/b&gt;" in email.html
    assert "<b>Zoé</b>" in email.text


# ---------------------------------------------------------------- invitation / reminder

SURVEY_KINDS = ("invitation", "reminder")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", SURVEY_KINDS)
def test_anonymity_sentence_with_threshold(kind, lang):
    email = render(kind, lang, threshold=11)
    sentence = ANONYMITY[lang].format(n=11)
    assert sentence in email.text
    assert sentence in html.unescape(" ".join("".join(parse(email.html).text).split()))
    assert ANONYMITY[lang].format(n=7) not in email.text


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", SURVEY_KINDS)
def test_unsubscribe_link_in_both_parts(kind, lang):
    email = render(kind, lang, org_name="Les Jardins & Co")
    url = CONTEXTS[kind]["unsubscribe_url"]
    assert url in email.text
    links = [a for a in parse(email.html).attrs["a"] if a.get("href") == url]
    assert len(links) == 1
    label = {"fr": "Ne plus recevoir d'e-mails de Les Jardins & Co", "en": "Stop receiving emails from Les Jardins & Co"}[lang]
    assert label in email.text
    assert label in html.unescape(email.html)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", SURVEY_KINDS)
def test_duration_and_closing_date(kind, lang):
    email = render(kind, lang, duration_minutes=12, closes_on="31 mars 2027")
    for part in (email.text, email.html):
        assert "12 minutes" in part
        assert "31 mars 2027" in part
    one = render(kind, lang, duration_minutes=1)
    assert "1 minute." in one.text and "1 minutes" not in one.text


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", SURVEY_KINDS)
def test_org_message_escaped_with_line_breaks(kind, lang):
    message = "Bonjour à tous,\r\nmerci <b>d'avance</b> & à bientôt\n\nL'équipe"
    email = render(kind, lang, org_message=message)
    assert "Bonjour à tous,<br />\nmerci &lt;b&gt;d&#39;avance&lt;/b&gt; &amp; à bientôt<br /><br />\nL&#39;équipe" in email.html
    assert "<b>d" not in email.html
    assert "Bonjour à tous,\nmerci <b>d'avance</b> & à bientôt\n\nL'équipe" in email.text


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("message", [None, "", "  \n \n"])
def test_empty_org_message_is_omitted(lang, message):
    email = render("invitation", lang, org_message=message)
    marker = {"fr": "vous écrit", "en": "Message from "}[lang]
    assert marker not in email.text and marker not in email.html


@pytest.mark.parametrize("lang", LANGS)
def test_reminder_is_worded_for_everyone(lang):
    email = render("reminder", lang)
    phrase = {
        "fr": "Si vous avez déjà répondu, merci, ignorez ce message.",
        "en": "If you have already answered, thank you, please ignore this message.",
    }[lang]
    assert phrase in email.text
    assert phrase in html.unescape(email.html)


# ---------------------------------------------------------------- logo / header


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", ORG_KINDS)
def test_logo_has_alt_and_escaped_src(kind, lang):
    logo = "https://cdn.example/logo.png?w=120&h=60"
    email = render(kind, lang, org_logo_url=logo)
    imgs = parse(email.html).attrs["img"]
    assert [i["src"] for i in imgs] == [logo]
    assert "Les Jardins Solidaires" in imgs[0]["alt"]
    assert f'src="{escaped(logo)}"' in email.html
    assert logo not in email.text


@pytest.mark.parametrize("bad", ["javascript:alert(1)", "data:image/png;base64,AAAA", "//evil.example/x.png", "logo.png"])
def test_non_http_logo_urls_are_dropped(bad):
    email = render("invitation", "fr", org_logo_url=bad)
    assert "img" not in parse(email.html).tags
    assert "javascript" not in email.html


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", ORG_KINDS)
def test_header_shows_org_name(kind, lang):
    email = render(kind, lang)
    assert "Les Jardins Solidaires" in "".join(parse(email.html).text)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", ("verify_email", "password_reset"))
def test_platform_emails_use_platform_name(kind, lang):
    assert "ESS Pratiques" in render(kind, lang).html


# ---------------------------------------------------------------- other kinds


@pytest.mark.parametrize("lang", LANGS)
def test_password_reset_says_ignore_if_not_requested(lang):
    email = render("password_reset", lang, expires_minutes=45)
    phrase = {
        "fr": "Si vous n'avez pas fait cette demande, ignorez cet e-mail",
        "en": "If you did not ask for this, ignore this email",
    }[lang]
    assert phrase in email.text and phrase in html.unescape(email.html)
    assert "45 minutes" in email.text and "45 minutes" in email.html


@pytest.mark.parametrize("lang", LANGS)
def test_verify_email_without_user_name(lang):
    email = render_email("verify_email", lang=lang, context={"verify_url": "https://e.x/v?a=1&b=2", "expires_hours": 1})
    greeting = {"fr": "Bonjour,", "en": "Hello,"}[lang]
    assert email.text.startswith(greeting)
    assert {"fr": "1 heure.", "en": "1 hour."}[lang] in email.text
    assert "None" not in email.text and "None" not in email.html


@pytest.mark.parametrize("lang", LANGS)
def test_member_invitation_content(lang):
    email = render("member_invitation", lang, role_label="Éditrice <ext>", expires_days=3)
    for part in (email.text, html.unescape(email.html)):
        assert "Dominique Martin" in part
        assert "Éditrice <ext>" in part
        assert "3 " in part
    assert "Éditrice &lt;ext&gt;" in email.html


@pytest.mark.parametrize("lang", LANGS)
def test_campaign_closed_counts(lang):
    email = render("campaign_closed", lang, invited=80, answered=33, rate_percent="41 %")
    for part in (email.text, email.html):
        assert "80" in part and "33" in part and "41 %" in part
    assert "Baromètre des bénévoles 2026" in email.subject


@pytest.mark.parametrize("lang", LANGS)
def test_action_reminder_content(lang):
    email = render("action_reminder", lang)
    for part in (email.text, html.unescape(email.html)):
        assert "Organiser un temps d'accueil des nouveaux bénévoles" in part
        assert "15 janvier 2027" in part
    assert "15 janvier 2027" in email.subject


def test_reserved_context_names_cannot_override_renderer():
    ctx = {**CONTEXTS["password_reset"], "lang": "de", "subject": "Injected", "logo_url": "javascript:x"}
    email = render_email("password_reset", lang="fr", context=ctx)
    assert '<html lang="fr"' in email.html
    assert "Injected" not in email.html and email.subject != "Injected"
    assert "javascript" not in email.html
