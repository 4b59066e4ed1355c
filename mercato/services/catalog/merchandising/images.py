"""Image uploads: checked by their bytes, stored content-addressed, then attached to products by name.

The type is decided by the file's magic bytes, never by its name or the Content-Type a browser guessed:
only JPEG, PNG and WebP are accepted (no SVG from uploads — it can carry scripts). The name an upload
gets is its content key (`storage.content_key`), so uploading the same picture twice is harmless and a
name always means the same bytes. The store is the kernel's object store
(`mercato/platform/storage.py`): local files in the embedded profile, S3 in the scale-out profile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

from fastapi import UploadFile
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.platform.errors import PayloadTooLarge, UnprocessableEntity
from mercato.platform.staff import Staff, record_staff_action
from mercato.platform.storage import ObjectStore, content_key, is_key
from mercato.services.catalog.merchandising import SERVICE
from mercato.services.catalog.merchandising.schemas import ImageUploaded

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def sniff(data: bytes) -> str | None:
    """The image type the bytes are (JPEG, PNG or WebP), or None."""
    for signature, content_type in _SIGNATURES:
        if data.startswith(signature):
            return content_type
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


@dataclass(frozen=True)
class Media:
    """The image store and the public URL prefix images are served under."""

    store: ObjectStore
    base_url: str

    def url(self, name: str) -> str:
        return f"{self.base_url}/{name}"

    async def missing(self, names: Iterable[str]) -> set[str]:
        """The names that are no stored image (a few lookups at a time: S3 answers each one)."""
        wanted = sorted(set(names))
        gone: set[str] = {name for name in wanted if not is_key(name)}
        candidates = [name for name in wanted if name not in gone]
        for start in range(0, len(candidates), 16):
            batch = candidates[start : start + 16]
            found = await asyncio.gather(*(self.store.exists(name) for name in batch))
            gone.update(name for name, exists in zip(batch, found, strict=True) if not exists)
        return gone


async def upload(
    session: AsyncSession, staff: Staff, media: Media, file: UploadFile, *, max_bytes: int
) -> ImageUploaded:
    data = await file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"An image may be at most {max_bytes} bytes.", errors={"file": f"is over {max_bytes} bytes"}
        )
    if not data:
        raise UnprocessableEntity("The file is empty.", errors={"file": "is empty"})
    content_type = sniff(data)
    if content_type is None:
        raise UnprocessableEntity(
            "Only JPEG, PNG and WebP images can be uploaded.",
            errors={"file": "is not a JPEG, PNG or WebP image"},
        )
    name = content_key(data, content_type)
    await media.store.put(name, data, content_type)
    await record_staff_action(
        session,
        staff,
        "image.upload",
        service=SERVICE,
        target_type="image",
        target_id=name,
        details={"content_type": content_type, "size": len(data), "file_name": (file.filename or "")[:200]},
    )
    return ImageUploaded(name=name, url=media.url(name), content_type=content_type, size=len(data))
