"""What customers does with events: keep the audit log of staff actions from every service (its own
included). Thin handlers over the staff use cases."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.events import StaffActionRecorded
from mercato.platform.handlers import HandlerContext, Handlers
from mercato.services.customers.staff import service as staff

# From the start of the stream: a new audit log begins with every staff action the broker still holds.
handlers = Handlers("customers", start="all")


@handlers.on(StaffActionRecorded)
async def keep_audit_trail(
    session: AsyncSession, event: StaffActionRecorded, context: HandlerContext
) -> None:
    await staff.record_audit_entry(session, event, event_id=context.event_id)
