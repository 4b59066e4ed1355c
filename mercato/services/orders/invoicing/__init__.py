"""Invoices and credit notes (docs/invoices.md).

Numbers are given in the transaction that places the order (`issue.number_invoice`, from
`settlement.place`) or settles a refund (`issue.credit_refund`): gapless per market and year, never for a
checkout that failed. The PDFs are renderings of the order's immutable snapshot, made after the order is
placed — on the first request for one (the confirmation e-mail's, usually), then kept in the object
store (`documents.py`); never on the checkout path.
"""
