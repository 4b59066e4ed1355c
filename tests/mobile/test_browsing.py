"""Browsing in the app on the real platform: a category with its sub-categories, the next page loaded
when the list is scrolled to its end, sorting and a colour filter from search's facets, and the gallery."""

from __future__ import annotations

import pytest

from tests.mobile.conftest import find, ids, tap, texts, until

pytestmark = pytest.mark.e2e


async def test_a_category_scrolls_to_its_next_page_and_narrows(app):
    shop = app.shop
    await tap(find(shop.screen.categories, "category-women"))
    listing = shop.screen
    assert type(listing).__name__ == "ListingScreen" and listing.title == "Women"
    first = len(listing.items)
    assert first == 20 and listing.next_cursor, texts(listing.box)

    # Scrolled to the end: the next page comes (Toga's scroll container tells the shell).
    shop.scroller.vertical_position = shop.scroller.max_vertical_position
    await until(lambda: len(listing.items) > first)  # infinite scroll loaded the next page
    seen = [item["id"] for item in listing.items]
    assert len(seen) == len(set(seen)), "no product twice"
    assert len(ids(listing.results, "product-")) == len(listing.items)

    # A sub-category narrows it.
    sub = find(listing.filter_box, "subcategory")
    loads = listing.loads
    sub.value = "Clothing · T-Shirts"
    await until(lambda: listing.loads > loads)
    assert listing.category == "women-tshirts"
    assert 0 < len(listing.items) < first


async def test_search_sorts_and_filters_by_colour(app):
    shop = app.shop
    home = shop.screen
    home.search.value = "shirt"
    await tap(home.search)
    listing = shop.screen
    colours = find(listing.filter_box, "filter-colour")
    assert colours is not None, "search's facets become filters"
    everything = len(listing.items)
    loads = listing.loads
    colours.value = "Black"
    await until(lambda: listing.loads > loads)
    assert listing.filters == {"colour": "Black"}
    assert 0 < len(listing.items) <= everything

    sort = find(listing.filter_box, "sort")
    loads = listing.loads
    sort.value = "Price: low to high"
    await until(lambda: listing.loads > loads)
    assert listing.sort == "price_asc"
    prices = [item["price"]["amount"] for item in listing.items]
    assert prices == sorted(prices)


async def test_the_gallery_steps_through_the_pictures(app):
    shop = app.shop
    from shop.screens.product import ProductScreen

    await shop.show(ProductScreen(shop, "classic-cotton-t-shirt"))
    product = shop.screen
    assert len(product.images) > 1
    assert product.image_caption.text.startswith("Picture 1 of")
    await tap(find(product.gallery_buttons, "image-next"))
    assert product.image_caption.text.startswith("Picture 2 of")
    await tap(find(product.gallery_buttons, "image-prev"))
    await tap(find(product.gallery_buttons, "image-prev"))
    assert product.image_caption.text.startswith(f"Picture {len(product.images)} of")
