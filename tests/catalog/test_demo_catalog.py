"""The demo catalog that `make up` seeds: deterministic, large enough to browse, and well-formed."""

from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET

import pytest

from mercato.services.catalog.demo_catalog import (
    CategorySeed,
    ProductSeed,
    VariantSeed,
    demo_catalog,
    price_list,
)

SVG_NS = "http://www.w3.org/2000/svg"
SKU_RE = re.compile(r"^[A-Z0-9]+(-[A-Z0-9]+)*$")
SLUG_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
APPAREL_SIZES = {"XS", "S", "M", "L", "XL", "XXL"}


@pytest.fixture(scope="module")
def catalog() -> tuple[list[CategorySeed], list[ProductSeed]]:
    return demo_catalog()


@pytest.fixture(scope="module")
def categories(catalog: tuple[list[CategorySeed], list[ProductSeed]]) -> list[CategorySeed]:
    return catalog[0]


@pytest.fixture(scope="module")
def products(catalog: tuple[list[CategorySeed], list[ProductSeed]]) -> list[ProductSeed]:
    return catalog[1]


@pytest.fixture(scope="module")
def goods(products: list[ProductSeed]) -> list[ProductSeed]:
    """The products that are shipped: all but the gift card."""
    return [product for product in products if product.category_slug != "gift-cards"]


@pytest.fixture(scope="module")
def variants(goods: list[ProductSeed]) -> list[VariantSeed]:
    return [variant for product in goods for variant in product.variants]


def _depth(category: CategorySeed, by_slug: dict[str, CategorySeed]) -> int:
    depth = 1
    while category.parent_slug is not None:
        category = by_slug[category.parent_slug]
        depth += 1
    return depth


def test_same_seed_gives_an_identical_catalog() -> None:
    first, second = demo_catalog(), demo_catalog()

    assert first == second
    first_svgs = [image.data for product in first[1] for image in product.images]
    second_svgs = [image.data for product in second[1] for image in product.images]
    assert first_svgs == second_svgs


def test_explicit_default_seed_matches_and_another_seed_differs() -> None:
    assert demo_catalog(2026) == demo_catalog()
    assert demo_catalog(7)[1] != demo_catalog()[1]


def test_building_the_catalog_leaves_the_global_random_alone() -> None:
    random.seed(12345)
    state = random.getstate()

    demo_catalog()

    assert random.getstate() == state


def test_catalog_is_big_enough_to_browse(
    categories: list[CategorySeed], products: list[ProductSeed], variants: list[VariantSeed]
) -> None:
    assert len(products) >= 220
    assert len(variants) >= 600
    assert 25 <= len(categories) <= 40


def test_skus_are_unique_and_upper_case(variants: list[VariantSeed]) -> None:
    skus = [variant.sku for variant in variants]

    assert len(skus) == len(set(skus))
    assert all(SKU_RE.match(sku) for sku in skus), [sku for sku in skus if not SKU_RE.match(sku)]


def test_slugs_are_unique_and_url_safe(categories: list[CategorySeed], products: list[ProductSeed]) -> None:
    for slugs in ([c.slug for c in categories], [p.slug for p in products]):
        assert len(slugs) == len(set(slugs))
        assert all(SLUG_RE.match(slug) for slug in slugs), [slug for slug in slugs if not SLUG_RE.match(slug)]


def test_every_product_sits_in_an_existing_leaf_category(
    categories: list[CategorySeed], products: list[ProductSeed]
) -> None:
    slugs = {category.slug for category in categories}
    parents = {category.parent_slug for category in categories}

    for product in products:
        assert product.category_slug in slugs, product.slug
        assert product.category_slug not in parents, product.slug


def test_categories_come_parents_first_and_nest_three_levels(categories: list[CategorySeed]) -> None:
    seen: set[str] = set()
    for category in categories:
        assert category.parent_slug is None or category.parent_slug in seen, category.slug
        seen.add(category.slug)

    by_slug = {category.slug: category for category in categories}
    assert max(_depth(category, by_slug) for category in categories) >= 3


def test_sibling_positions_are_zero_based_and_consecutive(categories: list[CategorySeed]) -> None:
    positions: dict[str | None, list[int]] = {}
    for category in categories:
        positions.setdefault(category.parent_slug, []).append(category.position)

    for parent, values in positions.items():
        assert sorted(values) == list(range(len(values))), parent


def test_products_have_copy_currency_and_one_to_three_images(products: list[ProductSeed]) -> None:
    for product in products:
        assert product.name and product.brand
        assert 2 <= product.description.count(". ") + 1 <= 4, product.description
        assert product.currency == "EUR"
        assert product.variants
        assert 1 <= len(product.images) <= 3


def test_variant_attributes_use_size_and_colour_only(variants: list[VariantSeed]) -> None:
    for variant in variants:
        assert set(variant.attributes) <= {"size", "colour"}, variant.sku


def test_prices_are_positive_integer_cents(variants: list[VariantSeed]) -> None:
    for variant in variants:
        assert type(variant.price_amount) is int
        assert variant.price_amount > 0


