"""The object store both profiles use: local files and S3 (over its real wire protocol, moto's server).
Images (flat content keys) and documents (keys with folders) alike; a key can never leave the store."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from mercato.platform.storage import LocalObjectStore, ObjectStore, is_safe_key, object_store
from tests.servers import s3_server

PDF = b"%PDF-1.4 an invoice"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with s3_server() as endpoint:
        yield endpoint


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path, monkeypatch) -> ObjectStore:
    if request.param == "local":
        return object_store("local", directory=tmp_path, bucket="", endpoint_url=None, region="")
    endpoint = request.getfixturevalue("s3_endpoint")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=tmp_path.name)
    return object_store(
        "s3",
        directory=None,
        bucket=tmp_path.name,
        endpoint_url=endpoint,
        region="us-east-1",
        cache_control="private, no-store",
    )


async def test_a_document_is_kept_under_its_folders_and_read_back(store):
    key = "invoices/eu/EU-2026-00001.pdf"
    assert not await store.exists(key) and await store.get(key) is None
    await store.put(key, PDF, "application/pdf")
    assert await store.exists(key)
    assert await store.get(key) == (PDF, "application/pdf")


async def test_a_key_that_could_leave_the_store_is_refused_and_finds_nothing(store, tmp_path):
    for key in ("../secret.pdf", "invoices/../../x.pdf", "/etc/passwd", ".hidden", "a//b", ""):
        assert not is_safe_key(key)
        with pytest.raises(ValueError):
            await store.put(key, PDF, "application/pdf")
        assert await store.get(key) is None and not await store.exists(key)
    assert not (tmp_path.parent / "secret.pdf").exists()


async def test_local_images_keep_their_two_character_folders(tmp_path):
    store = LocalObjectStore(tmp_path)
    await store.put("ab12.png", b"png", "image/png")
    await store.put("invoices/eu/EU-2026-00001.pdf", PDF, "application/pdf")
    assert (tmp_path / "ab" / "ab12.png").read_bytes() == b"png"
    assert (tmp_path / "invoices" / "eu" / "EU-2026-00001.pdf").read_bytes() == PDF
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["EU-2026-00001.pdf", "ab12.png"]


async def test_s3_objects_carry_their_type_and_the_stores_cache_policy(s3_endpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="documents")
    store = object_store(
        "s3",
        directory=None,
        bucket="documents",
        endpoint_url=s3_endpoint,
        region="us-east-1",
        cache_control="private, no-store",
    )
    await store.put("credit-notes/uk/UK-CN-2026-00001.pdf", PDF, "application/pdf")
    head = s3.head_object(Bucket="documents", Key="credit-notes/uk/UK-CN-2026-00001.pdf")
    assert head["ContentType"] == "application/pdf" and head["CacheControl"] == "private, no-store"
