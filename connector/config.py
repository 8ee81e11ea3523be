"""Settings: a TOML file (``config.toml``) plus ``CS_``-prefixed environment variables.

``load_settings`` is the one way in: it reads the file, the environment and secret files itself
so that every problem names where it came from (``config.toml:pull.lag_seconds`` or
``environment:CS_PULL__LAG_SECONDS``), and it reports all of them at once. Secrets are
``SecretStr`` (never shown by ``repr`` or logs) and are read only from the environment or from a
file no one else can read (``CS_SALESFORCE__PASSWORD_FILE``), never from the config file.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from connector.errors import ConfigError, ConfigErrors
from connector.mapping_schema import pydantic_problems, read_toml

DEFAULT_PATH = Path("config.toml")
ENV = "environment"  # the ``file`` of a ConfigError about an environment variable
PREFIX, DELIMITER = "CS_", "__"
SECRETS = {
    ("salesforce", "password"),
    ("salesforce", "security_token"),
    ("salesforce", "consumer_secret"),
    ("salesforce", "refresh_token"),
    ("zendesk", "api_token"),
    ("zendesk", "oauth_token"),
}
Positive = Annotated[float, Field(gt=0)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoreSettings(_Section):
    """Where the local store lives: a SQLAlchemy URL (SQLite file or PostgreSQL)."""

    url: str = "sqlite:///.cs-connector/store.db"

    @field_validator("url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        """Parsed here so a typo is ``store.url`` at check time; the URL (it may hold a
        password) is never repeated in the message."""
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            backend = make_url(value).get_backend_name()
        except (ArgumentError, ValueError):
            raise ValueError(
                'not a database URL: expected "sqlite:///path/store.db" or '
                '"postgresql+psycopg://user@host/db"'
            ) from None
        if backend not in ("sqlite", "postgresql", "postgres"):
            raise ValueError(f'unsupported store database "{backend}": use sqlite or postgresql')
        return value


class SalesforceSettings(_Section):
    """Login to the org; which fields are needed depends on ``auth``."""

    auth: Literal["jwt", "client_credentials", "password", "refresh_token"] = "jwt"
    domain: str = "login"  # "login", "test", or a My Domain such as "acme.my"
    username: str | None = None
    consumer_key: str | None = None
    api_version: str = "62.0"
    private_key_file: Path | None = None
    password: SecretStr | None = None
    security_token: SecretStr | None = None
    consumer_secret: SecretStr | None = None
    refresh_token: SecretStr | None = None

    @field_validator("api_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not re.fullmatch(r"\d+\.0", value):
            raise ValueError(f'expected a version such as "62.0", got "{value}"')
        return value


class ZendeskSettings(_Section):
    """Login to the Zendesk account, and the group that receives the CS task tickets."""

    subdomain: str
    email: str | None = None
    auth: Literal["api_token", "oauth"] = "api_token"
    api_token: SecretStr | None = None
    oauth_token: SecretStr | None = None
    support_managers_group: str = "Support Managers"


class TransportConfig(_Section):
    """How to reach the APIs: extra CA bundle, curl-style connect-to routing, timeouts."""

    ca_bundle: Path | None = None
    connect_to: str | None = None  # "host:port"
    connect_to_ca: Path | None = None
    timeout: tuple[Positive, Positive] = (10.0, 120.0)  # connect, read (seconds)

    @field_validator("connect_to")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[^\s:]+:\d{1,5}", value):
            raise ValueError(f'expected "host:port", got "{value}"')
        return value

    @property
    def connect_to_address(self) -> tuple[str, int] | None:
        """``connect_to`` as (host, port)."""
        if self.connect_to is None:
            return None
        host, port = self.connect_to.rsplit(":", 1)
        return host, int(port)


class PullSettings(_Section):
    """Pull pacing: cursor lag, when to use Bulk API, API quota kept in reserve, page sizes."""

    lag_seconds: int = Field(default=300, ge=0)
    bulk_threshold: int = Field(default=50_000, gt=0)
    quota_reserve: float = Field(default=0.20, ge=0, lt=1)
    zendesk_wait_budget_seconds: float = Field(default=300, ge=0)
    page_size: int = Field(default=2000, ge=200, le=2000)  # SOQL batch size bounds


class PushSettings(_Section):
    """Write-back pacing: when a plan is big enough for Bulk API 2.0 ingest."""

    bulk_threshold: int = Field(default=10_000, gt=0)  # records of one object in one plan


class Settings(BaseSettings):
    """Every setting of the connector; build it with ``load_settings``."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, env_nested_delimiter=DELIMITER, extra="forbid", frozen=True
    )

    store: StoreSettings = StoreSettings()
    salesforce: SalesforceSettings = SalesforceSettings()
    zendesk: ZendeskSettings | None = None  # no [zendesk]: a Salesforce-only deployment
    transport: TransportConfig = TransportConfig()
    pull: PullSettings = PullSettings()
    push: PushSettings = PushSettings()
    mappings_dir: Path = Path("mappings")
    # Owners by email, resolved to active CRM users at start (RULES.md "Owners").
    owners: dict[str, str] = {}
    # Where each value came from, so a problem found later (an owner the org lacks) names it.
    _file: str = PrivateAttr(default="config.toml")
    _from_env: dict[tuple[str, ...], str] = PrivateAttr(default_factory=dict)

    def origin(self, *path: str) -> tuple[str, str]:
        """``(file, key)`` of a setting, or ``(environment, variable)`` when the env set it."""
        for n in range(len(path), 0, -1):
            var = self._from_env.get(path[:n])
            if var:
                return ENV, var
        return self._file, ".".join(path)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only what ``load_settings`` passes: it reads file, env and secrets to name origins."""
        return (init_settings,)


def env_name(*path: str) -> str:
    """A setting's environment variable: ("salesforce", "password") -> CS_SALESFORCE__PASSWORD."""
    return PREFIX + DELIMITER.join(p.upper() for p in path)


