from mercato.platform.migrations import run_migrations
from mercato.platform.sessions import sessions_metadata
from mercato.services.notifications.models import Base

run_migrations(Base.metadata, sessions_metadata)
