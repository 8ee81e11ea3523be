"""The local store: engine and migrations, mirror tables, sync state, run history.

Repositories are modules of plain functions over a ``Connection`` (``mirror``, ``state``,
``runs``); ``UnitOfWork`` gives that connection inside one transaction. SQLAlchemy Core only.
"""

from connector.store import mirror, runs, state
from connector.store.engine import current_revision, head_revision, make_engine, upgrade
from connector.store.uow import UnitOfWork

__all__ = [
    "UnitOfWork",
    "current_revision",
    "head_revision",
    "make_engine",
    "mirror",
    "runs",
    "state",
    "upgrade",
]