class _Loader:
    """Merges file, environment and secret files, remembering where each value came from."""

    def __init__(self, path: Path | None, env: Mapping[str, str]) -> None:
        self.file = str(path) if path else ENV
        self.env = env
        self.problems: list[ConfigError] = []
        self.from_env: dict[tuple[str, ...], str] = {}  # setting path -> variable name
        self.reported: set[tuple[str, str]] = set()  # secrets already refused

    def where(self, loc: tuple[Any, ...]) -> tuple[str, str]:
        for n in range(len(loc), 0, -1):
            var = self.from_env.get(tuple(str(p) for p in loc[:n]))
            if var:
                return ENV, var
        return self.file, ".".join(str(p) for p in loc)

    def add(self, loc: tuple[Any, ...], reason: str) -> None:
        self.problems.append(ConfigError(*self.where(loc), reason))

    def read_file(self, path: Path | None) -> dict[str, Any]:
        if path is None:
            return {}
        errs: list[tuple[str, str]] = []
        data = read_toml(path, errs) if path.is_file() else None
        if not path.is_file():
            errs.append(("", "no such file"))
        self.problems.extend(ConfigError(self.file, key, reason) for key, reason in errs)
        for section, name in sorted(SECRETS):
            if name in (data or {}).get(section, {}):
                del data[section][name]  # type: ignore[index]
                self.reported.add((section, name))
                reason = f"secrets are not read from the config file: set {env_name(section, name)}"
                self.add((section, name), f"{reason} or {env_name(section, name)}_FILE")
        return data or {}

    def read_env(self, data: dict[str, Any]) -> None:
        for var, value in sorted(self.env.items()):
            if not var.upper().startswith(PREFIX):
                continue
            path = tuple(p.lower() for p in var[len(PREFIX) :].split(DELIMITER))
            if path[0] not in Settings.model_fields or not all(path):
                continue  # CS_ is a common prefix: leave other tools' variables alone
            self.from_env[path] = var
            parsed: Any = value
            if value.strip().startswith("["):
                with contextlib.suppress(ValueError):
                    parsed = json.loads(value)
            node = data
            for part in path[:-1]:
                node = node.setdefault(part, {}) if isinstance(node.get(part), dict | None) else {}
            node[path[-1]] = parsed

    def read_secret_files(self, data: dict[str, Any]) -> None:
        for section, name in sorted(SECRETS):
            node = data.get(section)
            if not isinstance(node, dict) or f"{name}_file" not in node:
                continue
            path = Path(str(node.pop(f"{name}_file"))).expanduser()
            secret = self.private_file(path, (section, f"{name}_file"))
            if (section, f"{name}_file") in self.from_env:
                self.from_env[(section, name)] = env_name(section, f"{name}_file")
            if secret is None:
                self.reported.add((section, name))
            else:
                node[name] = secret.strip()

    def private_file(self, path: Path, loc: tuple[str, ...]) -> str | None:
        """The text of a secret file, refused when group or others may read it."""
        try:
            mode = path.stat().st_mode
            if mode & 0o077:
                shown = f"{stat.S_IMODE(mode):04o}"
                self.add(loc, f"{path} is open to group or others (mode {shown}): chmod 600 it")
                return None
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            self.add(loc, f"cannot read {path}: {exc.strerror or exc}")
            return None


