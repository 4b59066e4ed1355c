"""The catalog's back office (`/admin/v1`): products and variants, images, categories, inventory, and CSV
bulk import and export — the same shape as a service, one module per topic, on catalog's models.

Who may do what (`mercato.platform.staff`; `admin` may do everything):

- merchandising: everything here;
- support and operations: read products, categories and stock — to answer a customer ("is it coming
  back in my size?") and to plan fulfilment — but change nothing, and not bulk-export the catalog or
  read the import history, which are merchandising's tools.

Every write is put on the audit trail (`record_staff_action`) and every change a shopper or search could
notice is published (ProductCreated/ProductUpdated with the whole product, InventoryChanged), both in
the transaction that makes the change.
"""

SERVICE = "catalog"
"""The `service` of this package's audit trail entries."""
