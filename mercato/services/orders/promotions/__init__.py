"""Promotions and codes (docs/promotions.md): `rules.py` is a promotion as the quote weighs it, `engine.py`
applies cart promotions to a quote (pure, no I/O), the rest stores them, serves the back office and the
cart's codes, and counts their use at checkout."""
