"""Search keeps its products in the Tantivy index (index.py); its database holds only the kernel's
inbox and dead letters, so events are handled once and failures can be replayed."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