_NEEDS: dict[str, tuple[str, ...]] = {
    "jwt": ("username", "consumer_key", "private_key_file"),
    "client_credentials": ("consumer_key", "consumer_secret"),
    "password": ("username", "password"),
    "refresh_token": ("consumer_key", "refresh_token"),
    "api_token": ("email", "api_token"),
    "oauth": ("oauth_token",),
}


def _check_needs(data: Mapping[str, Any], loader: _Loader) -> None:
    """What the chosen auth needs, read from the merged input so it is reported with the rest."""
    for section, default in (("salesforce", "jwt"), ("zendesk", "api_token")):
        values = data.get(section, {} if section == "salesforce" else None)
        if not isinstance(values, dict):
            continue
        auth = values.get("auth", default)
        for name in _NEEDS.get(str(auth), ()):
            if values.get(name) in (None, "") and (section, name) not in loader.reported:
                if (section, name) in SECRETS:
                    how = f"set {env_name(section, name)} or {env_name(section, name)}_FILE"
                else:
                    how = f"set {section}.{name} in {loader.file} or {env_name(section, name)}"
                reason = f'required for auth = "{auth}": {how}'
                loader.problems.append(ConfigError(loader.file, f"{section}.{name}", reason))
    salesforce = data.get("salesforce")
    if isinstance(salesforce, dict) and salesforce.get("auth", "jwt") == "jwt":
        key_file = salesforce.get("private_key_file")
        if isinstance(key_file, str) and key_file:
            loader.private_file(Path(key_file).expanduser(), ("salesforce", "private_key_file"))
    transport = data.get("transport")
    if (
        isinstance(transport, dict)
        and transport.get("connect_to")
        and not transport.get("connect_to_ca")
    ):
        loader.add(("transport", "connect_to_ca"), "required with connect_to (the CA to trust)")


def load_settings(path: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Settings from ``path`` (default ``config.toml`` when present) and ``env`` (os.environ)."""
    if path is None and DEFAULT_PATH.is_file():
        path = DEFAULT_PATH
    loader = _Loader(path, os.environ if env is None else env)
    data = loader.read_file(path)
    loader.read_env(data)
    loader.read_secret_files(data)
    _check_needs(data, loader)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        for key, reason in pydantic_problems(exc, Settings):
            loader.add(tuple(key.split(".")), reason)
    if loader.problems:
        raise ConfigErrors(loader.problems)
    settings._file, settings._from_env = loader.file, dict(loader.from_env)
    return settings
