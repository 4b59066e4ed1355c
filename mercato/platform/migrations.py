"""Alembic, per service: each service migrates only its own database, with its own version table.

`script_location` is a package resource (`mercato.services.<name>:migrations`), so migrations ship
inside the installed package and `mercato migrate` works from any directory.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from mercato.platform.tables import platform_metadata


def alembic_config(service: str, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", f"mercato.services.{service}:migrations")
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(service: str, database_url: str, revision: str = "head") -> None:
    """Blocking; call from a thread when an event loop is running."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(service, database_url), revision)


def run_migrations(*metadata: MetaData) -> None:
    """The body of every service's migrations/env.py: the service's own tables, the kernel's, and any
    optional kernel tables it uses (e.g. `mercato.platform.sessions`)."""
    url = context.config.get_main_option("sqlalchemy.url")
    assert url
    options: dict[str, Any] = {
        "target_metadata": [*metadata, platform_metadata],
        "render_as_batch": url.startswith("sqlite"),  # SQLite can only ALTER by copying tables
        "compare_type": True,
    }
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return

    def _run(connection: Any) -> None:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()

    async def _online() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(_run)
        await engine.dispose()

    asyncio.run(_online())
