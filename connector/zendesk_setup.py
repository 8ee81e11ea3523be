"""``cs-connector setup-zendesk``: check the Zendesk side of the push and add its view.

Finds the support managers' group (``zendesk.support_managers_group``) and the three custom ticket
fields the task tickets fill in, then makes sure the managers' view of open connector tasks
exists. Safe to run again: an existing view (same title) is kept, never duplicated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from connector.push.zendesk import FIELD_NAMES, VIEW_TITLE, ZendeskTicketWriter
from connector.sources.zendesk.client import ZendeskClient


@dataclass(frozen=True)
class SetupResult:
    """What setup found or made."""

    view_id: int
    view_created: bool  # False: a view with this title was there already
    group_id: int
    field_ids: Mapping[str, int] = field(default_factory=dict)  # cs_account_id -> field id
    group_name: str = ""
    view_title: str = VIEW_TITLE
    api_calls: int = 0

    def lines(self) -> list[str]:
        """A human summary, one fact a line."""
        verb = "created" if self.view_created else "already there"
        fields = ", ".join(f"{name} = {fid}" for name, fid in self.field_ids.items())
        return [
            f"group {self.group_name!r}: id {self.group_id}",
            f"ticket fields: {fields}",
            f"view {self.view_title!r}: id {self.view_id} ({verb})",
        ]

    def __str__(self) -> str:
        return "\n".join(self.lines())


def setup_zendesk(
    client: ZendeskClient,
    group_name: str,
    *,
    view_title: str = VIEW_TITLE,
    config_file: str = "config",
) -> SetupResult:
    """Resolve the group and ticket fields (``ConfigError`` when missing); ensure the view."""
    before = client.stats.api_calls
    writer = ZendeskTicketWriter.connect(client, group_name, FIELD_NAMES, config_file=config_file)
    view_id, created = writer.ensure_view(view_title)
    return SetupResult(
        view_id=view_id,
        view_created=created,
        group_id=writer.group_id,
        field_ids=dict(writer.ticket_fields),
        group_name=group_name,
        view_title=view_title,
        api_calls=client.stats.api_calls - before,
    )
