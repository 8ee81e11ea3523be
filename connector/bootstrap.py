"""The one composition root: settings in, wired store, clients, streams and sources out.

The CLI, the scheduler and the tests all build through here, so there is one place that names
concrete classes. Nothing here branches on "sandbox": the transport settings decide where the
clients connect.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from connector import logs
from connector.config import Settings
from connector.errors import ConfigError, FatalApiError
from connector.http.session import ConnectTo, TransportSettings
from connector.mappings import MappingSet, load_mappings, resolve
from connector.model import Source, StreamSpec
from connector.sources.csv_drop import CsvDropSource
from connector.sources.salesforce.auth import SalesforceLogin
from connector.sources.salesforce.client import SalesforceClient
from connector.sources.salesforce.streams import SalesforceSource
from connector.sources.zendesk import ZendeskClient, ZendeskLogin, ZendeskSource
from connector.store import make_engine, mirror, upgrade

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Deps:
    """Everything a stage needs, built once per process."""

    settings: Settings
    engine: Engine
    mappings: MappingSet
    specs: list[StreamSpec]
    sources: dict[str, Source]
    salesforce: SalesforceClient
    zendesk: ZendeskClient | None
    zendesk_login: ZendeskLogin | None = None
    clock: Clock = utc_now
    describes: dict[str, Mapping[str, Any] | None] = field(default_factory=dict)

    def describe(self, sobject: str) -> Mapping[str, Any] | None:
        """The org's describe of ``sobject``, fetched once per process (None: not visible)."""
        if sobject not in self.describes:
            self.describes[sobject] = describe_or_none(self.salesforce)(sobject)
        return self.describes[sobject]

    def api_usage(self) -> str | None:
        """The org's daily API allowance as last reported (``Sforce-Limit-Info``): "used/max"."""
        usage = self.salesforce.api_usage
        return f"{usage[0]}/{usage[1]}" if usage else None

    def secrets(self) -> list[str]:
        """Every secret in play, for redaction and for tests that search logs for them."""
        zendesk = list(self.zendesk_login.secrets()) if self.zendesk_login is not None else []
        return self.salesforce.secrets() + zendesk  # the access token too


def transport_settings(settings: Settings) -> TransportSettings:
    """The transport section as the HTTP layer wants it."""
    t = settings.transport
    connect_to = None
    if t.connect_to:
        host, _, port = t.connect_to.rpartition(":")
        if t.connect_to_ca is None:
            raise ValueError("transport.connect_to needs transport.connect_to_ca")
        connect_to = ConnectTo((host, int(port)), Path(t.connect_to_ca))
    return TransportSettings(ca_bundle=t.ca_bundle, timeout=tuple(t.timeout), connect_to=connect_to)  # type: ignore[arg-type]


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def salesforce_login(settings: Settings) -> SalesforceLogin:
    s = settings.salesforce
    return SalesforceLogin(
        method=s.auth,
        domain=s.domain,
        username=s.username,
        consumer_key=s.consumer_key,
        password=_secret(s.password),
        security_token=_secret(s.security_token),
        consumer_secret=_secret(s.consumer_secret),
        private_key_file=str(s.private_key_file) if s.private_key_file else None,
        refresh_token=_secret(s.refresh_token),
        api_version=s.api_version,
    )


def zendesk_login(settings: Settings) -> ZendeskLogin | None:
    z = settings.zendesk
    if z is None:
        return None
    return ZendeskLogin(
        subdomain=z.subdomain,
        email=z.email or "",
        auth=z.auth,
        api_token=_secret(z.api_token),
        oauth_token=_secret(z.oauth_token),
    )


def open_store(settings: Settings) -> Engine:
    """The store, migrated to the newest schema; one that cannot be reached is a config error
    (its URL is not repeated: it may hold a password)."""
    engine = make_engine(settings.store.url)
    try:
        upgrade(engine)
    except OperationalError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise ConfigError("config.toml", "store.url", f"cannot connect: {reason}") from None
    return engine


def bootstrap(
    settings: Settings, *, clock: Clock = utc_now, only: Sequence[str] | None = None
) -> Deps:
    """Log in, load and check the mappings against the org, prepare the store.

    Raises ConfigErrors (mapping problems: nothing has been pulled) or ApiError (cannot log in).
    """
    transport = transport_settings(settings)
    mappings = load_mappings(settings.mappings_dir)
    sf = SalesforceClient(
        salesforce_login(settings), transport, quota_reserve=settings.pull.quota_reserve
    )
    zd_login = zendesk_login(settings)
    zd = (
        ZendeskClient(zd_login, transport, wait_budget_s=settings.pull.zendesk_wait_budget_seconds)
        if zd_login is not None
        else None
    )
    describes: dict[str, Mapping[str, Any] | None] = {}  # shared with reconcile: no 2nd call
    fetch = describe_or_none(sf)

    def describe(sobject: str) -> Mapping[str, Any] | None:
        if sobject not in describes:
            describes[sobject] = fetch(sobject)
        return describes[sobject]

    specs = resolve(
        mappings,
        salesforce_describe=describe,
        salesforce_describe_global=sf.describe_global,
        zendesk_ticket_fields=_ticket_fields(zd),
    )
    if only:
        specs = [s for s in specs if s.name in set(only)]
    engine = open_store(settings)
    mirror.ensure_tables(engine, specs)
    sources: dict[str, Source] = {
        "salesforce": SalesforceSource(
            sf,
            lag=timedelta(seconds=settings.pull.lag_seconds),
            bulk_threshold=settings.pull.bulk_threshold,
            page_size=settings.pull.page_size,
            clock=clock,
        ),
        "csv": CsvDropSource(settings.mappings_dir.absolute().parent),  # issues: drops/x.csv:3
    }
    if zd is not None:
        sources["zendesk"] = ZendeskSource(zd)
    deps = Deps(settings, engine, mappings, specs, sources, sf, zd, zd_login, clock, describes)
    logs.add_secrets(deps.secrets)  # every log line from here on is scrubbed of them
    return deps


def describe_or_none(sf: SalesforceClient) -> Callable[[str], Mapping[str, Any] | None]:
    def describe(sobject: str) -> Mapping[str, Any] | None:
        try:
            return sf.describe(sobject)
        except FatalApiError as exc:
            if exc.status == 404 or exc.code == "NOT_FOUND":
                return None
            raise

    return describe


def _ticket_fields(zd: ZendeskClient | None) -> list[dict[str, Any]] | None:
    if zd is None:
        return None
    fields: list[dict[str, Any]] = []
    body = zd.get("/api/v2/ticket_fields.json")
    fields.extend(body.get("ticket_fields", []))
    while body.get("next_page"):
        body = zd.get(body["next_page"].split(".zendesk.com", 1)[1])
        fields.extend(body.get("ticket_fields", []))
    return fields
