"""Sync state per stream: the cursor and whatever else a source needs to resume.

Saved in the same transaction as the page it describes (see ``uow``), so state never runs
ahead of the rows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, select

from connector.model import JsonDict
from connector.store.engine import upsert_insert
from connector.store.schema import sync_state


def get(conn: Connection, stream: str) -> JsonDict | None:
    """The stream's saved state, ``None`` if it has never been saved (or was cleared)."""
    query = select(sync_state.c.state).where(sync_state.c.stream == stream)
    saved: Any = conn.execute(query).scalar_one_or_none()
    return dict(saved) if saved is not None else None


def save(conn: Connection, stream: str, state: JsonDict) -> None:
    """Replace the stream's state (it must be JSON-able)."""
    values = {"stream": stream, "state": state, "updated_at": datetime.now(UTC)}
    insert = upsert_insert(conn, sync_state).values(values)
    conn.execute(
        insert.on_conflict_do_update(
            index_elements=[sync_state.c.stream],
            set_={"state": insert.excluded.state, "updated_at": insert.excluded.updated_at},
        )
    )


def clear(conn: Connection, stream: str) -> None:
    """Forget the stream's state, so the next pull starts from scratch (``--full``)."""
    conn.execute(delete(sync_state).where(sync_state.c.stream == stream))
