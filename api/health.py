"""GET /health: the application and database status."""

from __future__ import annotations

from litestar import Response, get

from api import db


@get("/health", tags=["Santé"])
async def health() -> Response[dict]:
    database_ok = await db.check()
    body = {"status": "ok" if database_ok else "degraded", "database": "ok" if database_ok else "unavailable", "engine": db.engine().engine_type}
    return Response(body, status_code=200 if database_ok else 503)
