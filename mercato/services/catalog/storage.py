"""Where product images live: local files (embedded profile) or an S3 bucket (scale-out profile).

Keys are content addressed (a hash of the bytes plus an extension), so an image URL never changes
meaning and can be cached forever.
"""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import Path
from typing import Protocol

import anyio

EXTENSIONS = {"image/svg+xml": "svg", "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}


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


def content_type_of(key: str) -> str:
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


class ImageStore(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None: ...
    async def get(self, key: str) -> tuple[bytes, str] | None: ...
    async def exists(self, key: str) -> bool: ...


class LocalImageStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self.root / key[:2] / key
        if not path.exists():
            await anyio.to_thread.run_sync(self._write, path, data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_bytes(data)
        partial.replace(path)  # atomic: a reader never sees half a file

    async def get(self, key: str) -> tuple[bytes, str] | None:
        path = self.root / key[:2] / key
        if not path.is_file():
            return None
        data = await anyio.to_thread.run_sync(path.read_bytes)
        return data, content_type_of(key)

    async def exists(self, key: str) -> bool:
        return (self.root / key[:2] / key).is_file()


class S3ImageStore:
    """Any S3-compatible store through boto3 (AWS S3, MinIO, Ceph...)."""

    def __init__(self, *, bucket: str, endpoint_url: str | None, region: str) -> None:
        import boto3

        self.bucket = bucket
        self.client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await anyio.to_thread.run_sync(
            lambda: self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                CacheControl="public, max-age=31536000, immutable",
            )
        )

    async def get(self, key: str) -> tuple[bytes, str] | None:
        def _get() -> tuple[bytes, str] | None:
            try:
                obj = self.client.get_object(Bucket=self.bucket, Key=key)
            except self.client.exceptions.NoSuchKey:
                return None
            return obj["Body"].read(), obj.get("ContentType", "application/octet-stream")

        return await anyio.to_thread.run_sync(_get)

    async def exists(self, key: str) -> bool:
        def _head() -> bool:
            try:
                self.client.head_object(Bucket=self.bucket, Key=key)
            except self.client.exceptions.ClientError as error:
                if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                    return False
                raise
            return True

        return await anyio.to_thread.run_sync(_head)
