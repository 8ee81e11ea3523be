"""Shared by the reliability suites: configs, what the CRM holds, and the results log.

What is compared is read from the sandbox (its records and tickets), never from the
connector's ledger. Ids the connector's own records got, and Zendesk ticket ids, differ from
one run to another; they are replaced by the keys of the records they name, so two runs that
wrote the same outputs compare equal whatever order they created them in.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connector.demo import DEMO_OWNERS, default_mappings_dir
from connector.targets import Target, load_targets

CLI = [sys.executable, "-m", "connector"]
RESULTS_ENV = "CS_RELIABILITY_RESULTS"
TARGETS: dict[str, Target] = load_targets(default_mappings_dir())
KEYED = {t.sobject: t for t in TARGETS.values() if t.external_id}
BY_ID = {t.sobject: t for t in TARGETS.values() if t.by_id}
_ID = re.compile(r"\b[a-zA-Z0-9]{18}\b")


# -- configuration ---------------------------------------------------------------------------
def mappings_copy(tmp: Path, *, disabled: Iterable[str] = ()) -> Path:
    """The shipped mappings in ``tmp/mappings``, with ``rules.toml``'s ``disabled`` set."""
    target = tmp / "mappings"
    if not target.exists():
        shutil.copytree(default_mappings_dir(), target)
    rules = target / "rules.toml"
    text = rules.read_text(encoding="utf-8")
    listed = ", ".join(f'"{r}"' for r in disabled)
    text, n = re.subn(r"(?m)^disabled = \[[^\]]*\]", f"disabled = [{listed}]", text)
    assert n == 1, "mappings/rules.toml has no `disabled = [...]` line any more"
    rules.write_text(text, encoding="utf-8")
    return target


def write_config(
    tmp: Path,
    sandbox: Any,
    store_url: str,
    *,
    mappings: Path | None = None,
    page_size: int = 2000,
    timeout: tuple[float, float] | None = None,
    bulk_threshold: int | None = None,
    name: str = "config.toml",
) -> tuple[Path, dict[str, str]]:
    """A config file and environment for the CLI against ``sandbox``, as an admin writes them."""
    creds = sandbox.config.credentials
    config = tmp / name
    lines = [
        f'mappings_dir = "{mappings or default_mappings_dir()}"',
        f'[store]\nurl = "{store_url}"',
        f'[salesforce]\nauth = "jwt"\nusername = "{creds.sf_username}"',
        f'consumer_key = "{creds.sf_consumer_key}"',
        f'private_key_file = "{sandbox.jwt_private_key_path}"',
        f'[zendesk]\nsubdomain = "{sandbox.config.zendesk_subdomain}"',
        f'email = "{creds.zd_email}"',
        f'[transport]\nconnect_to = "127.0.0.1:{sandbox.port}"',
        f'connect_to_ca = "{sandbox.ca_path}"',
    ]
    if timeout is not None:
        lines.append(f"timeout = [{timeout[0]}, {timeout[1]}]")
    lines.append(f"[pull]\npage_size = {page_size}")
    if bulk_threshold is not None:
        lines.append(f"[push]\nbulk_threshold = {bulk_threshold}")
    lines.append("[owners]")
    lines.extend(f'{role} = "{email}"' for role, email in DEMO_OWNERS.items())
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {**os.environ, "CS_ZENDESK__API_TOKEN": creds.zd_api_token, "COLUMNS": "160"}
    return config, env


# -- what the CRM holds ----------------------------------------------------------------------
def live(sandbox: Any, sobject: str) -> list[dict[str, Any]]:
    return [r for r in sandbox.emulators["salesforce"].all_records(sobject) if not r["IsDeleted"]]


def tickets(sandbox: Any) -> list[dict[str, Any]]:
    """Zendesk tickets that carry an ``external_id`` (the connector's), deleted ones left out."""
    store = sandbox.emulators["zendesk"].store.tickets
    found = (store.by_id[i] for i in store.ids)
    return [t for t in found if t.get("external_id") and t.get("status") != "deleted"]


