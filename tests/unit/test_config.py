"""Settings from config.toml and CS_ environment variables; secrets from env or private files."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from pydantic import BaseModel, SecretStr

from connector.config import Settings, load_settings
from connector.errors import ConfigErrors

REPO = Path(__file__).resolve().parents[2]
PASSWORD_LOGIN = """
[salesforce]
auth = "password"
username = "integration@demo.cs-connector.dev"
domain = "test"
"""
SECRET_ENV = {"CS_SALESFORCE__PASSWORD": "demo-password"}


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def secret_file(tmp_path: Path, text: str, mode: int, name: str = "secret") -> Path:
    path = tmp_path / name
    path.write_text(text)
    path.chmod(mode)
    return path


def problems(path: Path | None, env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigErrors) as caught:
        load_settings(path, env)
    return [error.line() for error in caught.value.errors]


def test_settings_come_from_the_file_with_defaults_for_the_rest(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, PASSWORD_LOGIN), SECRET_ENV)
    assert settings.salesforce.domain == "test"
    assert settings.salesforce.api_version == "62.0"
    assert settings.store.url == "sqlite:///.cs-connector/store.db"
    assert settings.pull.lag_seconds == 300 and settings.pull.page_size == 2000
    assert settings.transport.timeout == (10.0, 120.0)
    assert settings.mappings_dir == Path("mappings")
    assert settings.zendesk is None


def test_the_environment_wins_over_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, PASSWORD_LOGIN + "[pull]\nlag_seconds = 60\n")
    env = {**SECRET_ENV, "CS_PULL__LAG_SECONDS": "600", "CS_TRANSPORT__TIMEOUT": "[5, 30]"}
    settings = load_settings(path, env)
    assert settings.pull.lag_seconds == 600
    assert settings.transport.timeout == (5.0, 30.0)


def test_settings_can_come_from_the_environment_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no config.toml here
    env = {
        "CS_SALESFORCE__AUTH": "password",
        "CS_SALESFORCE__USERNAME": "u@example.com",
        "CS_SALESFORCE__PASSWORD": "pw",
        "CS_ZENDESK__SUBDOMAIN": "demo",
        "CS_ZENDESK__EMAIL": "z@example.com",
        "CS_ZENDESK__API_TOKEN": "tok",
        "CS_STORE__URL": "postgresql+psycopg://cs@db/cs",
    }
    settings = load_settings(None, env)
    assert settings.zendesk is not None and settings.zendesk.subdomain == "demo"
    assert settings.store.url == "postgresql+psycopg://cs@db/cs"


def test_a_secret_is_a_secret_str_and_never_shown_by_repr(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, PASSWORD_LOGIN), SECRET_ENV)
    assert isinstance(settings.salesforce.password, SecretStr)
    assert settings.salesforce.password.get_secret_value() == "demo-password"
    assert "demo-password" not in repr(settings)
    assert "demo-password" not in str(settings)
    assert "demo-password" not in settings.model_dump_json()


def test_a_secret_is_read_from_a_private_file(tmp_path: Path) -> None:
    secret = secret_file(tmp_path, "from-a-file\n", 0o600)
    env = {"CS_SALESFORCE__PASSWORD_FILE": str(secret)}
    settings = load_settings(write(tmp_path, PASSWORD_LOGIN), env)
    assert settings.salesforce.password is not None
    assert settings.salesforce.password.get_secret_value() == "from-a-file"


def test_a_secret_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    secret = secret_file(tmp_path, "from-a-file\n", 0o644)
    env = {"CS_SALESFORCE__PASSWORD_FILE": str(secret)}
    assert problems(write(tmp_path, PASSWORD_LOGIN), env) == [
        f"environment:CS_SALESFORCE__PASSWORD_FILE: {secret} is open to group or others"
        f" (mode 0644): chmod 600 it"
    ]


def test_the_jwt_private_key_file_must_be_private_too(tmp_path: Path) -> None:
    key = secret_file(tmp_path, "-----BEGIN PRIVATE KEY-----\n", 0o640, "jwt.key")
    path = write(
        tmp_path,
        f'[salesforce]\nauth = "jwt"\nusername = "u"\nconsumer_key = "ck"\n'
        f'private_key_file = "{key}"\n',
    )
    assert problems(path, {}) == [
        f"{path}:salesforce.private_key_file: {key} is open to group or others (mode 0640):"
        " chmod 600 it"
    ]


def test_a_secret_in_the_config_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, PASSWORD_LOGIN + 'password = "hunter2"\n')
    assert problems(path, {}) == [
        f"{path}:salesforce.password: secrets are not read from the config file: set"
        " CS_SALESFORCE__PASSWORD or CS_SALESFORCE__PASSWORD_FILE"
    ]


def test_a_secret_the_chosen_auth_needs_is_required(tmp_path: Path) -> None:
    path = write(tmp_path, PASSWORD_LOGIN)
    assert problems(path, {}) == [
        f'{path}:salesforce.password: required for auth = "password": set'
        " CS_SALESFORCE__PASSWORD or CS_SALESFORCE__PASSWORD_FILE"
    ]


@pytest.mark.parametrize(
    ("auth", "needs"),
    [
        ("jwt", ["username", "consumer_key", "private_key_file"]),
        ("client_credentials", ["consumer_key", "consumer_secret"]),
        ("password", ["username", "password"]),
        ("refresh_token", ["consumer_key", "refresh_token"]),
    ],
)
def test_each_salesforce_auth_names_what_it_is_missing(
    tmp_path: Path, auth: str, needs: list[str]
) -> None:
    path = write(tmp_path, f'[salesforce]\nauth = "{auth}"\n')
    keys = [line.split(":")[1] for line in problems(path, {})]
    assert keys == [f"salesforce.{name}" for name in needs]


def test_zendesk_oauth_needs_its_token(tmp_path: Path) -> None:
    text = PASSWORD_LOGIN + '[zendesk]\nsubdomain = "demo"\nauth = "oauth"\n'
    path = write(tmp_path, text)
    assert problems(path, SECRET_ENV) == [
        f'{path}:zendesk.oauth_token: required for auth = "oauth": set CS_ZENDESK__OAUTH_TOKEN'
        " or CS_ZENDESK__OAUTH_TOKEN_FILE"
    ]


def test_broken_toml_is_reported_with_its_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "[pull]\nlag_seconds = = 5\n")
    assert problems(path, SECRET_ENV)[0] == (
        f"{path}: invalid TOML at line 2, column 15: Invalid value"
    )


def test_an_unknown_key_is_reported_with_a_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path, PASSWORD_LOGIN + "[pull]\nlag_second = 5\n")
    assert problems(path, SECRET_ENV) == [
        f"{path}:pull.lag_second: unknown key (did you mean 'lag_seconds'?)"
    ]


def test_a_value_of_the_wrong_type_names_its_key(tmp_path: Path) -> None:
    path = write(tmp_path, PASSWORD_LOGIN + '[pull]\npage_size = "big"\n')
    assert problems(path, SECRET_ENV) == [
        f'{path}:pull.page_size: expected a whole number, got "big"'
    ]


def test_a_bad_environment_value_names_the_variable(tmp_path: Path) -> None:
    env = {**SECRET_ENV, "CS_PULL__QUOTA_RESERVE": "1.5"}
    assert problems(write(tmp_path, PASSWORD_LOGIN), env) == [
        'environment:CS_PULL__QUOTA_RESERVE: must be less than 1, got "1.5"'
    ]


def test_other_tools_cs_variables_are_left_alone(tmp_path: Path) -> None:
    env = {**SECRET_ENV, "CS_HOME": "/opt/cs", "CSV_PATH": "x", "CS_": "y"}
    assert load_settings(write(tmp_path, PASSWORD_LOGIN), env).salesforce.username


def test_every_problem_is_reported_in_one_pass(tmp_path: Path) -> None:
    text = PASSWORD_LOGIN + '[pull]\nlag_seconds = -1\n[transport]\nconnect_to = "127.0.0.1:8443"\n'
    path = write(tmp_path, text)
    env = {"CS_PULL__PAGE_SIZE": "50"}
    assert problems(path, env) == [
        f'{path}:salesforce.password: required for auth = "password": set'
        " CS_SALESFORCE__PASSWORD or CS_SALESFORCE__PASSWORD_FILE",
        f"{path}:transport.connect_to_ca: required with connect_to (the CA to trust)",
        f"{path}:pull.lag_seconds: must be at least 0, got -1",
        'environment:CS_PULL__PAGE_SIZE: must be at least 200, got "50"',
    ]


def test_connect_to_is_host_and_port(tmp_path: Path) -> None:
    text = PASSWORD_LOGIN + '[transport]\nconnect_to = "127.0.0.1:8443"\nconnect_to_ca = "ca.pem"\n'
    settings = load_settings(write(tmp_path, text), SECRET_ENV)
    assert settings.transport.connect_to_address == ("127.0.0.1", 8443)
    bad = write(
        tmp_path, PASSWORD_LOGIN + '[transport]\nconnect_to = "8443"\nconnect_to_ca = "c"\n'
    )
    assert problems(bad, SECRET_ENV) == [
        f'{bad}:transport.connect_to: expected "host:port", got "8443"'
    ]


def test_a_named_config_file_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    assert problems(path, SECRET_ENV)[0] == f"{path}: no such file"


def test_config_toml_in_the_working_directory_is_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, PASSWORD_LOGIN)
    monkeypatch.chdir(tmp_path)
    assert load_settings(None, SECRET_ENV).salesforce.domain == "test"


def _fields(model: type[BaseModel], prefix: str = "") -> list[str]:
    names = []
    for name, info in model.model_fields.items():
        sub = info.annotation
        inner = [a for a in getattr(sub, "__args__", ()) if isinstance(a, type)]
        nested = next(
            (a for a in [sub, *inner] if isinstance(a, type) and issubclass(a, BaseModel)), None
        )
        names += _fields(nested, f"{name}.") if nested else [prefix + name]
    return names


def test_the_example_config_documents_every_setting() -> None:
    text = (REPO / "config.example.toml").read_text()
    secrets = {"password", "security_token", "consumer_secret", "refresh_token", "api_token",
               "oauth_token"}  # fmt: skip
    for dotted in _fields(Settings):
        section, _, name = dotted.rpartition(".")
        if name in secrets:
            assert f"CS_{section.upper()}__{name.upper()}" in text, dotted
        elif name == "owners":  # a table of roles, not a single value
            assert "[owners]" in text, dotted
        else:
            assert re.search(rf"^#? ?{name} = ", text, re.M), dotted


def test_the_example_config_loads_with_its_secrets_in_the_environment(tmp_path: Path) -> None:
    key = secret_file(tmp_path, "-----BEGIN PRIVATE KEY-----\n", 0o600, "jwt.key")
    env = {
        "CS_SALESFORCE__CONSUMER_KEY": "ck",
        "CS_SALESFORCE__PRIVATE_KEY_FILE": str(key),
        "CS_ZENDESK__API_TOKEN": "zd-secret-value",
    }
    settings = load_settings(REPO / "config.example.toml", env)
    assert settings.pull == Settings().pull
    assert settings.store == Settings().store
    assert settings.transport == Settings().transport
    assert "zd-secret-value" not in repr(settings)


def test_secret_files_are_read_only_when_private_whatever_the_umask(tmp_path: Path) -> None:
    secret = secret_file(tmp_path, "x", 0o400)
    env = {"CS_SALESFORCE__PASSWORD_FILE": str(secret)}
    assert load_settings(write(tmp_path, PASSWORD_LOGIN), env).salesforce.password is not None
    assert os.stat(secret).st_mode & 0o077 == 0
