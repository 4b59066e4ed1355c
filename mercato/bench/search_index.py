"""The search index on its own (no HTTP, no broker): how long indexing n generated products takes, how
fast one- and two-word queries with facets answer, and how long a product update takes to be visible.

`build_and_query(n)` is self-contained: it indexes into a temporary directory (or the one given) and
returns the figures; the CLI prints them.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mercato.contracts.events import ProductCreated, ProductUpdated, VariantSnapshot
from mercato.contracts.money import Money
from mercato.services.search.index import ProductIndex


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


CATEGORIES: dict[tuple[str, ...], list[str]] = {
    ("apparel", "tops", "tshirts"): ["T-Shirt", "Tee", "Tank Top", "Polo Shirt"],
    ("apparel", "tops", "shirts"): ["Shirt", "Oxford Shirt", "Flannel Shirt", "Blouse"],
    ("apparel", "tops", "knitwear"): ["Sweater", "Cardigan", "Hoodie", "Sweatshirt"],
    ("apparel", "bottoms", "jeans"): ["Jeans", "Denim Shorts"],
    ("apparel", "bottoms", "trousers"): ["Chinos", "Trousers", "Joggers", "Leggings"],
    ("apparel", "outerwear"): ["Jacket", "Parka", "Raincoat", "Gilet", "Blazer"],
    ("apparel", "shoes", "sneakers"): ["Sneaker", "Trainer", "Running Shoe"],
    ("apparel", "shoes", "boots"): ["Boot", "Chelsea Boot", "Hiking Boot"],
    ("apparel", "accessories"): ["Cap", "Beanie", "Scarf", "Belt", "Backpack", "Socks"],
    ("home", "kitchen"): ["Mug", "Teapot", "Skillet", "Chef Knife", "Cutting Board"],
    ("home", "living"): ["Cushion Cover", "Throw Blanket", "Candle", "Vase", "Rug"],
    ("home", "bedroom"): ["Duvet Cover", "Pillowcase", "Bedside Lamp"],
    ("sports", "cycling"): ["Bike Helmet", "Cycling Jersey", "Bottle Cage"],
    ("sports", "yoga"): ["Yoga Mat", "Yoga Block", "Sports Bra"],
}
ADJECTIVES = _words(
    "Classic Essential Organic Vintage Lightweight Heavyweight Slim Relaxed Oversized Cropped Waterproof "
    "Recycled Merino Linen Cotton Leather Suede Canvas Wool Cashmere Ribbed Quilted Padded Stretch Soft "
    "Rugged Urban Alpine Coastal Nordic Studio Everyday Weekend Travel Performance Thermal Breathable"
)
BRANDS = _words(
    "Northwind Evergreen Alder Stride Hearth Fjord Kestrel Marlow Oakridge Pinecrest Quarry Redwood "
    "Saltmarsh Tidewater Umber Vantage Willow Yarrow Zephyr Birch Cobalt Driftwood Ember Granite Harbor "
    "Juniper"
)
COLOURS = _words("Black White Grey Navy Blue Green Olive Red Burgundy Beige Brown Pink Yellow Orange")
SIZES = ("XS", "S", "M", "L", "XL", "XXL")
SHOE_SIZES = tuple(str(n) for n in range(38, 47))
FILLER = _words(
    "soft durable comfortable made from responsibly sourced materials designed for everyday wear with a "
    "modern fit easy care machine washable reinforced seams timeless style that pairs with anything built "
    "to last crafted in small batches finished by hand premium quality fabric breathable lightweight warm "
    "cosy"
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _price_list(i: int, eur: int) -> tuple[Money, ...]:
    """The variant's prices: EUR, and GBP and USD for most products (by their number, so the rest of the
    generated catalog does not depend on them)."""
    prices = [Money(amount=eur, currency="EUR")]
    if i % 10 < 9:
        prices.append(Money(amount=eur * 86 // 100, currency="GBP"))
    if i % 10 < 7:
        prices.append(Money(amount=eur * 91 // 100, currency="USD"))
    return tuple(prices)


def synthetic_products(n: int, *, seed: int = 7) -> Iterator[ProductCreated]:
    """n plausible products: names like "Organic Cotton T-Shirt", a category tree three levels deep,
    2-8 variants with size and colour, prices from 5 to 400 EUR, some of them sold out; nine in ten also
    priced in GBP, seven in ten in USD (the seeded markets)."""
    rng = random.Random(seed)
    categories = list(CATEGORIES)
    for i in range(n):
        path = rng.choice(categories)
        noun = rng.choice(CATEGORIES[path])
        words = rng.sample(ADJECTIVES, rng.choice((1, 1, 2)))
        name = " ".join([*words, noun])
        base = rng.choice((499, 999, 1499, 1999, 2499, 2999, 3999, 4999, 6999, 8999, 12999, 19999, 39999))
        sizes = SHOE_SIZES if path[1:2] == ("shoes",) else SIZES if path[0] == "apparel" else ()
        colours = rng.sample(COLOURS, rng.randint(1, 3))
        chosen = rng.sample(sizes, min(len(sizes), rng.randint(2, 4))) if sizes else [None]
        variants = []
        for colour in colours:
            for size in chosen:
                attributes = {"colour": colour, **({"size": size} if size else {})}
                sku = f"P{i}-{colour[:3].upper()}-{size or 'OS'}"
                eur = Money(amount=base + (100 if size in ("XL", "XXL") else 0), currency="EUR")
                variants.append(
                    VariantSnapshot(
                        variant_id=f"var_{sku}",
                        sku=sku,
                        attributes=attributes,
                        price=eur,
                        prices=_price_list(i, eur.amount),
                        available=0 if rng.random() < 0.15 else rng.randint(1, 50),
                    )
                )
        created = T0 + timedelta(minutes=i)
        yield ProductCreated(
            product_id=f"prd_{i:07d}",
            slug=f"{name.lower().replace(' ', '-')}-{i}",
            name=name,
            brand=rng.choice(BRANDS),
            description=" ".join(rng.choices(FILLER, k=rng.randint(12, 40))),
            category_id=f"cat_{path[-1]}",
            category_path=path,
            status="active",
            variants=tuple(variants),
            image_url=None,
            created_at=created,
            updated_at=created,
        )


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@dataclass
class Latency:
    samples_ms: list[float] = field(default_factory=list)

    @property
    def p50(self) -> float:
        return percentile(self.samples_ms, 50)

    @property
    def p99(self) -> float:
        return percentile(self.samples_ms, 99)


@dataclass
class SearchIndexBench:
    products: int
    build_s: float
    index_bytes: int
    one_word: Latency  # query + facets (categories, attributes, price buckets)
    two_words: Latency
    filtered: Latency  # two words, a category, a size and in-stock only, with facets
    suggest: Latency
    update_visible: Latency  # ProductUpdated applied (one commit) until a query sees it
    hits_one_word: float  # mean total hits, to see the queries are not trivially empty


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def build_and_query(
    n_products: int,
    *,
    queries: int = 300,
    updates: int = 50,
    directory: str | Path | None = None,
    seed: int = 7,
    on_progress: Callable[[int], None] | None = None,
    facet_cache: bool = False,
) -> SearchIndexBench:
    """Index `n_products` generated products (a rebuild, the way a fresh index is filled), then time
    `queries` one-word and two-word searches with facets, filtered searches, suggestions, and
    `updates` product updates until visible. Facet counts are computed for every query unless
    `facet_cache` (the index's cache of facet counts between commits, on in production)."""
    with tempfile.TemporaryDirectory(prefix="mercato-search-bench-") as tmp:
        root = Path(directory) if directory is not None else Path(tmp)
        index = ProductIndex(root, facet_cache=512 if facet_cache else 0)
        try:
            started = time.perf_counter()
            index.rebuild(synthetic_products(n_products, seed=seed), on_progress=on_progress)
            build_s = time.perf_counter() - started
            index_bytes = sum(f.stat().st_size for f in (root / index.generation).rglob("*") if f.is_file())

            rng = random.Random(seed + 1)
            nouns = [noun for nouns in CATEGORIES.values() for noun in nouns]
            words = [*ADJECTIVES, *(n.split()[-1] for n in nouns), *COLOURS]
            for _ in range(20):  # warm up
                index.search(rng.choice(words))

            one, two, filtered, suggest = Latency(), Latency(), Latency(), Latency()
            hits = 0
            for _ in range(queries):
                word = rng.choice(words)
                started = time.perf_counter()
                hits += index.search(word).total
                one.samples_ms.append((time.perf_counter() - started) * 1000)
                pair = f"{rng.choice(ADJECTIVES)} {rng.choice(nouns).split()[-1]}".lower()
                two.samples_ms.append(_timed(lambda q=pair: index.search(q)))
                filtered.samples_ms.append(
                    _timed(
                        lambda q=pair: index.search(
                            q, category="apparel", attributes={"size": ["M", "L"]}, in_stock=True
                        )
                    )
                )
                suggest.samples_ms.append(_timed(lambda w=word: index.suggest(w[: rng.randint(2, 5)])))

            visible = Latency()
            for _ in range(updates):
                pid = f"prd_{rng.randrange(n_products):07d}"
                current = index.product(pid)
                if current is None:
                    raise RuntimeError(f"{pid} is not in the index")
                marker = f"Zq{rng.randrange(10**9)}"
                data = current.model_dump()
                data.update(
                    name=f"{current.name} {marker}", updated_at=current.updated_at + timedelta(seconds=1)
                )
                event = ProductUpdated.model_validate(data)
                started = time.perf_counter()
                index.apply(event)
                if index.search(marker, facets=False).total != 1:
                    raise RuntimeError(f"the update of {pid} is not visible")
                visible.samples_ms.append((time.perf_counter() - started) * 1000)

            return SearchIndexBench(
                products=n_products,
                build_s=build_s,
                index_bytes=index_bytes,
                one_word=one,
                two_words=two,
                filtered=filtered,
                suggest=suggest,
                update_visible=visible,
                hits_one_word=hits / max(queries, 1),
            )
        finally:
            index.close()
