"""Piccolo configuration: one engine, chosen from DATABASE_URL (see api/settings.py)."""

from piccolo.conf.apps import AppRegistry

from api.db import build_engine

DB = build_engine()

APP_REGISTRY = AppRegistry(
    apps=[
        "organisations.piccolo_app",
        "emails.piccolo_app",
        "surveys.piccolo_app",
        "consultations.piccolo_app",
        "plans.piccolo_app",
    ]
)
