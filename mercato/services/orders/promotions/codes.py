"""Bulk single-use codes: a batch is asked for (`requested`, a prefix), answered at once (202), and made
in the background by the process that was asked — in chunks, each in its own transaction with the
batch's progress (`generated`), so the back office's progress bar reads what is really there.

A code is the prefix (and a dash) and ten characters drawn from an alphabet without the characters one
misreads (0/O, 1/I/L, U): 30^10 ≈ 6·10^14 of them, so collisions are rare — and harmless: a code already
taken (by any promotion) is skipped by the INSERT and drawn again.

A process that stops mid-batch leaves it `running` with the codes it made; every orders process resumes
the running batches when it starts. Two processes on one batch take turns on its row (each chunk locks
it), so together they make exactly `requested` codes. A batch that keeps failing (the database gone for
a minute) is marked `failed`, its codes so far kept and valid.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import secrets
from collections.abc import AsyncIterator

from starlette.responses import StreamingResponse

from mercato.platform.db import Database
from mercato.platform.errors import Conflict, NotFound
from mercato.platform.ids import new_id
from mercato.platform.staff import Staff, record_staff_action
from mercato.services.orders.deps import Deps, now
from mercato.services.orders.promotions import store
from mercato.services.orders.promotions.admin import batch_out
from mercato.services.orders.promotions.models import PromotionCodeBatch
from mercato.services.orders.promotions.schemas import BatchIn, BatchOut

log = logging.getLogger("mercato.orders.promotions")

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32 without 0, 1 (and its I, L, O, U)
RANDOM_LENGTH = 10
CHUNK = 1000  # codes per transaction
ATTEMPTS = 5  # failed chunks in a row before the batch is marked failed
CSV_PAGE = 5000

_running: dict[str, tuple[Database, asyncio.Task[None]]] = {}


def draw(prefix: str) -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    if not prefix:
        return body
    return f"{prefix}{body}" if prefix[-1] in "-_" else f"{prefix}-{body}"


async def start_batch(deps: Deps, staff: Staff, promotion_id: str, body: BatchIn) -> BatchOut:
    at = now()
    async with deps.db.unit_of_work() as session:
        promotion = await store.promotion(session, promotion_id)
        if promotion is None:
            raise NotFound("There is no such promotion.")
        if promotion.trigger != "code":
            raise Conflict(
                "Only a promotion applied by codes (trigger code) has codes.", slug="not-a-code-promotion"
            )
        row = PromotionCodeBatch(
            id=new_id("pcb"),
            promotion_id=promotion_id,
            prefix=body.prefix,
            requested=body.count,
            generated=0,
            state="running",
            staff_id=staff.id,
            created_at=at,
            finished_at=None,
        )
        session.add(row)
        await record_staff_action(
            session,
            staff,
            "promotion.codes_generated",
            service="orders",
            target_type="promotion",
            target_id=promotion_id,
            details={"batch_id": row.id, "count": body.count, "prefix": body.prefix},
        )
    run(deps.db, row.id)
    return batch_out(row)


def run(db: Database, batch_id: str) -> None:
    """Make the batch's codes in the background (once per process)."""
    if batch_id in _running:
        return
    task = asyncio.create_task(_generate(db, batch_id))
    _running[batch_id] = (db, task)
    task.add_done_callback(lambda _: _running.pop(batch_id, None))


async def resume(db: Database) -> None:
    """At start: carry on with the batches a stopped process left running."""
    async with db.read() as session:
        for batch_id in await store.running_batches(session):
            run(db, batch_id)


async def stop(db: Database) -> None:
    """At shutdown: stop this database's runners between chunks (a chunk under way rolls back)."""
    tasks = [task for owner, task in list(_running.values()) if owner is db]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _generate(db: Database, batch_id: str) -> None:
    failures = 0
    while True:
        try:
            more = await _chunk(db, batch_id)
            failures = 0
        except asyncio.CancelledError:
            raise
        except Exception:
            failures += 1
            log.exception("a chunk of promotion codes failed", extra={"batch_id": batch_id})
            if failures >= ATTEMPTS:
                await _give_up(db, batch_id)
                return
            await asyncio.sleep(2**failures / 4)
            continue
        if not more:
            return
        await asyncio.sleep(0)  # let requests in between chunks


async def _chunk(db: Database, batch_id: str) -> bool:
    """Make up to CHUNK codes in one transaction; whether there are more to make."""
    async with db.unit_of_work() as session:
        batch = await store.claim_batch(session, batch_id)
        if batch is None:
            return False
        wanted = min(CHUNK, batch.requested - batch.generated)
        at = now()
        made = fruitless = 0
        while made < wanted:
            drawn = list({draw(batch.prefix) for _ in range(wanted - made)})
            new = await store.insert_codes(
                session, drawn, promotion_id=batch.promotion_id, batch_id=batch.id, at=at
            )
            made, fruitless = made + new, 0 if new else fruitless + 1
            if fruitless > 20:
                raise RuntimeError(f"no free code left with the prefix {batch.prefix!r}")
        batch.generated += made
        if batch.generated >= batch.requested:
            batch.state, batch.finished_at = "done", at
        return batch.state == "running"


async def _give_up(db: Database, batch_id: str) -> None:
    try:
        async with db.unit_of_work() as session:
            await store.finish_batch(session, batch_id, state="failed", at=now())
    except Exception:
        log.exception("a batch of promotion codes could not be marked failed", extra={"batch_id": batch_id})


async def batch(deps: Deps, promotion_id: str, batch_id: str) -> BatchOut:
    async with deps.db.read() as session:
        row = await store.batch(session, promotion_id, batch_id)
    if row is None:
        raise NotFound("There is no such batch of codes.")
    return batch_out(row)


async def codes_csv(deps: Deps, promotion_id: str, batch_id: str) -> StreamingResponse:
    """The batch's codes as CSV (`code,used`), read in pages as it is sent."""
    found = await batch(deps, promotion_id, batch_id)
    return StreamingResponse(
        _rows(deps.db, promotion_id, batch_id),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="codes-{found.id}.csv"',
            "Cache-Control": "no-store",
        },
    )


async def _rows(db: Database, promotion_id: str, batch_id: str) -> AsyncIterator[str]:
    yield "code,used\r\n"
    after = ""
    while True:
        async with db.read() as session:
            rows = await store.batch_codes(session, promotion_id, batch_id, after=after, limit=CSV_PAGE)
        if not rows:
            return
        out = io.StringIO()
        csv.writer(out).writerows(rows)
        yield out.getvalue()
        after = rows[-1][0]
