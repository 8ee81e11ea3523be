"""What the benchmark's children read: the connector's config file, and the bare pager's plan.

The pager's plan is built from the shipped mappings through the connector's own ``resolve`` and
``soql`` modules, so the pager sends the very queries the connector's sweeps send, at the same
page sizes, to the same endpoints.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector.bootstrap import salesforce_login, transport_settings
from connector.config import Settings, load_settings
from connector.demo import default_mappings_dir
from connector.mappings import load_mappings, resolve
from connector.model import StreamSpec
from connector.sandbox.state import DemoCredentials, SandboxConfig
from connector.sources.salesforce import soql
from connector.sources.salesforce.client import SalesforceClient
from connector.sources.zendesk.streams import EXPORT_PAGE, LIST_PAGE

PAGE_SIZE = 2000  # SOQL batchSize of the connector's sweeps (its default and maximum)
TOKEN_ENV = "CS_ZENDESK__API_TOKEN"


@dataclass(frozen=True)
class Target:
    """Where the sandbox child listens and what it trusts."""

    port: int
    ca_file: Path
    jwt_key_file: Path
    sandbox: SandboxConfig  # the defaults the sandbox command runs with: hosts, credentials


def write_config(target: Target, store: Path, path: Path) -> dict[str, str]:
    """The config file an admin would write for the sandbox; returns the env with the secret."""
    creds, config = target.sandbox.credentials, target.sandbox
    path.write_text(
        f'mappings_dir = "{default_mappings_dir()}"\n'
        f'[store]\nurl = "sqlite:///{store}"\n'
        f'[salesforce]\nauth = "jwt"\nusername = "{creds.sf_username}"\n'
        f'consumer_key = "{creds.sf_consumer_key}"\n'
        f'private_key_file = "{target.jwt_key_file}"\n'
        f'[zendesk]\nsubdomain = "{config.zendesk_subdomain}"\nemail = "{creds.zd_email}"\n'
        f'[transport]\nconnect_to = "127.0.0.1:{target.port}"\n'
        f'connect_to_ca = "{target.ca_file}"\n'
        f"[pull]\npage_size = {PAGE_SIZE}\n",
        encoding="utf-8",
    )
    return {**os.environ, TOKEN_ENV: creds.zd_api_token}


def resolved_specs(settings: Settings) -> tuple[list[StreamSpec], dict[str, bool]]:
    """The enabled streams of the shipped mappings, checked against the org (describes), and
    for each Salesforce stream whether a first load reads it by Bulk: the connector's own
    choice, ``COUNT()`` above ``pull.bulk_threshold``, made here before the clock starts."""
    client = SalesforceClient(salesforce_login(settings), transport_settings(settings))
    try:
        specs = resolve(
            load_mappings(settings.mappings_dir),
            salesforce_describe=client.describe,
            salesforce_describe_global=client.describe_global,
            zendesk_ticket_fields=None,
        )
        bulk = {
            s.name: client.count(soql.count(s), include_deleted=soql.has_is_deleted(s))
            > settings.pull.bulk_threshold
            for s in specs
            if s.source == "salesforce"
        }
        return specs, bulk
    finally:
        client.close()


def pager_plan(target: Target, config: Path, env: dict[str, str]) -> dict[str, Any]:
    """Queries, endpoints, page sizes and logins for ``connector.bench.pager``."""
    settings = load_settings(config, env)
    specs, bulk = resolved_specs(settings)
    creds: DemoCredentials = target.sandbox.credentials
    sf = [
        {
            "stream": s.name,
            "object": s.source_object,
            "soql": soql.incremental(s, None, False),
            "include_deleted": soql.has_is_deleted(s),
            # a first load above the threshold: the connector's Bulk query, read the same way
            **({"bulk_soql": soql.bulk(s)} if bulk[s.name] else {}),
        }
        for s in specs
        if s.source == "salesforce"
    ]
    zd = [
        {
            "stream": s.name,
            "endpoint": s.options["endpoint"],
            "per_page": int(s.options.get("per_page", _default_page(s.options["endpoint"]))),
        }
        for s in specs
        if s.source == "zendesk"
    ]
    return {
        "connect_to": {"host": "127.0.0.1", "port": target.port, "ca_file": str(target.ca_file)},
        "salesforce": {
            "login_host": "login.salesforce.com",
            "api_version": settings.salesforce.api_version,
            "page_size": PAGE_SIZE,
            "login": password_grant(creds),
            "streams": sf,
        },
        "zendesk": {
            "subdomain": target.sandbox.zendesk_subdomain,
            "email": creds.zd_email,
            "api_token": creds.zd_api_token,
            "streams": zd,
        },
    }


def password_grant(creds: DemoCredentials) -> dict[str, str]:
    """The OAuth password grant the bare pager logs in with (the sandbox's demo user)."""
    return {
        "grant_type": "password",
        "client_id": creds.sf_consumer_key,
        "client_secret": creds.sf_consumer_secret,
        "username": creds.sf_username,
        "password": creds.sf_password + creds.sf_security_token,
    }


def _default_page(endpoint: str) -> int:
    return LIST_PAGE if endpoint == "groups" else EXPORT_PAGE


def write_plan(plan: dict[str, Any], path: Path) -> Path:
    """The plan as a 0600 file (it holds the sandbox's demo logins)."""
    path.touch(mode=0o600)
    path.write_text(json.dumps(plan, indent=2), encoding="utf-8")
    return path
