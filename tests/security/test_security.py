"""Security: SOQL values escaped, the template sandbox closed, tokens redacted in errors.

* SOQL: the connector puts only datetimes into SOQL values and checks every name it places in
  a query; values go through ``format_soql``. A name full of quotes and backslashes, typed by a
  person into the org, round-trips through a query sent by the connector's client over HTTPS to
  the sandbox's SOQL engine; names shaped like an injection are refused before any query.
* Templates: attribute, globals, import and include tricks are refused by ``check`` (naming the
  file) and again at render time; nothing they reach is ever rendered.
* Redaction: an API error whose body echoes the credential (a 401 quoting the token, a proxy
  repeating the Authorization header) never shows it, in the exception, the CLI's error line,
  the debug log or the run history.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import responses
from simple_salesforce.format import format_soql

from connector.bootstrap import salesforce_login, transport_settings
from connector.demo import DEMO_OWNERS, default_mappings_dir, sandbox_settings
from connector.errors import ApiError, ConfigError, ConfigErrors, FatalApiError
from connector.mappings import load_mappings
from connector.model import Column, StreamSpec
from connector.rules.templates import Templates
from connector.sources.salesforce import SalesforceClient, SalesforceLogin, soql
from connector.sources.salesforce.failures import RetryPolicy
from connector.sources.zendesk import ZendeskClient, ZendeskLogin

CLI = [sys.executable, "-m", "connector"]
SHIPPED_TEMPLATES = default_mappings_dir() / "templates"


# -- SOQL ---------------------------------------------------------------------------------------
HOSTILE_NAMES = [
    "O'Brien \\\"; DROP TABLE Account; --",
    "' OR Name != '",
    "\\' OR Id != null OR Name = \\'",
    "back\\slash\\",
    'double "quoted" name',
    "100% _wild_ card",
    "tab\tand\nnewline",
    "עברית ‮rtl‬ 🚀 e\u0301",
]


@pytest.fixture
def sf_client(sandbox) -> Any:
    """The connector's own Salesforce client (JWT login) against the sandbox."""
    settings = sandbox_settings(sandbox, "sqlite://")
    client = SalesforceClient(salesforce_login(settings), transport_settings(settings))
    yield client
    client.close()


def _rename_an_account(sandbox: Any, name: str) -> str:
    sf = sandbox.emulators["salesforce"]
    account = next(r for r in sf.all_records("Account") if r["Name"] == "Northwind Traders")
    result = sf.person_update("Account", account["Id"], {"Name": name})
    assert result.success, result.errors
    return str(account["Id"])


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_name_full_of_quotes_round_trips_through_a_query(sandbox, sf_client, name) -> None:
    account_id = _rename_an_account(sandbox, name)

    query = format_soql("SELECT Id, Name FROM Account WHERE Name = {}", name)
    page = sf_client.query_page(query, include_deleted=False)

    assert [(r["Id"], r["Name"]) for r in page["records"]] == [(account_id, name)]
    prefix = format_soql("SELECT Id, Name FROM Account WHERE Name LIKE '{:like}%'", name[:12])
    page = sf_client.query_page(prefix, include_deleted=False)
    assert [r["Name"] for r in page["records"]] == [name]


def test_unescaped_the_same_name_would_have_read_every_account(sandbox, sf_client) -> None:
    """Why escaping matters: pasted into the query as is, the name rewrites the filter."""
    name = "' OR Name != '"
    _rename_an_account(sandbox, name)
    naive = f"SELECT Id FROM Account WHERE Name = '{name}'"
    assert sf_client.count(naive.replace("SELECT Id", "SELECT COUNT()")) > 1
    escaped = format_soql("SELECT COUNT() FROM Account WHERE Name = {}", name)
    assert sf_client.count(escaped) == 1


def test_the_connectors_queries_take_only_datetimes_as_values() -> None:
    spec = StreamSpec(
        "account", "salesforce", "Account", (Column("name", "text", "Name"),), None, "m.toml"
    )
    since = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    text = soql.incremental(spec, since, inclusive=False)
    assert text == (
        "SELECT Id, SystemModstamp, IsDeleted, Name FROM Account "
        "WHERE SystemModstamp > 2026-01-02T03:04:05+00:00 ORDER BY SystemModstamp, Id"
    )
    assert "'" not in text  # no quoted value anywhere: nothing a record could inject into


