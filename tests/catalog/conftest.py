from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from mercato.services.catalog.main import build_app
from mercato.services.catalog.settings import CatalogSettings
from tests.servers import s3_server


@pytest.fixture
async def catalog(databases, backend, tmp_path) -> AsyncIterator[httpx.AsyncClient]:
    """The catalog app in-process on a real, freshly migrated database, with categories in place."""
    settings = CatalogSettings(
        environment="test",
        database_url=await databases.fresh("catalog", backend),
        image_dir=tmp_path / "images",
        cursor_secret="test-cursor-secret",
        expiry_sweep_seconds=3600,  # tests trigger expiry themselves
        sale_flip_seconds=3600,  # tests flip sales themselves (catalog.sales.flip_due)
    )
    app = build_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://catalog") as client:
            client.app = app  # type: ignore[attr-defined]
            from tests.catalog.factories import add_categories

            await add_categories(app)
            yield client


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """An S3-compatible server on loopback; boto3 speaks real S3 HTTP to it."""
    with s3_server() as endpoint:
        yield endpoint
