"""The `esspratiques` command: serve, migrate, seed-demo, create-admin, worker, send-outbox, erase-expired-contacts."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import re
import sys


class RedactRespondentLinks(logging.Filter):
    """Access-log lines never carry a respondent's link token (anonymity: no log ties a link to a response)."""

    _pattern = re.compile(r"(/r/|/q/|/desinscription/)[^\s/?\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(self._pattern.sub(r"\1…", a) if isinstance(a, str) else a for a in record.args)
        return True


async def _migrate() -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    response = await run_forwards(app_name="all")
    if not response.success:
        raise SystemExit(f"Échec des migrations : {response.message}")


def cmd_migrate(_args: argparse.Namespace) -> None:
    asyncio.run(_migrate())
    print("Base de données à jour.")


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from api.settings import get_settings

    get_settings()  # fail fast on a bad configuration (e.g. no SECRET_KEY in production)
    logging.getLogger("uvicorn.access").addFilter(RedactRespondentLinks())
    host = args.host or os.environ.get("HOST", "127.0.0.1")
    port = int(args.port or os.environ.get("PORT", "8000"))
    print(f"ESS Pratiques : http://{host}:{port}")
    uvicorn.run("api.asgi:app", host=host, port=port, proxy_headers=True, workers=1, log_level="info")


def cmd_seed_demo(_args: argparse.Namespace) -> None:
    from api.demo import DEMO_EMAIL, DEMO_PASSWORD, seed_demo

    created = asyncio.run(seed_demo())
    print("Organisation de démonstration " + ("créée." if created else "déjà présente (rien n'a été dupliqué)."))
    print(f"Connexion de démonstration : {DEMO_EMAIL} / {DEMO_PASSWORD}")


def cmd_create_admin(args: argparse.Namespace) -> None:
    from api.errors import ValidationFailed
    from organisations.services import OrganisationInput, create_admin

    password = args.password or os.environ.get("ESSP_ADMIN_PASSWORD") or getpass.getpass("Mot de passe : ")
    try:
        asyncio.run(
            create_admin(
                email=args.email,
                password=password,
                name=args.name,
                organisation=OrganisationInput(
                    name=args.organisation,
                    legal_form=args.legal_form,
                    coop_kind=args.coop_kind,
                    siret=None,
                    postcode=args.postcode,
                    region=None,
                    headcount_band=args.headcount,
                ),
            )
        )
    except ValidationFailed as exc:
        for field, message in exc.errors.items():
            print(f"{field} : {message}", file=sys.stderr)
        raise SystemExit(2) from None
    print(f"Compte administrateur créé : {args.email}")


def cmd_worker(args: argparse.Namespace) -> None:
    from emails.worker import main_worker

    main_worker(args)


def cmd_send_outbox(args: argparse.Namespace) -> None:
    from emails.worker import main_send_outbox

    main_send_outbox(args)


def cmd_erase_expired_contacts(_args: argparse.Namespace) -> None:
    from organisations.stakeholders import erase_expired_contacts

    result = asyncio.run(erase_expired_contacts())
    print(f"Contacts effacés (durée de conservation dépassée) : {result}")


async def _export_results(campaign_id: str, fmt: str, output: str) -> int:
    import uuid
    from pathlib import Path

    from consultations import exports
    from consultations.results import campaign_results
    from consultations.tables import Campaign
    from emails.worker import TextProgress

    campaign = await Campaign.select(Campaign.organisation).where(Campaign.id == uuid.UUID(campaign_id)).first()
    if campaign is None:
        raise SystemExit("Consultation introuvable.")
    progress = TextProgress(3, label="Export")
    progress.update(0, "lecture des réponses")
    results = await campaign_results(organisation_id=campaign["organisation"], campaign_id=uuid.UUID(campaign_id))
    if not results.published:
        raise SystemExit("Les résultats ne sont publiés qu'à la clôture de la consultation.")
    progress.update(1, "analyse faite")
    if fmt == "xlsx":
        body = exports.to_xlsx(results)
    elif fmt == "parquet":
        body = exports.to_parquet(results, "pratiques")
    else:
        body = exports.to_csv(results, "pratiques")
    progress.update(2, "écriture")
    Path(output).write_bytes(body)
    progress.finish(3, output)
    return len(body)


def cmd_export_results(args: argparse.Namespace) -> None:
    size = asyncio.run(_export_results(args.campaign, args.format, args.output))
    print(f"{args.output} : {size} octets (chiffres sous le seuil d'anonymat masqués).")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="esspratiques", description="ESS Pratiques")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="Lancer le serveur web")
    serve.add_argument("--host")
    serve.add_argument("--port")
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("migrate", help="Appliquer les migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("seed-demo", help="Créer l'organisation de démonstration (idempotent)").set_defaults(func=cmd_seed_demo)
    admin = sub.add_parser("create-admin", help="Créer un compte administrateur et son organisation")
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", required=True)
    admin.add_argument("--organisation", required=True)
    admin.add_argument("--legal-form", default="association")
    admin.add_argument("--coop-kind")
    admin.add_argument("--postcode", required=True)
    admin.add_argument("--headcount", default="1-9")
    admin.add_argument("--password", help="À défaut : ESSP_ADMIN_PASSWORD ou saisie masquée")
    admin.set_defaults(func=cmd_create_admin)
    worker = sub.add_parser("worker", help="Envoyer les e-mails de la file d'attente, en continu")
    worker.add_argument("--once", action="store_true", help="S'arrêter quand plus rien n'est à envoyer")
    worker.add_argument("--poll", type=float, default=2.0, help="Secondes entre deux vérifications de la file")
    worker.add_argument("--batch", type=int, help="Messages par lot (défaut : 50, moins si MAIL_RATE_PER_MINUTE est bas)")
    worker.set_defaults(func=cmd_worker)
    send = sub.add_parser("send-outbox", help="Envoyer tout ce qui est dû maintenant, avec une barre de progression")
    send.add_argument("--batch", type=int, help="Messages par lot")
    send.set_defaults(func=cmd_send_outbox)
    sub.add_parser(
        "erase-expired-contacts", help="Effacer les contacts dont la durée de conservation est dépassée (à lancer chaque jour)"
    ).set_defaults(func=cmd_erase_expired_contacts)
    export = sub.add_parser("export-results", help="Exporter les résultats publiés d'une consultation clôturée")
    export.add_argument("--campaign", required=True, help="Identifiant de la consultation")
    export.add_argument("--format", choices=("xlsx", "csv", "parquet"), default="xlsx")
    export.add_argument("--output", required=True)
    export.set_defaults(func=cmd_export_results)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
