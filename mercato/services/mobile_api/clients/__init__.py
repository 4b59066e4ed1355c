"""The four services the mobile API composes — catalog, search, orders, customers — called directly on
their private addresses, and their answers parsed into the few typed facts the screens use (screens never
read a payload). A service's problem (4xx) is raised as `RemoteProblem` and reaches the app unchanged; a
service that does not answer is `ServiceUnavailable` (503)."""

from __future__ import annotations

from dataclasses import dataclass

from mercato.services.mobile_api.clients.accounts import Account, Address, Customers
from mercato.services.mobile_api.clients.browsing import (
    Catalog,
    Category,
    Market,
    Product,
    ProductEntry,
    ProductList,
    Search,
    Variant,
)
from mercato.services.mobile_api.clients.quotes import ShippingMethod, TaxLine, Totals
from mercato.services.mobile_api.clients.shopping import (
    Buyer,
    Cart,
    CartLine,
    CreditNote,
    Delivery,
    Order,
    OrderLine,
    Orders,
    OrderSummary,
    Placed,
    StateChange,
    identity,
)

__all__ = [
    "Account", "Address", "Buyer", "Cart", "CartLine", "Catalog", "Category", "CreditNote", "Customers",
    "Delivery", "Market", "Order", "OrderLine", "OrderSummary", "Orders", "Placed", "Product", "ProductEntry",
    "ProductList", "Search", "Services", "ShippingMethod", "StateChange", "TaxLine", "Totals", "Variant",
    "identity",
]  # fmt: skip


@dataclass
class Services:
    catalog: Catalog
    search: Search
    orders: Orders
    customers: Customers

    async def close(self) -> None:
        for client in (self.catalog, self.search, self.orders, self.customers):
            await client.client.close()
