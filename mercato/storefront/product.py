"""The product page and its variant picker. The picker is one form: what is picked is what "Add to cart"
posts (the product and the chosen options), and the server resolves the options to the SKU — so it works
without JavaScript too. product.js only keeps price, availability, image and SKU in step as the shopper
picks (and disables the button on a sold-out pick); the server still decides."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response

from mercato.storefront import market, pages
from mercato.storefront.gateway import NotFound
from mercato.storefront.guest import send_cart
from mercato.storefront.shop import SKU, csrf, field, problem, quantity, redirect
from mercato.storefront.web import error_page, gw, render, settings

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,199}$")
OPTIONS = ("colour", "size")

router = APIRouter()
posts = APIRouter(dependencies=[Depends(csrf)])


def product_page(
    request: Request,
    item: dict[str, Any],
    size: str | None,
    colour: str | None,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    variant = pages.pick_variant(item, size, colour) if for_sale(item) else None
    base = settings.public_url.rstrip("/")
    url = f"{base}/p/{item['slug']}"
    return render(
        request,
        "product.jinja",
        status_code,
        shared=True,
        product=item,
        canonical=url,
        description=pages.meta_description(item.get("description") or item["name"]),
        json_ld=pages.product_json_ld(item, url, base),
        picker_json=pages.picker_json(item),
        gallery=pages.gallery(item, colour),
        sizes=pages.option_values(item, "size"),
        colours=pages.option_values(item, "colour"),
        size=size,
        colour=colour,
        variant=variant,
        stock=pages.stock_by_options(item),
        price=pages.format_money(variant["price"])
        if variant
        else pages.format_price_range(item["price_range"]),
        was=(pages.format_money(variant["compare_at_price"]) if variant.get("compare_at_price") else "")
        if variant
        else pages.was_price(item),
        sale=item.get("sale"),
        for_sale=for_sale(item),
        error=error,
    )


def for_sale(item: dict[str, Any]) -> bool:
    """Sold in the shopper's market: catalog prices it there."""
    return bool(item.get("for_sale", True)) and item.get("price_range") is not None


async def product_in_market(request: Request, slug: str) -> dict[str, Any]:
    if not SLUG.match(slug):
        raise NotFound("catalog", slug)
    return await gw(request).product(slug, country=market.shown_of(request).country)


@router.get("/p/{slug}")
async def product(
    request: Request, slug: str, size: str | None = None, colour: str | None = None
) -> Response:
    item = await product_in_market(request, slug)
    variants = item.get("variants") or []
    if size is None and colour is None:
        first = next((v for v in variants if v.get("available")), variants[0] if variants else None)
        if first:
            size, colour = first["attributes"].get("size"), first["attributes"].get("colour")
    return product_page(request, item, size, colour)


def option(form: Any, name: str) -> str | None:
    return field(form, name, 100) or None


async def add_the_pick(request: Request, form: Any, slug: str) -> Response:
    """The options the shopper picked, resolved to the one variant they name — or the page again, saying
    why not (a combination we don't make, a sold-out pick), with the pick kept."""
    item = await product_in_market(request, slug)
    size, colour = option(form, "size"), option(form, "colour")
    if form.get("show"):  # "Check price and stock", the picker's no-JavaScript refresh
        picked = {name: value for name, value in (("colour", colour), ("size", size)) if value}
        return redirect(f"/p/{slug}?{urlencode(picked)}" if picked else f"/p/{slug}")
    if not for_sale(item):
        return product_page(request, item, size, colour, 409, not_sold_here(request))
    variant = pages.pick_variant(item, size, colour)
    if variant is None:
        missing = [name for name in OPTIONS if pages.option_values(item, name) and not option(form, name)]
        message = (
            f"Please choose a {' and a '.join(missing)}."
            if missing
            else f"Sorry, we don't make the {item['name']} in {pages.pick_label(size, colour)}. "
            "Please choose another combination."
        )
        return product_page(request, item, size, colour, 422, message)
    if int(variant.get("available") or 0) <= 0:
        return product_page(request, item, size, colour, 409, sold_out(item, size, colour))
    response = await send_cart(
        request,
        "POST",
        "/api/v1/cart/items",
        create=True,
        json={"sku": variant["sku"], "quantity": max(1, quantity(form))},
    )
    if response.status_code == 409:
        message = (
            not_sold_here(request)
            if str(problem(response).get("type", "")).endswith("/not-sold-in-market")
            else sold_out(item, size, colour, just=True)
        )
        return product_page(request, item, size, colour, 409, message)
    if response.status_code >= 400:
        return product_page(request, item, size, colour, 400, "Sorry, we couldn't add that to your cart.")
    return redirect("/cart")


def not_sold_here(request: Request) -> str:
    shown = market.shown_of(request)
    where = f" ({market.country_name(shown.country)})" if shown.country else ""
    return f"Sorry, this is not sold in your market{where}."


def sold_out(item: dict[str, Any], size: str | None, colour: str | None, *, just: bool = False) -> str:
    what = pages.pick_label(size, colour)
    if just:
        return f"Sorry, {what} has just sold out (or we don't have that many). Please choose another."
    return f"Sorry, {what} is sold out. Please choose another size or colour."


@posts.post("/cart/items")
async def add_to_cart(request: Request) -> Response:
    form = await request.form()
    if slug := field(form, "product", 200):  # the product page's picker
        return await add_the_pick(request, form, slug)
    sku = field(form, "sku", 64)  # a SKU as such (e.g. from elsewhere, or a script)
    if not SKU.match(sku):
        return error_page(
            request, 400, "Please pick a size and colour", "Choose a variant, then add it to your cart."
        )
    response = await send_cart(
        request,
        "POST",
        "/api/v1/cart/items",
        create=True,
        json={"sku": sku, "quantity": max(1, quantity(form))},
    )
    if response.status_code == 409:
        return error_page(request, 409, "Sold out", "Sorry, that size and colour has just sold out.")
    if response.status_code >= 400:
        return error_page(request, 400, "That didn't work", "We couldn't add that to your cart.")
    return redirect("/cart")


router.include_router(posts)