def _owned_fields(t: Target) -> list[str]:
    """The CRM fields a target's writes set, stamps (timestamps) left out."""
    names = [*t.fields.values(), *t.unhashed.values(), *t.on_create.values(), *t.constants]
    if t.status is not None and t.status.field:
        names.append(t.status.field)
    if t.hash_field:
        names.append(t.hash_field)
    return sorted(set(names))


@dataclass
class Holdings:
    """The connector's outputs as the CRM holds them, Ids replaced by keys."""

    counts: Counter[str] = field(default_factory=Counter)  # "Object key" -> live records
    values: dict[str, dict[str, Any]] = field(default_factory=dict)  # "Object key" -> fields

    def duplicates(self) -> dict[str, int]:
        return {k: n for k, n in self.counts.items() if n > 1}


def holdings(sandbox: Any) -> Holdings:
    """Every output of the connector in the sandbox: keyed records, by-Id fields, tickets."""
    out = Holdings()
    names: dict[str, str] = {}  # an Id or ticket id -> the key it stands for
    keyed: list[tuple[str, str, dict[str, Any]]] = []
    for sobject, t in KEYED.items():
        for r in live(sandbox, sobject):
            key = r.get(t.external_id or "")
            if key:
                names[r["Id"]] = f"<{key}>"
                keyed.append((sobject, key, r))
    made = tickets(sandbox)
    for ticket in made:
        names[str(ticket["id"])] = f"<ticket {ticket['external_id']}>"

    def plain(value: Any) -> Any:
        if isinstance(value, str):
            if value in names:
                return names[value]
            return _ID.sub(lambda m: names.get(m.group(0), m.group(0)), value)
        if isinstance(value, list):
            return [plain(v) for v in value]
        if isinstance(value, (int, float)) and not isinstance(value, bool) and str(value) in names:
            return names[str(value)]
        return value

    for sobject, key, r in keyed:
        name = f"{sobject} {key}"
        out.counts[name] += 1
        out.values[name] = {f: plain(r.get(f)) for f in _owned_fields(KEYED[sobject])}
    for sobject, t in BY_ID.items():
        fields = sorted({*t.fields.values(), *t.unhashed.values()})
        for r in live(sandbox, sobject):
            values = {f: r.get(f) for f in fields}
            if any(v is not None for v in values.values()):
                out.values[f"{sobject} {r['Id']}"] = values
    for ticket in made:
        name = f"ticket {ticket['external_id']}"
        out.counts[name] += 1
        custom = {str(c["id"]): plain(c.get("value")) for c in ticket.get("custom_fields") or []}
        out.values[name] = {
            "subject": ticket.get("subject"),
            "description": plain(ticket.get("description")),
            "type": ticket.get("type"),
            "tags": sorted(ticket.get("tags") or []),
            "group_id": ticket.get("group_id"),
            "custom_fields": custom,
        }
    return out


@dataclass
class Difference:
    duplicates: dict[str, int]
    missing: list[str]  # outputs the reference has and this run does not
    extra: list[str]  # outputs this run has and the reference does not
    changed: dict[str, dict[str, tuple[Any, Any]]]  # output -> field -> (reference, this run)

    @property
    def clean(self) -> bool:
        return not (self.duplicates or self.missing or self.extra or self.changed)

    def brief(self, limit: int = 8) -> str:
        parts = []
        for name, value in (
            ("duplicates", self.duplicates),
            ("missing", self.missing),
            ("extra", self.extra),
            ("changed", self.changed),
        ):
            if value:
                items = list(value.items() if isinstance(value, dict) else value)[:limit]
                parts.append(f"{name} ({len(value)}): {items}")
        return "; ".join(parts) or "identical"


def compare(reference: Holdings, got: Holdings) -> Difference:
    missing = sorted(set(reference.values) - set(got.values))
    extra = sorted(set(got.values) - set(reference.values))
    changed: dict[str, dict[str, tuple[Any, Any]]] = {}
    for name in set(reference.values) & set(got.values):
        want, have = reference.values[name], got.values[name]
        delta = {f: (want.get(f), have.get(f)) for f in want if want.get(f) != have.get(f)}
        if delta:
            changed[name] = delta
    return Difference(got.duplicates(), missing, extra, changed)


