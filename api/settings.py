"""Settings, read once from environment variables with safe defaults.

Every setting is documented in the README. Development needs no configuration:
the SQLite database and a generated secret key live under ``./var/``.
Production (``ESSP_ENV=production``) refuses to start without ``SECRET_KEY``.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigurationError(RuntimeError):
    """The environment does not allow the application to start safely."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "oui"}


@dataclass(frozen=True)
class Settings:
    env: str
    database_url: str
    var_dir: Path
    secret_keys: tuple[str, ...]
    base_url: str
    smtp_host: str | None
    smtp_port: int
    smtp_user: str | None
    smtp_password: str | None
    smtp_security: str  # "starttls", "tls" or "none"
    mail_from: str
    mail_rate_per_minute: int
    session_days: int
    login_rate_per_minute: int
    link_rate_per_minute: int
    contact_retention_months: int
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def secret_key(self) -> str:
        """The newest key: the one that signs. Older keys only verify."""
        return self.secret_keys[-1]

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))

    @property
    def sqlite_path(self) -> Path:
        if self.is_postgres:
            raise ConfigurationError("Not a SQLite database")
        raw = self.database_url.removeprefix("sqlite:///") if self.database_url.startswith("sqlite:") else self.database_url
        path = Path(raw)
        return path if path.is_absolute() else PROJECT_ROOT / path

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")


def _secret_keys(env: str, var_dir: Path) -> tuple[str, ...]:
    raw = os.environ.get("SECRET_KEY", "").strip()
    if raw:
        # Comma-separated list, oldest first: the last one signs, all verify.
        keys = tuple(k.strip() for k in raw.split(",") if k.strip())
        if any(len(k) < 32 for k in keys):
            raise ConfigurationError("SECRET_KEY : chaque clé doit faire au moins 32 caractères.")
        return keys
    if env == "production":
        raise ConfigurationError(
            "SECRET_KEY est obligatoire en production (ESSP_ENV=production). "
            "Générez-en une avec : python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    var_dir.mkdir(parents=True, exist_ok=True)
    key_file = var_dir / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return (key_file.read_text().strip(),)


def load_settings() -> Settings:
    env = os.environ.get("ESSP_ENV", "development").strip().lower()
    var_dir = Path(os.environ.get("ESSP_VAR_DIR", PROJECT_ROOT / "var"))
    database_url = os.environ.get("DATABASE_URL", "").strip() or f"sqlite:///{var_dir / 'esspratiques.sqlite'}"
    port = os.environ.get("PORT", "8000")
    return Settings(
        env=env,
        database_url=database_url,
        var_dir=var_dir,
        secret_keys=_secret_keys(env, var_dir),
        base_url=os.environ.get("BASE_URL", f"http://127.0.0.1:{port}").rstrip("/"),
        smtp_host=os.environ.get("SMTP_HOST") or None,
        smtp_port=int(os.environ.get("SMTP_PORT", "587")),
        smtp_user=os.environ.get("SMTP_USER") or None,
        smtp_password=os.environ.get("SMTP_PASSWORD") or None,
        smtp_security=os.environ.get("SMTP_SECURITY", "starttls").lower(),
        mail_from=os.environ.get("MAIL_FROM", "ESS Pratiques <no-reply@esspratiques.example>"),
        mail_rate_per_minute=int(os.environ.get("MAIL_RATE_PER_MINUTE", "120")),
        session_days=int(os.environ.get("SESSION_DAYS", "14")),
        login_rate_per_minute=int(os.environ.get("LOGIN_RATE_PER_MINUTE", "10")),
        link_rate_per_minute=int(os.environ.get("LINK_RATE_PER_MINUTE", "60")),
        contact_retention_months=int(os.environ.get("CONTACT_RETENTION_MONTHS", "12")),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
