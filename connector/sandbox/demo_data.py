"""The plain-data form of a generated org: what the seed generator makes, the emulators load."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Story:
    """One row of the story table: an account, the rule it illustrates, what should come out."""

    account_name: str
    account_id: str
    rule: str
    fires: bool
    why: str
    outputs: tuple[str, ...] = ()  # expected keys, e.g. "support_risk:001..." (empty when silent)
    case: str = ""  # which condition of the rule the story shows, e.g. "(a) volume"
    owner: str = ""  # role in DemoData.users that owns the rule's main output ("" when none)
    act: int = 0  # 0: the first cycle on the seeded data; n: after DemoData.acts of act n
    account_outputs: tuple[str, ...] = ()  # every output key the account yields in that act


@dataclass
class DemoData:
    """A whole demo org, as wire-format records.

    Salesforce values are as the REST API returns them: dates ``YYYY-MM-DD``, datetimes
    ``YYYY-MM-DDTHH:MM:SS.000+0000``, numbers as int/float, checkboxes as bool, multi-select
    picklists as ``"A;B"``. Every record has ``Id``, ``IsDeleted``, ``CreatedDate``,
    ``CreatedById``, ``LastModifiedDate``, ``LastModifiedById`` and ``SystemModstamp``.
    Zendesk records are in the Support API's JSON shape (integer ids, ``...Z`` times).
    """

    scale: str
    seed: int
    anchor: datetime  # the instant the data was generated around (timezone-aware UTC)
    salesforce: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    zendesk: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    id_counters: dict[str, int] = field(default_factory=dict)  # IdMinter state after generation
    zendesk_next_id: int = 1  # next free Zendesk id (shared counter across collections)
    stories: list[Story] = field(default_factory=list)
    users: dict[str, str] = field(default_factory=dict)  # role ("integration", "csm1") -> User Id
    acts: list[dict[str, Any]] = field(default_factory=list)  # scripted edits between cycles
