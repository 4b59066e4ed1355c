from mercato.platform.migrations import run_migrations
from mercato.platform.sessions import sessions_metadata
from mercato.services.orders.invoicing import models as invoicing_models  # noqa: F401 - its tables
from mercato.services.orders.models import Base
from mercato.services.orders.pricing import models as pricing_models  # noqa: F401 - its tables
from mercato.services.orders.promotions import models as promotion_models  # noqa: F401 - its tables

run_migrations(Base.metadata, sessions_metadata)