@pytest.mark.parametrize(
    ("object_name", "field", "cursor"),
    [
        ("Account WHERE Name != null", "Name", None),
        ("Account", "Name FROM Account WHERE Name != ''", None),
        ("Account", "Name, (SELECT Id FROM Contacts)", None),
        ("Account", "Name", "SystemModstamp > 2000-01-01T00:00:00Z OR Id"),
    ],
    ids=["object", "field", "subquery", "cursor"],
)
def test_names_shaped_like_an_injection_never_reach_a_query(object_name, field, cursor) -> None:
    spec = StreamSpec(
        "account", "salesforce", object_name, (Column("x", "text", field),), cursor, "m.toml"
    )
    for build in (
        lambda: soql.incremental(spec, None, inclusive=False),
        lambda: soql.bulk(spec),
        lambda: soql.all_ids(spec) + soql.fields(spec)[0],
    ):
        with pytest.raises(ConfigError):
            build()


def test_the_mapping_check_refuses_injection_shaped_names_first(tmp_path: Path) -> None:
    root = tmp_path / "mappings"
    shutil.copytree(default_mappings_dir(), root)
    contact = root / "salesforce" / "contact.toml"
    contact.write_text(
        contact.read_text()
        .replace('object = "Contact"', 'object = "Contact WHERE Id != null"')
        .replace('Title = "title"', '"Title FROM Contact --" = "title"')
    )
    with pytest.raises(ConfigErrors) as caught:
        load_mappings(root)
    lines = [e.line() for e in caught.value.errors]
    assert any(line.startswith("mappings/salesforce/contact.toml:object: ") for line in lines)
    assert any(
        line.startswith("mappings/salesforce/contact.toml:fields.Title FROM Contact --: ")
        and "not a Salesforce field API name" in line
        for line in lines
    ), lines


# -- the template sandbox -------------------------------------------------------------------------
TRICKS = {
    "mro": "{{ ''.__class__.__mro__ }}",
    "subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "cycler-globals": "{{ cycler.__init__.__globals__ }}",
    "cycler-os": "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "joiner-globals": "{{ joiner.__init__.__globals__ }}",
    "namespace-globals": "{{ namespace.__init__.__globals__ }}",
    "lipsum-globals": "{{ lipsum.__globals__['os'] }}",
    "self-globals": "{{ self.__init__.__globals__ }}",
    "self-context": "{{ self._TemplateReference__context }}",
    "range-self": "{{ range.__self__ }}",
    "token-class": "{{ account.__class__ }}",
    "token-dict": "{{ account.__dict__ }}",
    "attr-filter": "{{ account|attr('__class__') }}",
    "format-string": "{{ '{0.__class__.__mro__}'.format(account) }}",
    "format-map": "{{ '{x.__class__}'.format_map({'x': account}) }}",
    "import": "{% import 'os' as os %}{{ os.system('id') }}",
    "from-import": "{% from 'subprocess' import check_output %}",
    "include-passwd": "{% include '/etc/passwd' %}",
    "include-config": "{% include '../../config.toml' %}",
    "extends-outside": "{% extends '../rules.toml' %}",
    "undefined-config": "{{ config }}",
    "undefined-request": "{{ request.environ }}",
}


def _templates(tmp_path: Path, trick: str) -> Path:
    folder = tmp_path / "mappings" / "templates"
    shutil.copytree(SHIPPED_TEMPLATES, folder)
    (folder / "usage_drop.j2").write_text(f"Hi {{{{ csm.name }}}},\n{trick}\n")
    (tmp_path / "config.toml").write_text("[store]\n")  # what an include might hope to read
    (tmp_path / "mappings" / "rules.toml").write_text("# rules\n")
    return folder


def _reached_nothing(text: str) -> bool:
    """None of what a trick could reach shows in a message."""
    leaks = ("<class", "<module", "<function", "root:x:0:0", "[store]", "# rules", "uid=")
    return not any(leak in text for leak in leaks)


@pytest.mark.parametrize("trick", list(TRICKS.values()), ids=list(TRICKS))
def test_check_refuses_a_template_trick_naming_its_file(tmp_path: Path, trick: str) -> None:
    folder = _templates(tmp_path, trick)
    (problem,) = Templates(folder, origin="mappings/templates").check()
    assert problem.file == "mappings/templates/usage_drop.j2"
    assert _reached_nothing(problem.line()), problem.line()


@pytest.mark.parametrize("trick", list(TRICKS.values()), ids=list(TRICKS))
def test_rendering_refuses_a_template_trick(tmp_path: Path, trick: str) -> None:
    folder = _templates(tmp_path, trick)
    account = {"name": "Acme", "renewal_date": "2027-01-31"}
    with pytest.raises(ConfigError) as caught:
        Templates(folder).render(
            "usage_drop",
            account=account,
            csm={"name": "Sam"},
            usage={"last_week": "w", "active_users": 1, "mean_before": 2},
        )
    assert _reached_nothing(caught.value.line()), caught.value.line()


