"""The README's first command: the sandbox demo org pulled into the embedded SQLite store.

A newcomer with no Salesforce or Zendesk account sees the real clients reach both APIs over
verified TLS, every mapped stream land in the store, and a second pull that finds nothing new
read 0 records with one call per stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connector.config import Settings
from connector.sandbox.server import Sandbox

PACKAGE_ROOT = Path(__file__).resolve().parent
DEMO_OWNERS = {
    "support_manager": "support.manager@demo.cs-connector.dev",
    "cco": "cco@demo.cs-connector.dev",
    "vp_cs": "vp.cs@demo.cs-connector.dev",
    "product_manager": "product.manager@demo.cs-connector.dev",
    "fallback": "cs.ops@demo.cs-connector.dev",
}


def default_mappings_dir() -> Path:
    """The checkout's ``mappings/``, else the copy a wheel build ships inside the package."""
    for candidate in (PACKAGE_ROOT.parent / "mappings", PACKAGE_ROOT / "defaults" / "mappings"):
        if (candidate / "salesforce").is_dir():
            return candidate
    raise FileNotFoundError("no mappings/ folder found next to the package or inside it")


def sandbox_settings(
    sandbox: Sandbox, store_url: str, mappings_dir: Path | None = None
) -> Settings:
    """Settings that point the connector at a running sandbox, logging in with JWT bearer."""
    creds = sandbox.config.credentials
    return Settings.model_validate(
        {
            "store": {"url": store_url},
            "salesforce": {
                "auth": "jwt",
                "domain": "login",
                "username": creds.sf_username,
                "consumer_key": creds.sf_consumer_key,
                "private_key_file": str(sandbox.jwt_private_key_path),
            },
            "zendesk": {
                "subdomain": sandbox.config.zendesk_subdomain,
                "email": creds.zd_email,
                "auth": "api_token",
                "api_token": creds.zd_api_token,
            },
            "transport": {
                "connect_to": f"127.0.0.1:{sandbox.port}",
                "connect_to_ca": str(sandbox.ca_path),
            },
            "mappings_dir": str(mappings_dir or default_mappings_dir()),
            "owners": DEMO_OWNERS,
        }
    )


@dataclass
class DemoRun:
    """What the demo did, for the console or ``--json``."""

    store: str
    first: dict[str, Any] = field(default_factory=dict)
    second: dict[str, Any] = field(default_factory=dict)
    stories: int = 0
