"""orders: the quote — tax rates, shipping zones and methods (seeded), and the order's snapshot of its
quote (market, country, tax, discount, shipping method, billing address, tax lines; per line its tax,
rate, class, total and discount)

Orders placed before keep what they were sold with: no tax recorded (tax 0, no tax lines), in the EU
market, their lines' totals computed once from unit price × quantity.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 00:40:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# VAT, standard and reduced, as in force on 1 January 2026 (Finland's reduced rate fell from 14 to 13.5).
VAT = {
    "AT": ("20", "10"),
    "BE": ("21", "6"),
    "DE": ("19", "7"),
    "ES": ("21", "10"),
    "FI": ("25.5", "13.5"),
    "FR": ("20", "5.5"),
    "GB": ("20", "5"),
    "IE": ("23", "13.5"),
    "IT": ("22", "10"),
    "LU": ("17", "8"),
    "NL": ("21", "9"),
    "PT": ("23", "6"),
}

# US states' (and DC's) base sales-tax rate, without county or city rates, and whether a separately
# stated delivery charge is taxed there (docs/tax.md). States without a sales tax have none.
US_STATES = {
    "AL": ("4", False), "AZ": ("5.6", False), "AR": ("6.5", True), "CA": ("7.25", False),
    "CO": ("2.9", False), "CT": ("6.35", True), "DC": ("6", True), "FL": ("6", False),
    "GA": ("4", True), "HI": ("4", True), "ID": ("6", False), "IL": ("6.25", False),
    "IN": ("7", True), "IA": ("6", False), "KS": ("6.5", True), "KY": ("6", True),
    "LA": ("5", False), "ME": ("5.5", False), "MD": ("6", False), "MA": ("6.25", False),
    "MI": ("6", True), "MN": ("6.875", True), "MS": ("7", True), "MO": ("4.225", False),
    "NE": ("5.5", True), "NV": ("6.85", False), "NJ": ("6.625", True), "NM": ("4.875", True),
    "NY": ("4", True), "NC": ("4.75", True), "ND": ("5", True), "OH": ("5.75", True),
    "OK": ("4.5", False), "PA": ("6", True), "RI": ("7", True), "SC": ("6", True),
    "SD": ("4.2", True), "TN": ("7", True), "TX": ("6.25", True), "UT": ("6.1", False),
    "VT": ("6", True), "VA": ("5.3", False), "WA": ("6.5", True), "WV": ("6", True),
    "WI": ("5", True), "WY": ("4", False),
}  # fmt: skip

EU = ["AT", "BE", "DE", "ES", "FI", "FR", "IE", "IT", "LU", "NL", "PT"]


ZONES = [
    {"id": "shz_eu", "name": "European Union", "countries": EU, "postal_patterns": []},
    {"id": "shz_berlin", "name": "Berlin shop (pick-up)", "countries": ["DE"], "postal_patterns": []},
    {"id": "shz_uk", "name": "United Kingdom", "countries": ["GB"], "postal_patterns": []},
    {"id": "shz_us", "name": "United States", "countries": ["US"], "postal_patterns": []},
]


def _method(id, zone_id, name, kind, currency, *, amount=0, rate_type="flat", bands=(), free_from=None,
            days=(2, 5), position=0) -> dict:  # fmt: skip
    return {
        "id": id, "zone_id": zone_id, "name": name, "kind": kind, "currency": currency,
        "rate_type": rate_type, "amount": amount, "bands": list(bands), "free_from": free_from,
        "min_days": days[0], "max_days": days[1], "position": position,
    }  # fmt: skip


METHODS = [
    _method("shm_eu_standard", "shz_eu", "Standard delivery", "standard", "EUR", amount=495, free_from=5000,
            days=(2, 5), position=10),
    _method("shm_eu_express", "shz_eu", "Express delivery", "express", "EUR", amount=1295, days=(1, 2),
            position=20),
    _method("shm_berlin_collect", "shz_berlin", "Click & collect at Mercato Berlin, Torstraße 1",
            "click_and_collect", "EUR", amount=0, days=(0, 1), position=30),
    _method("shm_uk_standard", "shz_uk", "Standard delivery", "standard", "GBP", amount=395, free_from=4000,
            days=(2, 4), position=10),
    _method("shm_uk_express", "shz_uk", "Next-day delivery", "express", "GBP", amount=895, days=(1, 1),
            position=20),
    _method("shm_us_standard", "shz_us", "Standard shipping", "standard", "USD", rate_type="value",
            bands=[{"up_to": 4999, "amount": 799}, {"up_to": 9999, "amount": 499}], free_from=10000,
            days=(3, 7), position=10),
    _method("shm_us_express", "shz_us", "Express shipping", "express", "USD", rate_type="weight",
            bands=[{"up_to": 1000, "amount": 1499}, {"up_to": 5000, "amount": 2499},
                   {"up_to": None, "amount": 3999}], days=(1, 3), position=20),
]  # fmt: skip


def upgrade() -> None:
    tax_rates = op.create_table(
        "tax_rates",
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("region", sa.String(8), nullable=False),
        sa.Column("tax_class", sa.String(10), nullable=False),
        sa.Column("rate", sa.String(10), nullable=False),
        sa.Column("label", sa.String(40), nullable=False),
        sa.Column("shipping_taxable", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("country", "region", "tax_class"),
    )
    zones = op.create_table(
        "shipping_zones",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("countries", sa.JSON(), nullable=False),
        sa.Column("postal_patterns", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    methods = op.create_table(
        "shipping_methods",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("zone_id", sa.String(40), sa.ForeignKey("shipping_zones.id"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("rate_type", sa.String(10), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("bands", sa.JSON(), nullable=False),
        sa.Column("free_from", sa.Integer(), nullable=True),
        sa.Column("min_days", sa.Integer(), nullable=False),
        sa.Column("max_days", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    rows = []
    for country, (standard, reduced) in VAT.items():
        rows.append({"country": country, "region": "", "tax_class": "standard", "rate": standard,
                     "label": "VAT", "shipping_taxable": True})  # fmt: skip
        rows.append({"country": country, "region": "", "tax_class": "reduced", "rate": reduced,
                     "label": "VAT", "shipping_taxable": True})  # fmt: skip
    for state, (rate, shipping_taxable) in US_STATES.items():
        rows.append({"country": "US", "region": state, "tax_class": "standard", "rate": rate,
                     "label": f"Sales tax ({state})", "shipping_taxable": shipping_taxable})  # fmt: skip
    op.bulk_insert(tax_rates, rows)
    now = datetime.now(UTC)
    op.bulk_insert(zones, [z | {"active": True, "created_at": now, "updated_at": now} for z in ZONES])
    op.bulk_insert(methods, [m | {"active": True, "created_at": now, "updated_at": now} for m in METHODS])

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("market_id", sa.String(8), nullable=False, server_default="eu"))
        batch_op.add_column(sa.Column("country", sa.String(2), nullable=True))
        batch_op.add_column(
            sa.Column("prices_include_tax", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(sa.Column("tax", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("discount", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("shipping_method", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("billing_address", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("tax_lines", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tax", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("tax_rate", sa.String(10), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("tax_class", sa.String(10), nullable=False, server_default="standard")
        )
        batch_op.add_column(sa.Column("line_total", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("discount", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE order_lines SET line_total = unit_price * quantity")
    op.execute("UPDATE orders SET market_id = CASE currency WHEN 'GBP' THEN 'uk' WHEN 'USD' THEN 'us' ELSE 'eu' END")


def downgrade() -> None:
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        for column in ("discount", "line_total", "tax_class", "tax_rate", "tax"):
            batch_op.drop_column(column)
    with op.batch_alter_table("orders", schema=None) as batch_op:
        for column in ("tax_lines", "billing_address", "shipping_method", "discount", "tax",
                       "prices_include_tax", "country", "market_id"):  # fmt: skip
            batch_op.drop_column(column)
    op.drop_table("shipping_methods")
    op.drop_table("shipping_zones")
    op.drop_table("tax_rates")