def test_crm_values_shaped_like_tricks_are_only_text() -> None:
    tricks = " ".join(TRICKS.values())
    draft = Templates(SHIPPED_TEMPLATES).render(
        "usage_drop",
        account={"name": tricks, "renewal_date": ""},
        csm={"name": "{{ cycler.__init__.__globals__ }}"},
        usage={"last_week": "{% include '/etc/passwd' %}", "active_users": 7, "mean_before": 9},
    )
    assert tricks in draft and "{% include '/etc/passwd' %}" in draft
    assert _reached_nothing(draft)


def test_the_cli_check_names_each_trick_by_file_and_line(tmp_path: Path) -> None:
    root = tmp_path
    shutil.copytree(default_mappings_dir(), root / "mappings")
    templates = root / "mappings" / "templates"
    planted = {
        "usage_drop": TRICKS["cycler-os"],
        "nps_detractor": TRICKS["format-string"],
        "exec_checkin": TRICKS["import"],
        "ebr_schedule": TRICKS["mro"],
        "renewal_upcoming": TRICKS["include-config"],
    }
    for name, trick in planted.items():
        (templates / f"{name}.j2").write_text(f"Hello,\n{trick}\n")
    key = root / "jwt.key"
    key.write_text("-----BEGIN PRIVATE KEY-----\n")
    key.chmod(0o600)
    (root / "config.toml").write_text(
        'mappings_dir = "mappings"\n[salesforce]\nusername = "u@example.com"\n'
        f'consumer_key = "ck"\nprivate_key_file = "{key}"\n[owners]\n'
        + "".join(f'{role} = "{mail}"\n' for role, mail in DEMO_OWNERS.items())
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CS_")}
    out = subprocess.run(
        [*CLI, "check", "--config", str(root / "config.toml")],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        timeout=120,
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    lines = out.stderr.strip().splitlines()
    assert sorted(line.split(":")[0] for line in lines) == sorted(
        f"mappings/templates/{name}.j2" for name in planted
    ), lines
    assert all(":line 2: " in line for line in lines if "renewal_upcoming" not in line), lines
    assert _reached_nothing(out.stdout + out.stderr)


# -- tokens redacted in errors --------------------------------------------------------------------
ZD_EMAIL = "agent@acme.example"
ZD_TOKEN = "zd-Secret-Token-0123456789"
ZD_BASIC = base64.b64encode(f"{ZD_EMAIL}/token:{ZD_TOKEN}".encode()).decode()
ZD_URL = "https://acme.zendesk.com/api/v2/groups.json"


@pytest.mark.parametrize(
    "echo",
    [
        {"error": "Couldn't authenticate you", "description": f"token {ZD_TOKEN} is not valid"},
        {"error": "Unauthorized", "description": f"{ZD_EMAIL}/token:{ZD_TOKEN} rejected"},
        {"error": "Unauthorized", "description": f"got Authorization: Basic {ZD_BASIC}"},
        {"error": "Unauthorized", "description": f"header was Basic {ZD_BASIC}"},
        {"error": "Unauthorized", "description": f"credentials {ZD_BASIC} expired"},
    ],
    ids=["token", "user-and-token", "authorization-header", "basic-value", "bare-base64"],
)
@responses.activate
def test_a_zendesk_401_echoing_the_token_does_not_show_it(echo: dict[str, str]) -> None:
    responses.get(ZD_URL, status=401, json=echo)
    login = ZendeskLogin("acme", ZD_EMAIL, api_token=ZD_TOKEN)
    with pytest.raises(FatalApiError) as caught:
        ZendeskClient(login).get("/api/v2/groups.json")
    shown = str(caught.value)
    assert caught.value.status == 401 and "401" in shown
    assert ZD_TOKEN not in shown and ZD_BASIC not in shown, shown
    assert caught.value.__cause__ is None


SF_TOKEN_URL = "https://login.salesforce.com/services/oauth2/token"
SF_INSTANCE = "https://acme.my.salesforce.com"
SF_ACCESS = "00D5j000000ABCD!AQ0AQExampleAccessTokenValue.1234567890abcdef"
SF_REFRESH = "5Aep861example-refresh-token-value-XYZ"
SF_SECRET = "consumer-secret-value-ABCDEF123456"


def _sf_client() -> SalesforceClient:
    login = SalesforceLogin(
        "refresh_token", consumer_key="key", consumer_secret=SF_SECRET, refresh_token=SF_REFRESH
    )
    return SalesforceClient(login, retry=RetryPolicy(attempts=2, sleep=lambda _: None))


def test_a_salesforce_401_echoing_the_session_does_not_show_it() -> None:
    echo = [
        {
            "errorCode": "INVALID_SESSION_ID",
            "message": f"Session expired or invalid: {SF_ACCESS} (Bearer {SF_ACCESS})",
        }
    ]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(SF_TOKEN_URL, json={"access_token": SF_ACCESS, "instance_url": SF_INSTANCE})
        mock.get(f"{SF_INSTANCE}/services/data/v62.0/query/", status=401, json=echo)
        with pytest.raises(ApiError) as caught:
            _sf_client().query_page("SELECT Id FROM Account", include_deleted=False)
    shown = str(caught.value)
    assert "INVALID_SESSION_ID" in shown and SF_ACCESS not in shown, shown
    assert "AQ0AQExampleAccessTokenValue" not in shown


def test_a_refused_login_echoing_its_grant_does_not_show_it() -> None:
    echo = {
        "error": "invalid_grant",
        "error_description": f"refresh_token={SF_REFRESH}&client_secret={SF_SECRET} expired",
    }
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(SF_TOKEN_URL, status=400, json=echo)
        with pytest.raises(ApiError) as caught:
            _sf_client().query_page("SELECT Id FROM Account", include_deleted=False)
    shown = str(caught.value)
    assert "invalid_grant" in shown and SF_REFRESH not in shown and SF_SECRET not in shown, shown


def _sandbox_config(tmp_path: Path, sandbox: Any) -> tuple[Path, dict[str, str]]:
    creds = sandbox.config.credentials
    key = tmp_path / "jwt.key"
    shutil.copy(sandbox.jwt_private_key_path, key)
    key.chmod(0o600)
    config = tmp_path / "config.toml"
    config.write_text(
        f'mappings_dir = "{default_mappings_dir()}"\n'
        f'[store]\nurl = "sqlite:///{tmp_path / "store.db"}"\n'
        f'[salesforce]\nauth = "jwt"\nusername = "{creds.sf_username}"\n'
        f'consumer_key = "{creds.sf_consumer_key}"\nprivate_key_file = "{key}"\n'
        f'[zendesk]\nsubdomain = "{sandbox.config.zendesk_subdomain}"\n'
        f'email = "{creds.zd_email}"\n'
        f'[transport]\nconnect_to = "127.0.0.1:{sandbox.port}"\n'
        f'connect_to_ca = "{sandbox.ca_path}"\n'
        "[owners]\n" + "".join(f'{role} = "{mail}"\n' for role, mail in DEMO_OWNERS.items())
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CS_")}
    return config, env


def test_a_wrong_zendesk_token_is_one_line_and_never_shown(tmp_path: Path, sandbox) -> None:
    config, env = _sandbox_config(tmp_path, sandbox)
    wrong = "wrong-zendesk-token-4242"
    env["CS_ZENDESK__API_TOKEN"] = wrong
    out = subprocess.run(
        [*CLI, "--log-level", "debug", "sync", "--once", "--json", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr[-2000:]
    errors = [line for line in out.stderr.splitlines() if line.startswith("API error: ")]
    assert len(errors) == 1 and "401" in errors[0], out.stderr[-2000:]
    assert wrong not in out.stdout + out.stderr
    assert sandbox.calls.writes() == []
    status = subprocess.run(
        [*CLI, "status", "--json", "--config", str(config)],
        capture_output=True,
        text=True,
        env={**env, "CS_ZENDESK__API_TOKEN": wrong},
        cwd=tmp_path,
        timeout=120,
    )
    assert wrong not in status.stdout + status.stderr


def test_a_revoked_session_is_one_line_and_no_session_id_is_shown(tmp_path: Path, sandbox) -> None:
    """Every Salesforce session answers 401 INVALID_SESSION_ID: the client logs in again once,
    then stops; the access tokens it held appear nowhere, at debug level included."""
    config, env = _sandbox_config(tmp_path, sandbox)
    env["CS_ZENDESK__API_TOKEN"] = sandbox.config.credentials.zd_api_token
    sandbox.faults.update(invalid_session_after_s=0.0)
    out = subprocess.run(
        [*CLI, "--log-level", "debug", "sync", "--once", "--json", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    sessions = list(sandbox.emulators["salesforce"].auth._sessions)
    assert len(sessions) >= 2  # the first login and the one retry
    shown = out.stdout + out.stderr
    assert out.returncode == 1 and "Traceback" not in shown, out.stderr[-2000:]
    errors = [line for line in out.stderr.splitlines() if line.startswith("API error: ")]
    assert len(errors) == 1 and "INVALID_SESSION_ID" in errors[0], out.stderr[-2000:]
    assert [s for s in sessions if s in shown] == []
    assert sandbox.calls.writes() == []
