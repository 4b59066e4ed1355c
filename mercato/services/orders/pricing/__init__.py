"""Orders' one quote: what a cart costs delivered to an address in a market — its lines' tax, the
shipping methods that apply and their charge, the totals (docs/money.md, docs/tax.md, docs/shipping.md).

`quote.py` is pure (no I/O): the cart and checkout price through `quote.quote()`, given the config
snapshot `config.py` describes, which `cache.py` keeps in memory so that the hot path sends no statement
for it. `tax.py` is the one place tax rates are chosen; `shipping.py` the one place methods are matched
and charged.
"""