def test_some_variants_are_sold_out_but_most_are_in_stock(variants: list[VariantSeed]) -> None:
    sold_out = sum(1 for variant in variants if variant.stock == 0)

    assert 0.03 <= sold_out / len(variants) <= 0.15
    assert all(0 <= variant.stock <= 120 for variant in variants)


def test_every_image_is_a_small_valid_svg(products: list[ProductSeed]) -> None:
    for product in products:
        for image in product.images:
            assert image.content_type == "image/svg+xml"
            assert image.filename.endswith(".svg")
            assert len(image.data) < 3000, image.filename
            root = ET.fromstring(image.data)
            assert root.tag == f"{{{SVG_NS}}}svg", image.filename
            assert root.get("viewBox") == "0 0 600 600"
            assert product.name in "".join(root.itertext())
            assert product.name in image.alt


def test_image_filenames_are_unique(products: list[ProductSeed]) -> None:
    filenames = [image.filename for product in products for image in product.images]

    assert len(filenames) == len(set(filenames))


def test_names_with_ampersands_are_escaped_in_svgs(products: list[ProductSeed]) -> None:
    with_ampersand = [product for product in products if "&" in product.name]

    assert with_ampersand
    for product in with_ampersand:
        assert b"&amp;" in product.images[0].data
        ET.fromstring(product.images[0].data)


def test_classic_cotton_t_shirt_comes_in_sizes_and_colours(
    categories: list[CategorySeed], products: list[ProductSeed]
) -> None:
    [tee] = [product for product in products if product.name == "Classic Cotton T-Shirt"]
    category_names = {category.slug: category.name for category in categories}

    assert category_names[tee.category_slug] == "T-Shirts"
    assert all(set(variant.attributes) == {"size", "colour"} for variant in tee.variants)
    assert {variant.attributes["size"] for variant in tee.variants} == APPAREL_SIZES
    assert len({image.alt for image in tee.images}) == len(tee.images)


def test_xxl_costs_a_little_more(products: list[ProductSeed]) -> None:
    [tee] = [product for product in products if product.name == "Classic Cotton T-Shirt"]
    price = {variant.attributes["size"]: variant.price_amount for variant in tee.variants}

    assert price["XXL"] > price["M"]


def test_shoes_come_in_eu_sizes(products: list[ProductSeed], categories: list[CategorySeed]) -> None:
    shoe_leaves = {
        category.slug for category in categories if category.parent_slug in {"women-shoes", "men-shoes"}
    }
    shoes = [product for product in products if product.category_slug in shoe_leaves]

    assert shoes
    for shoe in shoes:
        for variant in shoe.variants:
            assert 38 <= int(variant.attributes["size"]) <= 46


def test_every_variant_has_a_gbp_and_but_for_candles_a_usd_price_ending_99(
    goods: list[ProductSeed],
) -> None:
    for product in goods:
        for variant in product.variants:
            prices = variant.prices
            assert prices["EUR"] == variant.price_amount
            assert prices["GBP"] % 100 == 99 and abs(prices["GBP"] - variant.price_amount * 0.86) <= 100
            if product.category_slug == "home-candles":
                assert "USD" not in prices  # the demo's "not sold in the US"
            else:
                assert prices["USD"] % 100 == 99
                assert abs(prices["USD"] - variant.price_amount / 1.19 * 1.08) <= 100
    assert price_list(2900) == {"EUR": 2900, "GBP": 2499, "USD": 2599}
    assert sum(1 for product in goods if product.category_slug == "home-candles") >= 3


def test_variants_weigh_something_and_a_few_products_are_reduced_rate(goods: list[ProductSeed]) -> None:
    assert all(variant.weight_grams > 0 for product in goods for variant in product.variants)
    assert all(variant.kind == "physical" for product in goods for variant in product.variants)
    reduced = [product for product in goods if product.tax_class == "reduced"]
    assert reduced and all(product.category_slug == "sports-hydration" for product in reduced)
    assert {product.tax_class for product in goods} == {"standard", "reduced"}


def test_the_gift_card_comes_in_three_denominations_in_every_currency(
    products: list[ProductSeed], categories: list[CategorySeed]
) -> None:
    [card] = [product for product in products if product.category_slug == "gift-cards"]
    assert card.name == "Mercato gift card" and card.tax_class == "zero"
    assert [(v.sku, v.attributes, v.prices) for v in card.variants] == [
        (f"GIFT-{n}", {"value": str(n)}, {"EUR": n * 100, "GBP": n * 100, "USD": n * 100})
        for n in (25, 50, 100)
    ]
    assert all(v.kind == "gift_card" and v.weight_grams == 0 for v in card.variants)
    assert all(v.stock >= 1_000_000 for v in card.variants)  # never sold out in practice
    [category] = [c for c in categories if c.slug == "gift-cards"]
    assert (category.name, category.parent_slug) == ("Gift cards", None)
    ET.fromstring(card.images[0].data)
