from mercato.platform.migrations import run_migrations
from mercato.services.search.models import Base

run_migrations(Base.metadata)
