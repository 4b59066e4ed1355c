from mercato.platform.migrations import run_migrations
from mercato.services.orders.models import Base

run_migrations(Base.metadata)
