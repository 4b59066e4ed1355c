"""Image uploads: judged by their bytes, stored by content, attached to products by name."""

from __future__ import annotations

import struct
import zlib

import boto3
import httpx

from mercato.services.catalog.main import build_app
from mercato.services.catalog.settings import CatalogSettings
from tests.catalog.factories import MERCHANDISER, add_categories, create_product, outbox_events


def _png(width: int = 2, height: int = 2) -> bytes:
    """A real (tiny, grey) PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


async def _upload(catalog, data: bytes, filename: str = "photo.png", content_type: str = "image/png"):
    return await catalog.post(
        "/admin/v1/images", files={"file": (filename, data, content_type)}, headers=MERCHANDISER
    )


async def test_an_uploaded_image_is_served_and_can_be_attached_to_a_product(catalog):
    png = _png()
    uploaded = await _upload(catalog, png)
    assert uploaded.status_code == 201, uploaded.text
    image = uploaded.json()
    assert (image["content_type"], image["size"]) == ("image/png", len(png))
    assert image["name"].endswith(".png")
    served = await catalog.get(image["url"])
    assert served.status_code == 200 and served.content == png

    product = await create_product(catalog)
    etag = (await catalog.get(f"/admin/v1/products/{product['id']}", headers=MERCHANDISER)).headers["etag"]
    attached = await catalog.patch(
        f"/admin/v1/products/{product['id']}",
        json={"images": [{"name": image["name"], "alt": "The shirt, folded"}]},
        headers=MERCHANDISER | {"If-Match": etag},
    )
    assert attached.status_code == 200, attached.text
    shown = (await catalog.get(f"/api/v1/products/{product['id']}")).json()
    assert [(i["url"], i["alt"]) for i in shown["images"]] == [(image["url"], "The shirt, folded")]
    [event] = await outbox_events(catalog, "ProductUpdated")
    assert event["payload"]["image_url"] == image["url"]
    actions = [e["payload"]["action"] for e in await outbox_events(catalog, "StaffActionRecorded")]
    assert actions == ["image.upload", "product.create", "product.update"]


async def test_jpeg_and_webp_are_accepted_by_their_bytes_whatever_they_are_called(catalog):
    jpeg = await _upload(catalog, JPEG, filename="photo.png", content_type="image/png")
    webp = await _upload(catalog, WEBP, filename="photo", content_type="application/octet-stream")
    assert (jpeg.json()["content_type"], webp.json()["content_type"]) == ("image/jpeg", "image/webp")
    assert jpeg.json()["name"].endswith(".jpg") and webp.json()["name"].endswith(".webp")


async def test_anything_else_is_refused_however_it_is_labelled(catalog):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    for data, filename in [(b"GIF89a...", "x.png"), (svg, "x.svg"), (b"%PDF-1.7", "x.jpg"), (b"", "x.png")]:
        response = await _upload(catalog, data, filename=filename)
        assert response.status_code == 422, (filename, response.text)
        assert "file" in response.json()["errors"]
    assert await outbox_events(catalog) == []


async def test_an_image_over_the_size_limit_is_413(catalog):
    limit = catalog.app.state.settings.image_max_bytes
    response = await _upload(catalog, _png() + b"\x00" * limit)
    assert response.status_code == 413
    assert response.json()["errors"] == {"file": f"is over {limit} bytes"}


async def test_only_uploaded_images_can_be_attached(catalog):
    product = await create_product(catalog)
    etag = (await catalog.get(f"/admin/v1/products/{product['id']}", headers=MERCHANDISER)).headers["etag"]
    for images, error in [
        ([{"name": "0123456789abcdef0123456789abcdef.png"}], "is not an uploaded image"),
        ([{"name": "../../etc/passwd"}], "String should match pattern '^[0-9a-f]{32}\\.(jpg|png|webp|svg)$'"),
    ]:
        response = await catalog.patch(
            f"/admin/v1/products/{product['id']}",
            json={"images": images},
            headers=MERCHANDISER | {"If-Match": etag},
        )
        assert response.status_code == 422
        assert response.json()["errors"] == {"images.0.name": error}


async def test_in_the_scale_out_profile_uploads_go_to_s3_and_are_checked_there(
    databases, tmp_path, s3_endpoint, monkeypatch
):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="mercato-uploads")
    settings = CatalogSettings(
        environment="test",
        database_url=await databases.fresh("catalog", "sqlite"),
        image_store="s3",
        s3_bucket="mercato-uploads",
        s3_endpoint_url=s3_endpoint,
        cursor_secret="s",
    )
    app = build_app(settings)
    async with app.router.lifespan_context(app):
        await add_categories(app)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://catalog") as client:
            uploaded = (await _upload(client, JPEG, filename="shirt.jpg")).json()
            stored = s3.get_object(Bucket="mercato-uploads", Key=uploaded["name"])
            assert (stored["Body"].read(), stored["ContentType"]) == (JPEG, "image/jpeg")

            product = await create_product(client, images=[{"name": uploaded["name"]}])
            assert [i["url"] for i in product["images"]] == [uploaded["url"]]
            missing = await client.post(
                "/admin/v1/products",
                json={
                    "slug": "no-picture",
                    "name": "No Picture",
                    "brand": "B",
                    "category": "tshirts",
                    "images": [{"name": "0123456789abcdef0123456789abcdef.jpg"}],
                    "variants": [{"sku": "NO-PIC", "price": {"amount": 100, "currency": "EUR"}}],
                },
                headers=MERCHANDISER,
            )
            assert missing.status_code == 422
            assert missing.json()["errors"] == {"images.0.name": "is not an uploaded image"}
