"""The back office in a real browser: a new staff member enrols TOTP and signs in; a CSV import with one
bad row changes nothing and says which row, the fixed file goes in; shipping an order e-mails the
customer their tracking number; a partial refund adds a payment record and e-mails the customer."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pyotp
import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import screenshot
from tests.e2e.staff import PASSWORD, StaffMember, create_staff

ADDRESS = {
    "name": "Grace Hopper",
    "line1": "7 Harbour Rd",
    "city": "Hamburg",
    "postal_code": "20095",
    "country": "DE",
}


@pytest.fixture
async def admin(browser, platform) -> AsyncIterator[Page]:
    context = await browser.new_context(
        base_url=platform.topology.admin_url, viewport={"width": 1280, "height": 900}
    )
    page = await context.new_page()
    page.set_default_timeout(15_000)
    yield page
    await context.close()


async def sign_in_for_the_first_time(page: Page, member: StaffMember) -> list[str]:
    """Password, then the enrolment page: the key from the page into an authenticator (pyotp), the first
    code and an own password; returns the recovery codes shown."""
    await page.goto("/")
    await expect(page).to_have_url(re.compile(r"/login"))
    await page.get_by_label("E-mail").fill(member.email)
    await page.get_by_label("Password").fill(member.password)
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_role("heading", name="Set up your authenticator")).to_be_visible()
    await expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    member.secret = (await page.locator("#totp-secret").inner_text()).strip()
    await page.get_by_label("Six-digit code").fill(pyotp.TOTP(member.secret).now())
    await page.get_by_label("Choose your own password").fill(PASSWORD)
    await page.get_by_role("button", name="Confirm").click()
    await expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
    codes = [code.strip() for code in await page.locator("#recovery-codes code").all_inner_texts()]
    member.password = PASSWORD
    await page.get_by_role("link", name=re.compile("continue")).click()
    return codes


async def sign_in(page: Page, member: StaffMember, *, code: str) -> None:
    await page.goto("/login")
    await page.get_by_label("E-mail").fill(member.email)
    await page.get_by_label("Password").fill(member.password)
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_label("Six-digit code from your authenticator app").fill(code)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Good to see you")).to_be_visible()


async def test_a_new_staff_member_enrols_totp_then_signs_in_with_a_code(admin: Page, platform):
    member = create_staff(platform, roles=("operations",))
    codes = await sign_in_for_the_first_time(admin, member)
    assert len(codes) == 10 and len(set(codes)) == 10
    await expect(admin.get_by_role("heading", name="Good to see you")).to_be_visible()
    await expect(admin.get_by_role("link", name="Orders").first).to_be_visible()
    await expect(admin.get_by_role("navigation").get_by_role("link", name="Staff")).to_have_count(0)

    await admin.get_by_role("button", name="Sign out").click()
    await expect(admin).to_have_url(re.compile(r"/login"))
    await sign_in(admin, member, code=member.code(steps_ahead=1))  # the enrolment's code can't be reused

    await admin.get_by_role("button", name="Sign out").click()
    await admin.get_by_label("E-mail").fill(member.email)
    await admin.get_by_label("Password").fill(member.password)
    await admin.get_by_role("button", name="Continue").click()
    await admin.get_by_label("Six-digit code from your authenticator app").fill("000000")
    await admin.get_by_role("button", name="Sign in").click()
    await expect(admin.get_by_role("alert")).to_contain_text("didn't match")


async def test_a_refused_first_password_keeps_the_scanned_authenticator_and_the_rules_are_shown_first(
    admin: Page, platform
):
    member = create_staff(platform, roles=("support",))
    local_part = member.email.split("@")[0]
    await admin.goto("/login")
    await admin.get_by_label("E-mail").fill(member.email)
    await admin.get_by_label("Password").fill(member.password)
    await admin.get_by_role("button", name="Continue").click()
    await expect(admin.locator("#f-new_password-hint")).to_contain_text(f"not containing “{local_part}”")
    member.secret = (await admin.locator("#totp-secret").inner_text()).strip()

    await admin.get_by_label("Six-digit code").fill(member.code())
    await admin.get_by_label("Choose your own password").fill(f"{local_part} is my password")
    await admin.get_by_role("button", name="Confirm").click()

    await expect(admin.get_by_role("heading", name="Set up your authenticator")).to_be_visible()
    await expect(admin.locator("#f-new_password-error")).to_contain_text("must not contain your e-mail")
    assert (await admin.locator("#totp-secret").inner_text()).strip() == member.secret  # the same key
    await expect(admin.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    await admin.get_by_label("Six-digit code").fill(member.code())
    await admin.get_by_label("Choose your own password").fill(PASSWORD)
    await admin.get_by_role("button", name="Confirm").click()
    await expect(admin.get_by_role("heading", name="Save your recovery codes")).to_be_visible()


async def test_the_product_page_shows_the_products_images(admin: Page, platform, gateway):
    product = gateway.get("/api/v1/products/boxy-organic-tee").json()
    assert product["images"]
    await sign_in_for_the_first_time(admin, create_staff(platform, roles=("merchandising",)))
    responses = []
    admin.on("response", lambda r: responses.append(r) if "/api/v1/images/" in r.url else None)
    await admin.goto(f"/products/{product['id']}")
    images = admin.locator("#images img")
    await expect(images).to_have_count(len(product["images"]))
    await expect(images.first).to_have_js_property("complete", True)
    widths = await images.evaluate_all("images => images.map(image => image.naturalWidth)")
    assert all(width > 0 for width in widths), widths
    assert responses and all(r.status == 200 for r in responses), [(r.url, r.status) for r in responses]


async def test_the_back_office_keeps_its_own_cookies_apart_from_the_shop(admin: Page, platform):
    member = create_staff(platform, roles=("support",))
    await sign_in_for_the_first_time(admin, member)
    cookies = await admin.context.cookies()
    names = {cookie["name"] for cookie in cookies}
    assert {"mercato_admin_access", "mercato_admin_refresh"} <= names
    assert not names & {"mercato_access", "mercato_refresh", "mercato_csrf"}
    assert {cookie["domain"] for cookie in cookies} == {"localhost"}  # the shop is 127.0.0.1
    assert all(cookie["httpOnly"] and cookie["sameSite"] == "Strict" for cookie in cookies)


def _shopper_order(platform, gateway: httpx.Client) -> tuple[str, str]:
    """A customer buys a T-shirt through the public API; returns (order id, their e-mail)."""
    email = f"grace-{uuid.uuid4().hex[:8]}@example.com"
    gateway.post(
        "/api/v1/customers", json={"email": email, "password": "correct horse battery", "name": "Grace"}
    )
    token = gateway.post(
        "/api/v1/auth/token", json={"email": email, "password": "correct horse battery"}
    ).json()
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    sku = gateway.get("/api/v1/products/boxy-organic-tee").json()["variants"][2]["sku"]
    platform.set_stock(sku, 5)
    assert (
        gateway.post("/api/v1/cart/items", json={"sku": sku, "quantity": 2}, headers=auth).status_code == 200
    )
    order = gateway.post(
        "/api/v1/checkout",
        json={"shipping_address": ADDRESS, "payment_method": platform.card()},
        headers=auth | {"Idempotency-Key": uuid.uuid4().hex},
    )
    assert order.status_code == 201, order.text
    return order.json()["id"], email


def _wait_for_mail(platform, email: str, subject: str, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = httpx.get(
            f"{platform.topology.mail_sink_web_url}/api/messages", params={"to": email, "subject": subject}
        ).json()["data"]
        if found:
            return found[0]
        time.sleep(0.25)
    raise AssertionError(f"no e-mail to {email} about {subject!r}")


async def test_shipping_and_a_partial_refund_reach_the_customer_by_e_mail(admin: Page, platform, gateway):
    order_id, email = _shopper_order(platform, gateway)
    await sign_in_for_the_first_time(admin, create_staff(platform, roles=("operations",)))

    await admin.goto("/orders?state=placed")
    await admin.locator(f"main a[href='/orders/{order_id}']").click()
    await admin.get_by_role("button", name="Start processing").click()
    await expect(admin.locator("#order-state")).to_have_text("Processing")
    await admin.get_by_label("Carrier").select_option("DHL")
    await admin.get_by_label("Tracking number").fill("JJD0099887766")
    await admin.get_by_role("button", name="Mark shipped").click()
    await expect(admin.locator("#order-state")).to_have_text("Shipped")
    await expect(admin.locator("#timeline")).to_contain_text("Shipped")
    await screenshot(admin, platform, "admin-order")
    shipped = _wait_for_mail(platform, email, "on its way")
    assert "JJD0099887766" in shipped["text"] and "DHL" in shipped["text"]

    await admin.get_by_label(re.compile(r"^Amount")).fill("5.00")
    await admin.get_by_label("Reason").last.fill("Goodwill: late delivery")
    await admin.get_by_role("button", name="Refund").click()
    await expect(admin.locator("#done")).to_contain_text("refund")
    records = admin.locator("#payment-records tbody tr")
    await expect(records.filter(has_text="Refund")).to_have_count(1)
    await expect(records.filter(has_text="Goodwill: late delivery")).to_have_count(1)
    refunded = _wait_for_mail(platform, email, "Refund of")
    assert "5.00" in refunded["subject"]


def _csv(slug: str, *, bad_price_on_second_row: bool) -> bytes:
    second_price = "twelve" if bad_price_on_second_row else "39.90"
    product = f"{slug},Harbour Linen Shirt,Cool in summer.,Lumen,women-tshirts,active"
    rows = [
        "product_slug,product_name,description,brand,category_slug,status,sku,size,colour,price,currency,stock",
        f"{product},{slug.upper()}-S,S,White,39.90,EUR,4",
        f"{product},{slug.upper()}-M,M,White,{second_price},EUR,6",
    ]
    return ("\n".join(rows) + "\n").encode()


async def test_a_csv_with_one_bad_row_changes_nothing_then_the_fixed_file_goes_in(
    admin: Page, platform, gateway
):
    slug = f"harbour-{uuid.uuid4().hex[:6]}"
    await sign_in_for_the_first_time(admin, create_staff(platform, roles=("merchandising",)))
    await admin.goto("/imports")
    upload = admin.get_by_label("CSV file (up to 10 MB)")

    await upload.set_input_files(
        {"name": "spring.csv", "mimeType": "text/csv", "buffer": _csv(slug, bad_price_on_second_row=True)}
    )
    await admin.get_by_role("button", name="Check and import").click()
    errors = admin.locator("#import-errors tbody tr")
    await expect(errors).to_have_count(1)
    await expect(errors.first).to_contain_text("3")  # the spreadsheet's row number: header is row 1
    await expect(errors.first).to_contain_text("price")
    await screenshot(admin, platform, "admin-import-rejected")
    assert gateway.get(f"/api/v1/products/{slug}").status_code == 404  # not even the good row

    upload = admin.get_by_label("CSV file (up to 10 MB)")
    await upload.set_input_files(
        {"name": "spring.csv", "mimeType": "text/csv", "buffer": _csv(slug, bad_price_on_second_row=False)}
    )
    await admin.get_by_role("button", name="Check and import").click()
    await expect(admin.locator("#import-result")).to_contain_text("1 created")
    product = gateway.get(f"/api/v1/products/{slug}")
    assert product.status_code == 200
    assert sorted(v["sku"] for v in product.json()["variants"]) == [f"{slug.upper()}-M", f"{slug.upper()}-S"]
    await expect(admin.locator("#import-history tbody tr").first).to_contain_text("Applied")


async def test_an_admin_works_through_every_section(admin: Page, platform, gateway):
    """One pass through each page of the back office, doing one real thing in each."""
    order_id, email = _shopper_order(platform, gateway)
    await sign_in_for_the_first_time(admin, create_staff(platform, roles=("admin",)))
    nav = admin.get_by_role("navigation", name="Back office")

    # merchandising: find a product, change its prices (no GBP price: not sold in the UK), archive it (gone
    # from the shop), bring it back
    await nav.get_by_role("link", name="Products").click()
    await admin.get_by_label("Name, SKU or slug").fill("ribbed-fitted-tee")
    await admin.get_by_role("button", name="Find").click()
    await admin.locator("#products").get_by_role("link", name="Ribbed Fitted Tee").click()
    sku = (await admin.locator("#variants tbody tr td").first.inner_text()).strip()
    await admin.get_by_role("textbox", name=f"EUR price of {sku}").fill("31.50")
    await admin.get_by_role("textbox", name=f"GBP price of {sku}").fill("")
    await admin.get_by_role("textbox", name=f"Weight of {sku}").fill("215")
    await admin.get_by_role("form", name=f"Prices of {sku}").get_by_role("button", name="Save").click()
    await expect(admin.locator("#done")).to_contain_text("variant is saved")

    def shown(country: str) -> dict:
        page = gateway.get("/api/v1/products/ribbed-fitted-tee", params={"country": country}).json()
        return next(v for v in page["variants"] if v["sku"] == sku)

    assert shown("DE")["price"] == {"amount": 3150, "currency": "EUR"}
    assert shown("GB")["price"] is None and shown("US")["price"]["currency"] == "USD"
    await admin.get_by_role("button", name="Archive").click()
    await expect(admin.locator("#product-status")).to_have_text("Archived")
    assert gateway.get("/api/v1/products/ribbed-fitted-tee").status_code == 404
    await admin.get_by_role("button", name="Unarchive").click()
    await expect(admin.locator("#product-status")).to_have_text("Active")
    await screenshot(admin, platform, "admin-product")

    # inventory: count stock in, with a reason; the history says who
    await admin.locator("#variants").get_by_role("link", name=sku).click()
    before = int(await admin.locator("#on-hand").inner_text())
    await admin.get_by_label("Change (e.g. 12 or -3)").fill("7")
    await admin.get_by_label("Reason").select_option("received")
    await admin.get_by_role("button", name="Adjust").click()
    await expect(admin.locator("#on-hand")).to_have_text(str(before + 7))
    await expect(admin.locator("#adjustments tbody tr").first).to_contain_text("Received")

    # categories: add one under T-Shirts, rename it, delete it (it is empty)
    await admin.goto("/categories")
    await admin.get_by_label("Name", exact=True).last.fill("Graphic Tees")
    await admin.get_by_label("URL slug", exact=True).last.fill(f"graphic-tees-{uuid.uuid4().hex[:4]}")
    await admin.get_by_label("Parent", exact=True).last.select_option("women-tshirts")
    await admin.get_by_role("button", name="Add").click()
    await expect(admin.locator("#done")).to_contain_text("category is saved")
    row = admin.locator("#categories").get_by_role("row", name=re.compile(r"^Graphic Tees"))
    await row.get_by_text("Edit").click()
    await row.get_by_label("Name").fill("Printed Tees")
    await row.get_by_role("button", name="Save").click()
    row = admin.locator("#categories").get_by_role("row", name=re.compile(r"^Printed Tees"))
    await expect(row).to_have_count(1)
    await row.get_by_text("Edit").click()
    await row.get_by_role("button", name="Delete this empty category").click()
    await expect(admin.locator("#done")).to_contain_text("category is deleted")
    await expect(
        admin.locator("#categories").get_by_role("row", name=re.compile(r"^Printed Tees"))
    ).to_have_count(0)

    # support: find the customer, see their order, export their data
    await nav.get_by_role("link", name="Customers").click()
    await admin.get_by_label("Full e-mail, full name or id").fill(email)
    await admin.get_by_role("button", name="Find", exact=True).click()  # not "Find guest"
    await admin.get_by_role("link", name="Grace").click()
    await expect(admin.locator(f"main a[href='/orders/{order_id}']")).to_be_visible()
    async with admin.expect_download() as download_info:
        await admin.get_by_role("link", name="Export their data").click()
    exported = (await (await download_info.value).path()).read_text()
    assert email in exported and order_id in exported

    # reports: charts with their figures
    await nav.get_by_role("link", name="Reports").click()
    await expect(admin.locator(".chart svg").first).to_be_visible()
    await expect(admin.locator("#top-products tbody tr").first).to_be_visible()
    await screenshot(admin, platform, "admin-reports")

    # staff: add a colleague; the audit log has what this admin did, from where
    await nav.get_by_role("link", name="Staff").click()
    await admin.get_by_label("Name").fill("Sam Support")
    await admin.get_by_label("E-mail").fill(f"sam-{uuid.uuid4().hex[:6]}@example.com")
    await admin.get_by_role("checkbox", name="Support").last.check()
    await admin.get_by_role("button", name="Add").click()
    await expect(admin.locator("#temporary-password")).to_be_visible()
    await nav.get_by_role("link", name="Audit log").click()
    audit = admin.locator("#audit tbody")
    await expect(audit).to_contain_text("staff.create")
    await expect(audit).to_contain_text("inventory")


async def test_an_expired_access_token_is_refreshed_once_for_a_page_of_parallel_calls(admin: Page, platform):
    """The reports page asks for three reports at once. With the access token gone, they must share one
    refresh: refresh tokens rotate, and presenting a spent one would end the session."""
    await sign_in_for_the_first_time(admin, create_staff(platform, roles=("operations",)))
    await admin.context.clear_cookies(name="mercato_admin_access")  # as if its 10 minutes were up

    await admin.goto("/reports")
    await expect(admin.get_by_role("heading", name="Sales per day")).to_be_visible()
    names = {cookie["name"] for cookie in await admin.context.cookies()}
    assert "mercato_admin_access" in names  # a fresh one

    await admin.goto("/orders")
    await expect(admin.get_by_role("heading", name="Orders")).to_be_visible()  # still signed in