# -- results log: one JSON line per trial or fault, tabled by conftest.py at the end ---------
def record_result(kind: str, row: dict[str, Any], fallback: Path) -> None:
    folder = Path(os.environ.get(RESULTS_ENV) or fallback)
    folder.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"kind": kind, **row}, default=str)
    with (folder / f"{kind}-{os.getpid()}.jsonl").open("a", encoding="utf-8") as f:
        f.write(line + "\n")


# -- a saved Salesforce org, so that trials start after a completed first cycle in no time ---
@dataclass(frozen=True)
class OrgSnapshot:
    """The sandbox org's records at one moment (records are never mutated in place, so
    copying the containers is a full copy). Zendesk is not saved: restore after ``reset``,
    when the saved moment left Zendesk as seeded."""

    records: dict[str, dict[str, dict[str, Any]]]
    where: dict[str, str]
    indexes: dict[tuple[str, str], dict[str, set[str]]]
    minter: dict[str, int]
    last: Any


def save_org(sandbox: Any) -> OrgSnapshot:
    org = sandbox.emulators["salesforce"].org
    with sandbox.state.lock:
        return OrgSnapshot(
            {s: dict(rows) for s, rows in org._records.items()},
            dict(org._where),
            {k: {v: set(ids) for v, ids in idx.items()} for k, idx in org._indexes.items()},
            org._minter.state(),
            org._last,
        )


def restore_org(sandbox: Any, snap: OrgSnapshot) -> None:
    org = sandbox.emulators["salesforce"].org
    with sandbox.state.lock:
        org._records = {s: dict(rows) for s, rows in snap.records.items()}
        org._where = dict(snap.where)
        org._indexes = {k: {v: set(i) for v, i in idx.items()} for k, idx in snap.indexes.items()}
        org._minter.restore(snap.minter)
        org._last = snap.last


def copy_store(source: Path, target: Path) -> None:
    """A SQLite store file (and its journal files, if any) copied to ``target``. The target's
    own journal files go first: a WAL left by an earlier run matches the copied file's header,
    and SQLite would replay that run's writes over the copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("-wal", "-shm", "-journal"):
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    for path in source.parent.glob(source.name + "*"):
        shutil.copy2(path, target.parent / (target.name + path.name[len(source.name) :]))


# -- cs-connector processes from a fork server (tests/reliability/cli_forkserver.py) ---------
class ForkServer:
    """Starts ``cs-connector`` runs as forks of a process that imported the connector once."""

    def __init__(self) -> None:
        import subprocess

        script = Path(__file__).with_name("cli_forkserver.py")
        self._proc = subprocess.Popen(
            [sys.executable, str(script)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).parent,
        )
        assert json.loads(self._readline()) == {"ready": True}

    def _readline(self) -> str:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError("the fork server died")
        return line

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        return dict(json.loads(self._readline()))

    def start(self, argv: list[str], cwd: Path, env: dict[str, str]) -> CliRun:
        out = cwd / f"cli-{len(list(cwd.glob('cli-*')))}"
        out.mkdir()
        request = {
            "op": "run",
            "argv": argv,
            "cwd": str(cwd),
            "env": env,
            "out": str(out / "stdout"),
            "err": str(out / "stderr"),
        }
        return CliRun(self, self._ask(request)["pid"], out)

    def wait(self, pid: int) -> int:
        return int(self._ask({"op": "wait", "pid": pid})["returncode"])

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        self._proc.wait(timeout=30)


@dataclass
class CliRun:
    """One ``cs-connector`` process started by a ``ForkServer``."""

    server: ForkServer
    pid: int
    folder: Path
    returncode: int | None = None

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)

    def wait(self, timeout: float = 180) -> int:
        """Its exit code (-9 when SIGKILLed); killed after ``timeout`` seconds at the latest."""
        import threading

        if self.returncode is None:
            watchdog = threading.Timer(timeout, self.kill)
            watchdog.start()
            try:
                self.returncode = self.server.wait(self.pid)
            finally:
                watchdog.cancel()
        return self.returncode

    @property
    def stdout(self) -> str:
        return (self.folder / "stdout").read_text(encoding="utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return (self.folder / "stderr").read_text(encoding="utf-8", errors="replace")
