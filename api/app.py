"""The application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.plugins.htmx import HTMXPlugin
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from api import db
from api.auth import SessionMiddleware, provide_membership, provide_user
from api.problems import EXCEPTION_HANDLERS
from api.settings import get_settings
from api.templating import build_template_engine

API_PREFIX = "/api/v1"
HERE = Path(__file__).resolve().parent


@asynccontextmanager
async def lifespan(_app: Litestar) -> AsyncIterator[None]:
    await db.start_pool()
    try:
        yield
    finally:
        await db.close_pool()


def create_app() -> Litestar:
    from api.routes import route_handlers

    settings = get_settings()
    csrf = CSRFConfig(
        secret=settings.secret_key,
        cookie_name="essp_csrf",
        header_name="x-csrftoken",
        cookie_secure=settings.secure_cookies,
        cookie_samesite="lax",
        cookie_httponly=False,  # htmx reads it for the header
        exclude=["^/health$"],
    )
    return Litestar(
        route_handlers=[*route_handlers(), create_static_files_router(path="/static", directories=[HERE / "static"])],
        middleware=[SessionMiddleware()],
        csrf_config=csrf,
        template_config=TemplateConfig(engine=build_template_engine()),
        plugins=[HTMXPlugin()],
        dependencies={"membership": Provide(provide_membership, sync_to_thread=False), "user": Provide(provide_user, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(
            title="ESS Pratiques API",
            version="1.0.0",
            path="/schema",
            render_plugins=[ScalarRenderPlugin()],
        ),
        lifespan=[lifespan],
        debug=False,
    )
