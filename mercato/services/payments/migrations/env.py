from mercato.platform.migrations import run_migrations
from mercato.services.payments.giftcards.models import Base  # payments' tables, gift cards' among them

run_migrations(Base.metadata)
