"""Where a service keeps files: local files (embedded profile) or an S3-compatible bucket (scale-out
profile). Catalog keeps product images here, orders its invoices and credit notes.

A key is one or more segments separated by `/` (`3f…a9.png`, `invoices/eu/EU-2026-00001.pdf`), each
segment letters, digits, `.`, `_` and `-`, not starting with a dot: a key can never name a file outside
the store. Images are content addressed (a hash of the bytes plus an extension, `content_key`), so an
image URL never changes meaning and can be cached forever; documents are named by what they are.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import uuid
from pathlib import Path
from typing import Literal, Protocol

import anyio

EXTENSIONS = {"image/svg+xml": "svg", "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
IMMUTABLE = "public, max-age=31536000, immutable"

_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def content_key(data: bytes, content_type: str) -> str:
    return f"{hashlib.sha256(data).hexdigest()[:32]}.{EXTENSIONS[content_type]}"


def is_key(name: str) -> bool:
    """True if `name` has the shape of an image key (hash, dot, one of our extensions)."""
    digest, _, extension = name.partition(".")
    return (
        len(digest) == 32
        and all(c in "0123456789abcdef" for c in digest)
        and extension in EXTENSIONS.values()
    )


def is_safe_key(key: str) -> bool:
    """True if `key` is a store key: `/`-separated segments, none empty, none starting with a dot."""
    return len(key) <= 512 and all(_SEGMENT.fullmatch(segment) for segment in key.split("/"))


def content_type_of(key: str) -> str:
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


class ObjectStore(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None: ...
    async def get(self, key: str) -> tuple[bytes, str] | None: ...
    async def exists(self, key: str) -> bool: ...


def _checked(key: str) -> str:
    """A key to write under; reading an unsafe key just finds nothing."""
    if not is_safe_key(key):
        raise ValueError(f"not a store key: {key!r}")
    return key


class LocalObjectStore:
    """Files under `root`. A key without `/` (an image) lives in a folder named by its first two
    characters, so no folder holds millions of files; a key with `/` lives under its own folders."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        return self.root / key if "/" in key else self.root / key[:2] / key

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self.path(_checked(key))
        if not path.exists():
            await anyio.to_thread.run_sync(self._write, path, data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")  # one per writer
        partial.write_bytes(data)
        partial.replace(path)  # atomic: a reader never sees half a file

    async def get(self, key: str) -> tuple[bytes, str] | None:
        path = self.path(key)
        if not is_safe_key(key) or not path.is_file():
            return None
        data = await anyio.to_thread.run_sync(path.read_bytes)
        return data, content_type_of(key)

    async def exists(self, key: str) -> bool:
        return is_safe_key(key) and self.path(key).is_file()


class S3ObjectStore:
    """Any S3-compatible store through boto3 (AWS S3, MinIO, Ceph...)."""

    def __init__(
        self, *, bucket: str, endpoint_url: str | None, region: str, cache_control: str = IMMUTABLE
    ) -> None:
        import boto3

        self.bucket = bucket
        self.cache_control = cache_control
        self.client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await anyio.to_thread.run_sync(
            lambda: self.client.put_object(
                Bucket=self.bucket,
                Key=_checked(key),
                Body=data,
                ContentType=content_type,
                CacheControl=self.cache_control,
            )
        )

    async def get(self, key: str) -> tuple[bytes, str] | None:
        def _get() -> tuple[bytes, str] | None:
            if not is_safe_key(key):
                return None
            try:
                obj = self.client.get_object(Bucket=self.bucket, Key=key)
            except self.client.exceptions.NoSuchKey:
                return None
            return obj["Body"].read(), obj.get("ContentType", "application/octet-stream")

        return await anyio.to_thread.run_sync(_get)

    async def exists(self, key: str) -> bool:
        def _head() -> bool:
            if not is_safe_key(key):
                return False
            try:
                self.client.head_object(Bucket=self.bucket, Key=key)
            except self.client.exceptions.ClientError as error:
                if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                    return False
                raise
            return True

        return await anyio.to_thread.run_sync(_head)


def object_store(
    kind: Literal["local", "s3"],
    *,
    directory: Path | None,
    bucket: str,
    endpoint_url: str | None,
    region: str,
    cache_control: str = IMMUTABLE,
) -> ObjectStore:
    """The store a service's settings name: `local` (files under `directory`) or `s3`."""
    if kind == "s3":
        return S3ObjectStore(
            bucket=bucket, endpoint_url=endpoint_url, region=region, cache_control=cache_control
        )
    assert directory is not None
    return LocalObjectStore(directory)
