from mercato.platform.migrations import run_migrations
from mercato.services.notifications.models import Base

run_migrations(Base.metadata)
