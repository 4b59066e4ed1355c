"""Gift cards: a tender payments owns, beside the card (docs/gift-cards.md).

- `codes.py`: the code (16 Crockford base32 characters, shown `XXXX-XXXX-XXXX-XXXX`), its normal form
  and lookup hash.
- `models.py`: the card (code encrypted, hash, last4, balance) and its append-only ledger.
- `repository.py`: every query, the conditional balance UPDATEs among them.
- `tender.py`: paying with gift cards — debit in order, reverse, refund first, the tenders.
- `cards.py`: issuing (by staff; bought in an order), the balance, disabling, the staff's views.
- `api.py`, `schemas.py`: the public balance, the internal code, the back office's routes.
"""
