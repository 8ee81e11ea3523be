"""A config file and environment that point the CLI at a running sandbox, as an admin would."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from connector.demo import DEMO_OWNERS, default_mappings_dir


def write_config(
    tmp_path: Path,
    sandbox: Any,
    store_url: str,
    *,
    mappings: Path | None = None,
    page_size: int = 2000,
) -> tuple[Path, dict[str, str]]:
    creds = sandbox.config.credentials
    config = tmp_path / "config.toml"
    config.write_text(
        f'mappings_dir = "{mappings or default_mappings_dir()}"\n'
        f'[store]\nurl = "{store_url}"\n'
        f'[salesforce]\nauth = "jwt"\nusername = "{creds.sf_username}"\n'
        f'consumer_key = "{creds.sf_consumer_key}"\n'
        f'private_key_file = "{sandbox.jwt_private_key_path}"\n'
        f'[zendesk]\nsubdomain = "{sandbox.config.zendesk_subdomain}"\nemail = "{creds.zd_email}"\n'
        f'[transport]\nconnect_to = "127.0.0.1:{sandbox.port}"\n'
        f'connect_to_ca = "{sandbox.ca_path}"\n'
        f"[pull]\npage_size = {page_size}\n"
        "[owners]\n" + "".join(f'{role} = "{email}"\n' for role, email in DEMO_OWNERS.items())
    )
    env = {**os.environ, "CS_ZENDESK__API_TOKEN": creds.zd_api_token, "COLUMNS": "160"}
    return config, env
