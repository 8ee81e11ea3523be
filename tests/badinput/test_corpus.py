"""Bad input through the real CLI: every case is one line ``file:key: reason``, exit code 2,
no traceback, and nothing written to the CRM.

Each case lays one mistake over a copy of the shipped setup (``config.toml``, ``mappings/``,
``jobs/schedule.toml``) in a temporary folder and runs ``python -m connector`` in a subprocess
there. Cases that ``check`` can judge alone (broken TOML, unknown keys, wrong types, templates,
secrets, key files, output mappings) run without the sandbox; the ones only the org or the
store can answer (fields the org lacks, owners, ``--as-of``, a template refused at render time)
run ``sync --once --json`` against the sandbox, whose call log must show no write.

Bad CSV *rows* are not configuration errors: they are skipped and reported by record, while the
rest of the file is read (``test_a_bad_csv_drop_row_is_skipped_and_named``).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from connector.demo import DEMO_OWNERS, default_mappings_dir

CLI = [sys.executable, "-m", "connector"]
REPO = Path(__file__).resolve().parents[2]
ZD_TOKEN = "CS_ZENDESK__API_TOKEN"
LATIN1 = "latin-1"


# -- the setup a case edits -------------------------------------------------------------------
@dataclass
class Setup:
    """A working folder as an admin has it: config.toml, jobs/, mappings/, drops/."""

    root: Path
    env: dict[str, str]
    args: list[str] = field(default_factory=list)  # extra CLI arguments (--as-of ...)
    sandbox: Any = None

    @property
    def config(self) -> Path:
        return self.root / "config.toml"

    def path(self, rel: str) -> Path:
        return self.root / rel

    def edit(self, rel: str, old: str, new: str) -> None:
        path = self.path(rel)
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{rel} no longer holds {old!r}: update the case"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    def write(self, rel: str, text: str, encoding: str = "utf-8") -> None:
        path = self.path(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode(encoding))


def make_setup(root: Path, sandbox: Any = None) -> Setup:
    """The shipped mappings and schedule, and a config that passes ``check`` (and, with the
    sandbox, runs a cycle against it)."""
    shutil.copytree(default_mappings_dir(), root / "mappings")
    (root / "jobs").mkdir()
    shutil.copy(REPO / "jobs" / "schedule.toml", root / "jobs" / "schedule.toml")
    key = root / "jwt.key"
    if sandbox is not None:
        creds = sandbox.config.credentials
        shutil.copy(sandbox.jwt_private_key_path, key)  # a copy: cases chmod it
        username, consumer_key, token = creds.sf_username, creds.sf_consumer_key, creds.zd_api_token
        subdomain, email = sandbox.config.zendesk_subdomain, creds.zd_email
        transport = (
            f'[transport]\nconnect_to = "127.0.0.1:{sandbox.port}"\n'
            f'connect_to_ca = "{sandbox.ca_path}"\n'
        )
    else:  # check never logs in: any private file will do
        key.write_text(
            "-----BEGIN PRIVATE KEY-----\nnot read by check\n-----END PRIVATE KEY-----\n"
        )
        username, consumer_key, token = "integration@example.com", "ck", "zd-token-for-check"
        subdomain, email, transport = "example", "integration@example.com", ""
    key.chmod(0o600)
    (root / "config.toml").write_text(
        'mappings_dir = "mappings"\n'
        f'[store]\nurl = "sqlite:///{root / "store.db"}"\n'
        f'[salesforce]\nauth = "jwt"\nusername = "{username}"\nconsumer_key = "{consumer_key}"\n'
        f'private_key_file = "{key}"\n'
        f'[zendesk]\nsubdomain = "{subdomain}"\nemail = "{email}"\n'
        f"{transport}"
        "[pull]\npage_size = 2000\n"
        "[owners]\n" + "".join(f'{role} = "{mail}"\n' for role, mail in DEMO_OWNERS.items())
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CS_")}
    env.update({ZD_TOKEN: token, "COLUMNS": "200"})
    return Setup(root, env, sandbox=sandbox)


def run_cli(setup: Setup, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *command, "--config", str(setup.config), *setup.args],
        capture_output=True,
        text=True,
        env=setup.env,
        cwd=setup.root,
        timeout=300,
    )


# -- mutations ----------------------------------------------------------------------------------
Mutate = Callable[[Setup], None]


def edit(rel: str, old: str, new: str) -> Mutate:
    return lambda s: s.edit(rel, old, new)


def write(rel: str, text: str, encoding: str = "utf-8") -> Mutate:
    return lambda s: s.write(rel, text, encoding)


def env(name: str, value: str | None) -> Mutate:
    def mutate(s: Setup) -> None:
        if value is None:
            s.env.pop(name, None)
        else:
            s.env[name] = value

    return mutate


def both(*steps: Mutate) -> Mutate:
    def mutate(s: Setup) -> None:
        for step in steps:
            step(s)

    return mutate


def key_mode(mode: int) -> Mutate:
    return lambda s: s.path("jwt.key").chmod(mode)


def secret_file(mode: int | None) -> Mutate:
    """The Zendesk token from a file (``None``: a file that is not there)."""

    def mutate(s: Setup) -> None:
        token = s.env.pop(ZD_TOKEN)
        path = s.path("zendesk-token")
        if mode is not None:
            path.write_text(token)
            path.chmod(mode)
        s.env[f"{ZD_TOKEN}_FILE"] = str(path)

    return mutate


def remove(rel: str) -> Mutate:
    return lambda s: s.path(rel).unlink()


def args(*extra: str) -> Mutate:
    return lambda s: s.args.extend(extra)


def hide(sobject: str, *fields: str) -> Mutate:
    return lambda s: s.sandbox.faults.update(hidden_fields={sobject: list(fields)})


CSV_SURVEY = "mappings/csv/survey_answer.toml"
SF_SURVEY = "mappings/salesforce/survey_answer.toml"


def csv_survey_on(s: Setup) -> None:
    """Switch survey answers to CSV drops, as docs/mappings.md says: enable the CSV mapping
    and disable the Salesforce one."""
    s.edit(CSV_SURVEY, "\nenabled = false\n", "\nenabled = true\n")
    s.edit(SF_SURVEY, 'object = "Survey_Answer__c"', 'object = "Survey_Answer__c"\nenabled = false')


# -- the corpus -------------------------------------------------------------------------------
Expected = tuple[str, str, str]  # file (or its tail), key ("" for none), a fragment of the reason


@dataclass(frozen=True)
class Case:
    id: str
    category: str
    mutate: Mutate
    expect: tuple[Expected, ...]
    exact: bool = True  # stderr holds exactly these problems (False: consequences may follow)
    xfail: str | None = None  # a known bug, with where it is


CONFIG = "config.toml"
RULES = "mappings/rules.toml"
PERSONAS = "mappings/personas.toml"
SCHEDULE = "jobs/schedule.toml"
ACCOUNT = "mappings/salesforce/account.toml"
CONTACT = "mappings/salesforce/contact.toml"
TICKETS = "mappings/zendesk/tickets.toml"
USERS = "mappings/zendesk/users.toml"
CSV_USAGE = "mappings/csv/usage_week.toml"
CTA = "mappings/salesforce/outputs/cta.toml"
TASK = "mappings/salesforce/outputs/task.toml"
PERSONA_OUT = "mappings/salesforce/outputs/persona.toml"
TEMPLATE = "mappings/templates/usage_drop.j2"
EBR = "mappings/templates/ebr_schedule.j2"
ENV = "environment"

CHECK_CASES = [
    # broken TOML, one per kind of file
    Case(
        "toml-config",
        "broken TOML",
        edit(CONFIG, "[store]", "[store"),
        ((CONFIG, "", "invalid TOML at line 2, column 7"),),
        exact=False,  # without the file, the environment's Zendesk token and no owners follow
    ),
    Case(
        "toml-salesforce-mapping",
        "broken TOML",
        edit(ACCOUNT, 'Name = "name"', 'Name = "name'),
        ((ACCOUNT, "", "invalid TOML at line"),),
    ),
    Case(
        "toml-zendesk-mapping-duplicate-key",
        "broken TOML",
        edit(TICKETS, 'status = "status"', 'status = "status"\nstatus = "state"'),
        ((TICKETS, "", "invalid TOML at line"),),
    ),
    Case(
        "toml-csv-mapping-bare-value",
        "broken TOML",
        edit(CSV_USAGE, 'stream = "usage_week"', "stream = usage_week"),
        ((CSV_USAGE, "", "invalid TOML at line"),),
    ),
    Case(
        "toml-rules",
        "broken TOML",
        write(RULES, "[support\nvolume_threshold = 10\n"),
        ((RULES, "", "not valid TOML"),),
    ),
    Case(
        "toml-personas",
        "broken TOML",
        write(PERSONAS, '[[rule]\npersona = "Admin"\n'),
        ((PERSONAS, "", "not valid TOML"),),
    ),
    Case(
        "toml-schedule",
        "broken TOML",
        write(SCHEDULE, '[jobs.cycle\nsteps = ["pull"]\n'),
        ((SCHEDULE, "", "invalid TOML at line 1"),),
    ),
    Case(
        "toml-output-mapping",
        "broken TOML",
        edit(CTA, 'output = "cta"', "output = "),
        ((CTA, "", "invalid TOML at line"),),
    ),
    # files saved in another encoding than UTF-8 (Windows editors, Latin-1 exports)
    Case(
        "latin1-config",
        "not UTF-8",
        lambda s: s.config.write_bytes(s.config.read_bytes() + "# Zürich\n".encode(LATIN1)),
        ((CONFIG, "", "not UTF-8 text"),),
        exact=False,
    ),
    Case(
        "latin1-rules",
        "not UTF-8",
        write(RULES, '# Zürich office\ntimezone = "Europe/Zurich"\n', LATIN1),
        ((RULES, "", "not UTF-8 text"),),
    ),
    Case(
        "latin1-personas",
        "not UTF-8",
        write(PERSONAS, '[[rule]]\npersona = "Geschäftsführer"\ntitle = "ceo"\n', LATIN1),
        ((PERSONAS, "", "not UTF-8 text"),),
    ),
    Case(
        "latin1-template",
        "not UTF-8",
        write(TEMPLATE, "Grüße, {{ csm.name }}\n", LATIN1),
        ((TEMPLATE, "", "not UTF-8 text"),),
    ),
    Case(
        "latin1-schedule",
        "not UTF-8",
        write(
            SCHEDULE, '# nächtlich\n[jobs.sweep]\ncron = "30 2 * * *"\nsteps = ["sweep"]\n', LATIN1
        ),
        ((SCHEDULE, "", "not UTF-8 text"),),
    ),
    Case(
        "latin1-output-mapping",
        "not UTF-8",
        lambda s: s.path(TASK).write_bytes(s.path(TASK).read_bytes() + "# für\n".encode(LATIN1)),
        ((TASK, "", "not UTF-8 text"),),
    ),
    # unknown keys
    Case(
        "unknown-config-top-level-key",
        "unknown key",
        edit(CONFIG, "mappings_dir =", "mapping_dir ="),
        ((CONFIG, "mapping_dir", "unknown key (did you mean 'mappings_dir'?)"),),
    ),
    Case(
        "unknown-config-section",
        "unknown key",
        edit(CONFIG, "[pull]", "[pul]"),
        ((CONFIG, "pul", "unknown key (did you mean 'pull'?)"),),
    ),
    Case(
        "unknown-config-key-in-section",
        "unknown key",
        edit(CONFIG, "page_size = 2000", "page_size = 2000\nbulk_treshold = 100"),
        ((CONFIG, "pull.bulk_treshold", "unknown key (did you mean 'bulk_threshold'?)"),),
    ),
    Case(
        "unknown-environment-variable",
        "unknown key",
        env("CS_PULL__LAGSECONDS", "60"),
        ((ENV, "CS_PULL__LAGSECONDS", "unknown key (did you mean 'lag_seconds'?)"),),
    ),
    Case(
        "unknown-mapping-key-in-field",
        "unknown key",
        edit(CONTACT, 'transform = "lower"', 'transfrom = "lower"'),
        ((CONTACT, "fields.Email.transfrom", "unknown key (did you mean 'transform'?)"),),
    ),
    Case(
        "unknown-zendesk-mapping-key",
        "unknown key",
        edit(USERS, 'endpoint = "users"', 'endpiont = "users"'),
        (
            (USERS, "endpoint", "missing: one of tickets, organizations, users, groups"),
            (USERS, "endpiont", "unknown key (did you mean 'endpoint'?)"),
        ),
    ),
    Case(
        "unknown-rules-key",
        "unknown key",
        write(RULES, "[usage]\ndrop_ration = 0.5\n"),
        ((RULES, "usage.drop_ration", "not permitted"),),
    ),
    Case(
        "unknown-personas-key",
        "unknown key",
        write(PERSONAS, 'defualt = "End User"\n'),
        ((PERSONAS, "defualt", "not permitted"),),
    ),
    Case(
        "unknown-schedule-key",
        "unknown key",
        edit(SCHEDULE, "every_minutes = 15", "every_minute = 15"),
        ((SCHEDULE, "jobs.cycle.every_minute", "unknown key (did you mean 'every_minutes'?)"),),
        exact=False,  # and the job then has no trigger
    ),
    Case(
        "unknown-output-section",
        "unknown key",
        edit(TASK, "[constants]", "[constant]"),
        ((TASK, "constant", "unknown key (did you mean 'constants'?)"),),
    ),
    # wrong types
    Case(
        "type-config-int-as-text",
        "wrong type",
        edit(CONFIG, "page_size = 2000", 'lag_seconds = "5m"'),
        ((CONFIG, "pull.lag_seconds", 'expected a whole number, got "5m"'),),
    ),
    Case(
        "type-config-timeout-as-text",
        "wrong type",
        edit(CONFIG, "[pull]", '[transport]\ntimeout = "slow"\n[pull]'),
        ((CONFIG, "transport.timeout", 'expected a list, got "slow"'),),
    ),
    Case(
        "type-config-owner-as-number",
        "wrong type",
        edit(CONFIG, f'cco = "{DEMO_OWNERS["cco"]}"', "cco = 5"),
        ((CONFIG, "owners.cco", "expected a string, got 5"),),
    ),
    Case(
        "type-config-api-version-as-number",
        "wrong type",
        edit(CONFIG, 'auth = "jwt"', 'auth = "jwt"\napi_version = 62'),
        ((CONFIG, "salesforce.api_version", "expected a string, got 62"),),
    ),
    Case(
        "type-environment-int",
        "wrong type",
        env("CS_PULL__PAGE_SIZE", "lots"),
        ((ENV, "CS_PULL__PAGE_SIZE", 'expected a whole number, got "lots"'),),
    ),
    Case(
        "type-mapping-enabled-as-text",
        "wrong type",
        edit(CONTACT, 'object = "Contact"', 'object = "Contact"\nenabled = "yes"'),
        ((CONTACT, "enabled", 'expected true or false, got "yes"'),),
    ),
    Case(
        "type-mapping-field-as-number",
        "wrong type",
        edit(CONTACT, 'Title = "title"', "Title = 5"),
        ((CONTACT, "fields.Title", "expected a column name or { column = ..., transform"),),
    ),
    Case(
        "type-rules-weight-as-text",
        "wrong type",
        write(RULES, '[scorecard.weights]\nsupport = "high"\n'),
        ((RULES, "scorecard.weights.support", "valid number"),),
    ),
    Case(
        "type-schedule-interval-as-text",
        "wrong type",
        edit(SCHEDULE, "every_minutes = 15", 'every_minutes = "15"'),
        ((SCHEDULE, "jobs.cycle.every_minutes", 'expected a whole number, got "15"'),),
    ),
    Case(
        "type-output-external-id-as-number",
        "wrong type",
        edit(TASK, 'external_id = "CS_Sync_Key__c"', "external_id = 5"),
        ((TASK, "external_id", "expected a string, got 5"),),
    ),
    # values out of range or not among the allowed ones
    Case(
        "value-auth-method",
        "bad value",
        edit(CONFIG, 'auth = "jwt"', 'auth = "saml"'),
        ((CONFIG, "salesforce.auth", 'got "saml"'),),
        exact=False,  # the jwt settings are then unknown to no auth
    ),
    Case(
        "value-quota-reserve",
        "bad value",
        edit(CONFIG, "page_size = 2000", "quota_reserve = 1.5"),
        ((CONFIG, "pull.quota_reserve", "must be less than 1, got 1.5"),),
    ),
    Case(
        "value-store-url-garbled",
        "bad value",
        edit(CONFIG, 'url = "sqlite:///', 'url = "sqlite//'),
        ((CONFIG, "store.url", "not a database URL"),),
    ),
    Case(
        "value-store-url-unsupported-database",
        "bad value",
        edit(CONFIG, 'url = "sqlite:///', 'url = "mysql://cs:hunter2@db/cs"\n# '),
        ((CONFIG, "store.url", 'unsupported store database "mysql"'),),
    ),
    Case(
        "value-rules-timezone",
        "bad value",
        write(RULES, 'timezone = "Europe/Pariss"\n'),
        ((RULES, "timezone", 'unknown timezone "Europe/Pariss"'),),
    ),
    Case(
        "value-rules-weekday",
        "bad value",
        write(RULES, '[risk]\nupdate_weekday = "Wensday"\n'),
        ((RULES, "risk.update_weekday", 'expected a day such as "Wednesday", got "Wensday"'),),
    ),
    Case(
        "value-rules-bands-not-falling",
        "bad value",
        write(RULES, "[deployment.bands]\ngreen = 0.4\nyellow = 0.6\norange = 0.8\n"),
        ((RULES, "deployment.bands", "lower bounds must fall"),),
    ),
    Case(
        "value-personas-title-regex",
        "bad value",
        write(PERSONAS, '[[rule]]\npersona = "Admin"\ntitle = "(admin"\n'),
        ((PERSONAS, "rule.0", "title is not a valid regular expression"),),
    ),
    Case(
        "value-personas-roles-and-title",
        "bad value",
        write(PERSONAS, '[[rule]]\npersona = "Admin"\nroles = ["Admin"]\ntitle = "admin"\n'),
        ((PERSONAS, "rule.0", "give either roles or title"),),
    ),
    Case(
        "value-schedule-cron-hour",
        "bad value",
        edit(SCHEDULE, 'cron = "30 2 * * *"', 'cron = "30 25 * * *"'),
        ((SCHEDULE, "jobs.sweep.cron", "higher than the maximum value (23)"),),
    ),
    Case(
        "value-schedule-step",
        "bad value",
        edit(SCHEDULE, 'steps = ["sweep"]', 'steps = ["swep"]'),
        ((SCHEDULE, "jobs.sweep.steps.0", "(did you mean 'sweep'?)"),),
    ),
    # unknown transforms
    Case(
        "transform-salesforce",
        "unknown transform",
        edit(ACCOUNT, 'Name = "name"', 'Name = { column = "name", transform = "titlecase" }'),
        ((ACCOUNT, "fields.Name", "unknown transform 'titlecase' (known: bool, date"),),
    ),
    Case(
        "transform-zendesk",
        "unknown transform",
        edit(
            TICKETS, 'subject = "subject"', 'subject = { column = "subject", transform = "trim" }'
        ),
        ((TICKETS, "fields.subject", "unknown transform 'trim'"),),
    ),
    Case(
        "transform-csv-disabled-file-is-checked-too",
        "unknown transform",
        edit(CSV_SURVEY, 'transform = "int"', 'transform = "integer"'),
        ((CSV_SURVEY, "fields.score", "unknown transform 'integer'"),),
    ),
    # templates
    Case(
        "template-syntax-error",
        "broken template",
        write(TEMPLATE, "Hi {{ csm.name }}\n{% if usage.active_users %}\nfew\n"),
        ((TEMPLATE, "line 2", "Unexpected end of template"),),
    ),
    Case(
        "template-unknown-token",
        "broken template",
        write(TEMPLATE, "Hi,\nonly {{ usage.active_user }} users\n"),
        ((TEMPLATE, "line 2", "has no attribute 'active_user'"),),
    ),
    Case(
        "template-unknown-filter",
        "broken template",
        write(EBR, "{{ account.name | shout }}\n"),
        ((EBR, "line 1", "No filter named 'shout'"),),
    ),
    Case(
        "template-missing",
        "broken template",
        remove(EBR),
        ((EBR, "", "template missing"),),
    ),
    Case(
        "template-includes-itself",
        "broken template",
        write(EBR, "{% include 'ebr_schedule.j2' %}\n"),
        ((EBR, "", "includes or extends itself"),),
    ),
    Case(
        "template-range-past-the-sandbox-cap",
        "broken template",
        write(EBR, "{% for i in range(10**9) %}.{% endfor %}\n"),
        ((EBR, "", "Range too big"),),
    ),
    Case(
        "template-attribute-trick",
        "broken template",
        write(TEMPLATE, "Hi\n{{ ''.__class__.__mro__[1].__subclasses__() }}\n"),
        ((TEMPLATE, "line 2", "is unsafe"),),
    ),
    Case(
        "template-globals-trick",
        "broken template",
        write(TEMPLATE, "{{ cycler.__init__.__globals__.os.popen('id').read() }}\n"),
        ((TEMPLATE, "line 1", "is unsafe"),),
    ),
    Case(
        "template-import",
        "broken template",
        write(TEMPLATE, "{% import 'os' as os %}{{ os.environ }}\n"),
        ((TEMPLATE, "line 1", "'os' not found"),),
    ),
    Case(
        "template-include-outside-its-folder",
        "broken template",
        write(TEMPLATE, "{% include '../../config.toml' %}\n"),
        ((TEMPLATE, "", "../../config.toml"),),
    ),
    # secrets and key files
    Case(
        "secret-missing",
        "missing secret",
        env(ZD_TOKEN, None),
        ((CONFIG, "zendesk.api_token", 'required for auth = "api_token": set CS_ZENDESK__API'),),
    ),
    Case(
        "secret-password-auth-without-password",
        "missing secret",
        edit(CONFIG, 'auth = "jwt"', 'auth = "password"'),
        ((CONFIG, "salesforce.password", "set CS_SALESFORCE__PASSWORD or CS_SALESFORCE__PASS"),),
    ),
    Case(
        "secret-oauth-without-token",
        "missing secret",
        edit(CONFIG, "[zendesk]", '[zendesk]\nauth = "oauth"'),
        ((CONFIG, "zendesk.oauth_token", "set CS_ZENDESK__OAUTH_TOKEN"),),
    ),
    Case(
        "secret-in-the-config-file",
        "missing secret",
        edit(CONFIG, "[zendesk]", '[zendesk]\napi_token = "pasted-here"'),
        ((CONFIG, "zendesk.api_token", "secrets are not read from the config file"),),
    ),
    Case(
        "secret-file-absent",
        "missing secret",
        secret_file(None),
        ((ENV, "CS_ZENDESK__API_TOKEN_FILE", "No such file or directory"),),
    ),
    Case(
        "secret-file-world-readable",
        "world-readable file",
        secret_file(0o644),
        ((ENV, "CS_ZENDESK__API_TOKEN_FILE", "open to group or others (mode 0644): chmod 600"),),
    ),
    Case(
        "key-file-world-readable",
        "world-readable file",
        key_mode(0o644),
        ((CONFIG, "salesforce.private_key_file", "(mode 0644): chmod 600 it"),),
    ),
    Case(
        "key-file-group-readable",
        "world-readable file",
        key_mode(0o640),
        ((CONFIG, "salesforce.private_key_file", "(mode 0640): chmod 600 it"),),
    ),
    Case(
        "key-file-absent",
        "missing secret",
        remove("jwt.key"),
        ((CONFIG, "salesforce.private_key_file", "cannot read"),),
    ),
    # CSV drop mappings
    Case(
        "csv-enabled-beside-salesforce",
        "bad CSV drop",
        edit(CSV_SURVEY, "\nenabled = false\n", "\nenabled = true\n"),
        ((CSV_SURVEY, "stream", f"'survey_answer' is also defined in {SF_SURVEY}"),),
    ),
    Case(
        "csv-delimiter-two-characters",
        "bad CSV drop",
        edit(CSV_SURVEY, '# delimiter = ","', 'delimiter = ";;"'),
        ((CSV_SURVEY, "delimiter", "at most 1 character"),),
    ),
    Case(
        "csv-unknown-encoding",
        "bad CSV drop",
        edit(CSV_SURVEY, '# encoding = "utf-8-sig"', 'encoding = "utf8-bom"'),
        ((CSV_SURVEY, "encoding", "unknown encoding 'utf8-bom'"),),
    ),
    Case(
        "csv-id-column-missing",
        "bad CSV drop",
        edit(CSV_USAGE, 'id_column = "row_id"', ""),
        ((CSV_USAGE, "id_column", "each row must carry its own id"),),
    ),
    Case(
        "csv-id-column-blank",
        "bad CSV drop",
        edit(CSV_USAGE, 'id_column = "row_id"', 'id_column = "  "'),
        ((CSV_USAGE, "id_column", "must name the CSV column that holds each row's id"),),
    ),
    # output mappings
    Case(
        "output-guard-not-among-fields",
        "bad output mapping",
        edit(PERSONA_OUT, 'guard = "persona"', 'guard = "personna"'),
        ((PERSONA_OUT, "guard", "not one of [fields] (did you mean 'persona'?)"),),
    ),
    Case(
        "output-external-id-missing",
        "bad output mapping",
        edit(TASK, 'external_id = "CS_Sync_Key__c"\n', ""),
        ((TASK, "external_id", "missing: the External Id field"),),
    ),
    Case(
        "output-external-id-not-pulled",
        "bad output mapping",
        edit(CTA, 'external_id = "Sync_Key__c"', 'external_id = "SyncKey__c"'),
        ((CTA, "external_id", "SyncKey__c is not pulled by mappings/salesforce/cs_cta.toml"),),
    ),
    Case(
        "output-parent-unknown",
        "bad output mapping",
        edit(TASK, 'output = "cta"\nrelationship', 'output = "call_to_action"\nrelationship'),
        ((TASK, "parent.output", 'got "call_to_action"'),),
    ),
    Case(
        "output-stamp-not-now-or-today",
        "bad output mapping",
        edit(CTA, 'Last_Evaluated__c = "now"', 'Last_Evaluated__c = "yesterday"'),
        ((CTA, "stamps.Last_Evaluated__c", "expected one of 'now', 'today'"),),
    ),
    Case(
        "output-field-written-twice",
        "bad output mapping",
        edit(TASK, 'who_id = "WhoId"', 'who_id = "Subject"'),
        ((TASK, "fields.who_id", "Subject is already written by fields.subject"),),
    ),
    Case(
        "output-stream-not-pulled",
        "bad output mapping",
        edit(TASK, 'stream = "task"', 'stream = "tasks"'),
        ((TASK, "stream", "no enabled mapping pulls a stream 'tasks'"),),
    ),
    Case(
        "output-file-missing",
        "bad output mapping",
        remove("mappings/salesforce/outputs/objective.toml"),
        (("mappings/salesforce/outputs/objective.toml", "", "missing: every output object"),),
    ),
    # owners
    Case(
        "owner-role-missing",
        "unresolvable owner",
        edit(CONFIG, f'fallback = "{DEMO_OWNERS["fallback"]}"\n', ""),
        ((CONFIG, "owners.fallback", "missing: an email of an active Salesforce user"),),
    ),
    Case(
        "rules-disabled-names-an-unknown-rule",
        "bad value",
        write(RULES, 'disabled = ["usage_dorp"]\n'),
        ((RULES, "disabled", "usage_dorp"),),
    ),
    Case(
        "rules-cool-down-names-an-unknown-rule",
        "bad value",
        write(RULES, "[cool_down]\nusage_dorp = 3\n"),
        ((RULES, "cool_down.usage_dorp", "usage_dorp"),),
    ),
]

SYNC_CASES = [
    Case(
        "org-field-missing",
        "field the org does not have",
        edit(ACCOUNT, "Segment__c =", "Segmnet__c ="),
        ((ACCOUNT, "fields.Segmnet__c", "no field 'Segmnet__c' on Account (did you mean"),),
    ),
    Case(
        "org-object-missing",
        "field the org does not have",
        edit(
            "mappings/salesforce/usage_week.toml",
            'object = "Usage_Week__c"',
            'object = "Usage_Weeks__c"',
        ),
        (
            (
                "mappings/salesforce/usage_week.toml",
                "object",
                "no sObject 'Usage_Weeks__c' in the org (did you mean 'Usage_Week__c'?)",
            ),
        ),
    ),
    Case(
        "org-field-hidden-from-the-integration-user",
        "field the org does not have",
        hide("Account", "Segment__c"),
        ((ACCOUNT, "fields.Segment__c", "no field 'Segment__c' on Account"),),
    ),
    Case(
        "org-transform-does-not-fit",
        "field the org does not have",
        edit(
            "mappings/salesforce/user.toml",
            'IsActive = "active"',
            'IsActive = { column = "active", transform = "date" }',
        ),
        (
            (
                "mappings/salesforce/user.toml",
                "fields.IsActive",
                "transform 'date' does not apply to User.IsActive (a boolean field)",
            ),
        ),
    ),
    Case(
        "zendesk-custom-field-missing",
        "field the org does not have",
        edit(TICKETS, '19 = "cs_cta_id"', '19 = "cs_cta_id"\n99 = "severity"'),
        ((TICKETS, "custom_fields.99", "no ticket field 99 in Zendesk"),),
    ),
    Case(
        "owner-email-without-user",
        "unresolvable owner",
        edit(CONFIG, DEMO_OWNERS["cco"], "c.c.o@demo.cs-connector.dev"),
        ((CONFIG, "owners.cco", "no Salesforce user with email c.c.o@demo.cs-connector.dev"),),
    ),
    Case(
        "owner-inactive-user",
        "unresolvable owner",
        edit(CONFIG, DEMO_OWNERS["vp_cs"], "drew.hollis@demo.cs-connector.dev"),
        ((CONFIG, "owners.vp_cs", "the Salesforce user drew.hollis@demo.cs-connector.dev is"),),
    ),
    Case(
        "as-of-impossible-date",
        "bad --as-of",
        args("--as-of", "2026-02-30"),
        (("--as-of", "", "not an ISO 8601 date or instant: '2026-02-30'"),),
    ),
    Case(
        "as-of-words",
        "bad --as-of",
        args("--as-of", "next monday"),
        (("--as-of", "", "not an ISO 8601 date or instant: 'next monday'"),),
    ),
    Case(
        "template-trick-refused-at-render-time",
        "broken template",
        # check would refuse it too; a sync run without check must not render it either
        write(TEMPLATE, "{{ cycler.__init__.__globals__ }}\n"),
        ((TEMPLATE, "", "is unsafe"),),
    ),
    Case(
        "rules-timezone-at-run-time",
        "bad value",
        write(RULES, 'timezone = "Mars/Olympus_Mons"\n'),
        ((RULES, "timezone", 'unknown timezone "Mars/Olympus_Mons"'),),
    ),
    Case(
        "key-file-world-readable-at-run-time",
        "world-readable file",
        key_mode(0o644),
        ((CONFIG, "salesforce.private_key_file", "(mode 0644): chmod 600 it"),),
    ),
    Case(
        "csv-drop-folder-missing",
        "bad CSV drop",
        csv_survey_on,
        ((CSV_SURVEY, "folder", "no such folder"),),
    ),
    Case(
        "store-url-unreachable",
        "bad value",
        edit(CONFIG, 'url = "sqlite:///', 'url = "postgresql+psycopg://cs@127.0.0.1:9/cs"\n# '),
        ((CONFIG, "store.url", "127.0.0.1"),),
    ),
    Case(
        "owner-error-names-the-config-file-it-came-from",
        "unresolvable owner",
        both(
            edit(CONFIG, DEMO_OWNERS["cco"], "nobody@demo.cs-connector.dev"),
            lambda s: s.config.rename(s.root / "prod.toml"),
        ),
        (("prod.toml", "owners.cco", "no Salesforce user"),),
    ),
]


def _params(cases: list[Case]) -> list[Any]:
    return [
        pytest.param(
            case,
            id=case.id,
            marks=[pytest.mark.xfail(reason=case.xfail, strict=True)] if case.xfail else [],
        )
        for case in cases
    ]


def _problems(stderr: str) -> list[tuple[str, str, str]]:
    """Each stderr line as (file, key, reason); a line that is not one is kept whole."""
    out = []
    for line in stderr.splitlines():
        if not line.strip():
            continue
        where, sep, reason = line.partition(": ")
        file, _, key = where.partition(":")
        out.append((file, key, reason) if sep else (line, "", ""))
    return out


def _names(file: str, wanted: str) -> bool:
    return file == wanted or file.endswith("/" + wanted)


def assert_answered(out: subprocess.CompletedProcess[str], case: Case) -> None:
    shown = f"stdout:\n{out.stdout[-1500:]}\nstderr:\n{out.stderr[-3000:]}"
    assert "Traceback" not in out.stdout + out.stderr, shown
    assert out.returncode == 2, shown
    problems = _problems(out.stderr)
    for file, key, reason in case.expect:
        assert any(_names(f, file) and k == key and reason in r for f, k, r in problems), (
            f"no line {file}:{key}: ...{reason}...\n{shown}"
        )
    if case.exact:
        assert len(problems) == len(case.expect), shown


# -- the runs -----------------------------------------------------------------------------------
def test_the_corpus_has_at_least_fifty_cases() -> None:
    answered = [c for c in CHECK_CASES + SYNC_CASES if not c.xfail]
    assert len({c.id for c in CHECK_CASES + SYNC_CASES}) == len(CHECK_CASES + SYNC_CASES)
    assert len(answered) >= 50


@pytest.mark.parametrize("case", _params(CHECK_CASES))
def test_check_answers_a_bad_input_with_its_file_and_key(case: Case, tmp_path: Path) -> None:
    setup = make_setup(tmp_path)
    case.mutate(setup)
    assert_answered(run_cli(setup, "check"), case)


@pytest.mark.parametrize("case", _params(SYNC_CASES))
def test_sync_refuses_a_bad_input_and_writes_nothing(case: Case, tmp_path: Path, sandbox) -> None:
    setup = make_setup(tmp_path, sandbox)
    case.mutate(setup)
    config = setup.config if setup.config.exists() else setup.root / "prod.toml"
    out = subprocess.run(
        [*CLI, "sync", "--once", "--json", "--config", str(config), *setup.args],
        capture_output=True,
        text=True,
        env=setup.env,
        cwd=setup.root,
        timeout=300,
    )
    assert_answered(out, case)
    assert sandbox.calls.writes() == []


def test_the_shipped_setup_passes_check(tmp_path: Path) -> None:
    """The baseline every case edits: it is the mistake, not the setup, that check reports."""
    out = run_cli(make_setup(tmp_path), "check")
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""


# -- bad CSV rows: skipped and named, the rest of the drop is read -------------------------------
HEADER = "response_id,account_id,contact_id,survey,score,answered_on,comment,title\n"
GOOD = "r-good,,,Relationship,9,2026-03-02,fine,Relationship survey\n"
CSV_ROWS = {
    # case id: (file text, the record id the issue names, a fragment of its reason)
    "csv-row-impossible-date": (
        HEADER + GOOD + "r-date,,,Relationship,9,2026-02-30,,t\n",
        "drops/survey_answers/drop.csv:3",
        "fields.answered_on",
    ),
    "csv-row-date-in-another-format": (
        HEADER + GOOD + "r-date2,,,Relationship,9,02/03/2026,,t\n",
        "drops/survey_answers/drop.csv:3",
        "fields.answered_on",
    ),
    "csv-row-score-not-a-number": (
        HEADER + GOOD + "r-score,,,Relationship,nine,2026-03-02,,t\n",
        "drops/survey_answers/drop.csv:3",
        "fields.score",
    ),
    "csv-row-account-not-an-id": (
        HEADER + GOOD + "r-acct,Acme Inc,,Relationship,9,2026-03-02,,t\n",
        "drops/survey_answers/drop.csv:3",
        "fields.account_id",
    ),
    "csv-row-empty-id": (
        HEADER + GOOD + ",,,Relationship,9,2026-03-02,,t\n",
        "drops/survey_answers/drop.csv:3",
        "empty 'response_id'",
    ),
    "csv-row-duplicate-id": (
        HEADER + GOOD + "r-good,,,Relationship,3,2026-03-03,,t\n",
        "drops/survey_answers/drop.csv:3",
        "duplicate id 'r-good'",
    ),
    "csv-row-extra-field": (
        HEADER + GOOD + "r-extra,,,Relationship,9,2026-03-02,,t,surplus\n",
        "drops/survey_answers/drop.csv:3",
        "1 more field(s) than the header",
    ),
    "csv-file-without-its-id-column": (
        HEADER.replace("response_id", "id") + GOOD,
        "drops/survey_answers/drop.csv",
        "no 'response_id' column in the header",
    ),
}


@pytest.mark.parametrize("name", sorted(CSV_ROWS))
def test_a_bad_csv_drop_row_is_skipped_and_named(name: str, tmp_path: Path, sandbox) -> None:
    text, record_id, reason = CSV_ROWS[name]
    setup = make_setup(tmp_path, sandbox)
    csv_survey_on(setup)
    setup.write("drops/survey_answers/drop.csv", text)
    setup.write(
        "drops/survey_answers/other.csv", HEADER + "r-other,,,Onboarding,10,2026-03-01,,t\n"
    )

    out = run_cli(setup, "pull", "--stream", "survey_answer", "--json")

    shown = f"stdout:\n{out.stdout[-1500:]}\nstderr:\n{out.stderr[-3000:]}"
    assert out.returncode == 0 and "Traceback" not in out.stdout + out.stderr, shown
    warnings = [line for line in out.stderr.splitlines() if f"skipped {record_id}: " in line]
    assert len(warnings) == 1 and reason in warnings[0], shown
    (stream,) = json.loads(out.stdout)["streams"]
    assert stream["issues"] == 1 and stream["status"] == "completed"
    with sqlite3.connect(setup.root / "store.db") as db:
        errors = db.execute("SELECT stream, record_id, message FROM record_errors").fetchall()
        ids = {row[0] for row in db.execute("SELECT id FROM mirror_survey_answer")}
    assert [(s, r) for s, r, _ in errors] == [("survey_answer", record_id)]
    assert reason in errors[0][2]
    # The rest proceeds: the other file, and the good rows of this one when it could be read.
    assert "r-other" in ids
    assert ("r-good" in ids) == (name != "csv-file-without-its-id-column")
    assert sandbox.calls.writes() == []
