"""Configuration, read once from the environment into one typed object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_DATA_DIR = Path("data")
# Serves every npm package's files at /<package>@<version>/<file>.
DEFAULT_GRAPHIQL_CDN = "https://unpkg.com"


class SettingsError(ValueError):
    """An environment variable holds a value Switchboard cannot use."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    # Comma-separated keys; the first one encrypts, all of them decrypt.
    encryption_keys: tuple[str, ...]
    environment: str = "development"
    # Where the GraphiQL page loads its scripts from: a CDN of npm packages or a mirror of one.
    graphiql_cdn: str = DEFAULT_GRAPHIQL_CDN

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("SWITCHBOARD_DATA_DIR", str(DEFAULT_DATA_DIR)))
        database_url = env.get("DATABASE_URL", "").strip() or _default_database_url(data_dir)
        keys = tuple(k.strip() for k in env.get("SWITCHBOARD_ENCRYPTION_KEYS", "").split(",") if k.strip())
        environment = env.get("SWITCHBOARD_ENV", "development").strip() or "development"
        if environment not in {"development", "production"}:
            raise SettingsError("SWITCHBOARD_ENV must be 'development' or 'production'")
        return cls(
            database_url=database_url,
            data_dir=data_dir,
            encryption_keys=keys,
            environment=environment,
            graphiql_cdn=_graphiql_cdn(env.get("SWITCHBOARD_GRAPHIQL_CDN", "")),
        )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")


def _default_database_url(data_dir: Path) -> str:
    return f"sqlite://{data_dir / 'switchboard.sqlite3'}"


def _graphiql_cdn(value: str) -> str:
    base = value.strip().rstrip("/") or DEFAULT_GRAPHIQL_CDN
    url = urlsplit(base)
    if url.scheme not in {"http", "https"} or not url.netloc or url.query or url.fragment:
        raise SettingsError("SWITCHBOARD_GRAPHIQL_CDN must be an http(s) URL without query, e.g. https://npm.example.com/cdn")
    return base
