"""Keyword-only builders of the catalog events the search index consumes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mercato.contracts.events import (
    InventoryChanged,
    ProductCreated,
    ProductDeleted,
    ProductUpdated,
    VariantSnapshot,
)
from mercato.contracts.money import Money

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def variant(
    *,
    sku: str,
    price: int,
    size: str | None = None,
    colour: str | None = None,
    available: int = 10,
    currency: str = "EUR",
    also: dict[str, int] | None = None,
) -> VariantSnapshot:
    """A variant priced `price` in `currency` (the default market's, as events carry it) and in the
    currencies of `also` (its price list)."""
    attributes = {k: v for k, v in (("size", size), ("colour", colour)) if v is not None}
    listed = {currency: price, **(also or {})}
    return VariantSnapshot(
        variant_id=f"var_{sku}",
        sku=sku,
        attributes=attributes,
        price=Money(amount=price, currency=currency),
        prices=tuple(Money(amount=amount, currency=code) for code, amount in sorted(listed.items())),
        available=available,
    )


def product(
    *,
    product_id: str,
    name: str,
    category_path: tuple[str, ...],
    variants: list[VariantSnapshot],
    brand: str = "Mercato",
    description: str = "",
    status: str = "active",
    created_at: datetime = T0,
    updated_at: datetime | None = None,
    updated: bool = False,
) -> ProductCreated | ProductUpdated:
    cls = ProductUpdated if updated else ProductCreated
    return cls(
        product_id=product_id,
        slug=name.lower().replace(" ", "-"),
        name=name,
        brand=brand,
        description=description,
        category_id=f"cat_{category_path[-1]}" if category_path else "cat_none",
        category_path=category_path,
        status=status,
        variants=tuple(variants),
        image_url=f"https://img.example/{product_id}.jpg",
        created_at=created_at,
        updated_at=updated_at or created_at,
    )


def updated(snapshot: ProductCreated | ProductUpdated, *, updated_at: datetime, **changes) -> ProductUpdated:
    """The next snapshot of a product: the same one with `changes`, as catalog would publish it."""
    data = snapshot.model_dump()
    data.update(changes, updated_at=updated_at)
    return ProductUpdated.model_validate(data)


def reprice(snapshot: ProductCreated | ProductUpdated, *, price: int, updated_at: datetime) -> ProductUpdated:
    new = Money(amount=price, currency="EUR")
    variants = [
        v.model_copy(update={"price": new, "prices": (new, *(m for m in v.prices if m.currency != "EUR"))})
        for v in snapshot.variants
    ]
    return updated(snapshot, updated_at=updated_at, variants=variants)


def inventory(*, product_id: str, sku: str, available: int, changed_at: datetime) -> InventoryChanged:
    return InventoryChanged(
        product_id=product_id,
        sku=sku,
        on_hand=available,
        reserved=0,
        available=available,
        reason="adjustment",
        changed_at=changed_at,
    )


def deleted(*, product_id: str, deleted_at: datetime) -> ProductDeleted:
    return ProductDeleted(product_id=product_id, deleted_at=deleted_at)


TSHIRTS = ("apparel", "tops", "tshirts")
TOPS = ("apparel", "tops")
SHOES = ("apparel", "shoes")
APPAREL = ("apparel",)
HOME = ("home",)


def _sized(
    code: str, price: int, colours: list[str], sizes: list[str], available: int = 10
) -> list[VariantSnapshot]:
    return [
        variant(sku=f"{code}-{c[:3].upper()}-{s}", price=price, size=s, colour=c, available=available)
        for c in colours
        for s in sizes
    ]


def catalog() -> list[ProductCreated | ProductUpdated]:
    """Fifteen products over apparel > tops > tshirts, apparel > shoes, apparel itself, and home; created a
    day apart in list order (the last is the newest), all before T0: any change `at(minutes)` is newer."""
    specs = [
        ("classic-tee", "Classic T-Shirt", TSHIRTS, "Northwind", "Heavyweight cotton, regular fit.",
         _sized("CT", 1999, ["Black", "White"], ["S", "M", "L"])),
        ("organic-tee", "Organic Cotton T-Shirt", TSHIRTS, "Evergreen", "Certified organic cotton jersey.",
         _sized("OT", 2499, ["Green", "White"], ["M", "L"])),
        ("graphic-tee", "Graphic Tee", TSHIRTS, "Northwind", "A soft t-shirt with a screen print.",
         _sized("GT", 1799, ["Black"], ["S", "M"])),
        ("vneck-tee", "V-Neck T-Shirt Slim", TSHIRTS, "Alder", "Slim fit, soft modal blend.",
         _sized("VT", 2199, ["Navy"], ["M", "L", "XL"])),
        ("linen-shirt", "Linen Shirt", TOPS, "Alder", "Breathable linen with mother-of-pearl buttons.",
         _sized("LS", 4999, ["White", "Blue"], ["M", "L"])),
        ("merino-sweater", "Merino Sweater", TOPS, "Evergreen", "Fine-gauge knit that keeps you warm.",
         _sized("MS", 8999, ["Grey"], ["S", "M", "L"])),
        ("zip-hoodie", "Zip Hoodie", TOPS, "Northwind", "Brushed fleece hoodie with a full zip.",
         _sized("ZH", 5999, ["Black", "Grey"], ["M", "L"])),
        ("trail-shoe", "Trail Running Shoe", SHOES, "Stride", "Grippy outsole for muddy trails.",
         _sized("TR", 11999, ["Black"], ["42", "43", "44"])),
        ("canvas-sneaker", "Canvas Sneaker", SHOES, "Stride", "Low-top canvas sneaker, vulcanised sole.",
         _sized("CS", 6999, ["White"], ["41", "42"])),
        ("leather-boot", "Leather Boot", SHOES, "Alder", "Full-grain leather, resoleable.",
         _sized("LB", 17999, ["Brown"], ["42", "43"])),
        ("running-socks", "Running Socks", APPAREL, "Stride", "Cushioned socks, three pairs.",
         _sized("RS", 999, ["White", "Black"], ["S", "M", "L"])),
        ("ceramic-mug", "Ceramic Mug", HOME, "Hearth", "Stoneware mug, dishwasher safe.",
         [variant(sku="CM-WHI", price=1299, colour="White"),
          variant(sku="CM-BLA", price=1399, colour="Black")]),
        ("wool-throw", "Wool Throw Blanket", HOME, "Hearth", "As soft as a merino sweater, for the sofa.",
         [variant(sku="WT-GRE", price=7999, colour="Grey")]),
        ("scented-candle", "Scented Candle", HOME, "Hearth", "Fig and cedar, forty hours.",
         [variant(sku="SC-1", price=1999)]),
        ("linen-cushion", "Linen Cushion Cover", HOME, "Hearth", "Stonewashed linen cover.",
         [variant(sku="LC-BLU", price=2999, colour="Blue"),
          variant(sku="LC-WHI", price=2999, colour="White")]),
    ]  # fmt: skip
    return [
        product(
            product_id=pid,
            name=name,
            category_path=path,
            brand=brand,
            description=description,
            variants=variants,
            created_at=at(-24 * 60 * (len(specs) - i)),
        )
        for i, (pid, name, path, brand, description, variants) in enumerate(specs)
    ]
