"""The ``cs-connector`` command line.

User errors become one message and an exit code, never a traceback.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from connector import __version__

T = TypeVar("T")

app = typer.Typer(
    name="cs-connector",
    help="Salesforce as the customer-success cockpit: pull, evaluate the CS rules, push back.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
# No emoji codes: a problem line `persona.toml:guard: ...` must not print as `persona.toml💂 ...`.
err = Console(stderr=True, soft_wrap=True, emoji=False)

ConfigPath = Annotated[
    Path | None, typer.Option("--config", help="Settings file (default: ./config.toml if present).")
]
JsonOut = Annotated[bool, typer.Option("--json", help="Print the result as JSON for scripts.")]
db_app = typer.Typer(help="The local store.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def _user_errors(fn: Callable[[], T]) -> T:
    """Run ``fn``; configuration problems print one line each and exit 2, API failures exit 1."""
    from connector.errors import ApiError, ConfigError, ConfigErrors

    try:
        return fn()
    except ConfigErrors as exc:
        for problem in exc.errors:
            err.print(problem.line(), markup=False, highlight=False)
        raise typer.Exit(2) from None
    except ConfigError as exc:
        err.print(exc.line(), markup=False, highlight=False)
        raise typer.Exit(2) from None
    except ApiError as exc:
        err.print(f"API error: {exc}", markup=False, highlight=False)
        raise typer.Exit(1) from None


@app.command()
def pull(
    config: ConfigPath = None,
    stream: Annotated[list[str] | None, typer.Option(help="Only this stream (repeatable).")] = None,
    full: Annotated[bool, typer.Option(help="Forget cursors and read everything again.")] = False,
    json_out: JsonOut = False,
) -> None:
    """Pull Salesforce, Zendesk and CSV drops into the local store, incrementally."""
    from connector.bootstrap import bootstrap
    from connector.config import load_settings
    from connector.console import pull_progress, pull_table
    from connector.pull import pull as run_pull

    deps = _user_errors(lambda: bootstrap(load_settings(config), only=stream))
    unknown = set(stream or ()) - {s.name for s in deps.specs}
    if unknown:
        err.print(
            f"--stream: no stream {', '.join(sorted(unknown))} (known: "
            f"{', '.join(s.name for s in deps.specs)})"
        )
        raise typer.Exit(2)
    with pull_progress(deps.specs, enabled=not json_out) as progress:
        report = run_pull(
            deps.engine,
            deps.sources,
            deps.specs,
            clock=deps.clock,
            full=full,
            progress=progress,
            api_usage=deps.api_usage,
        )
    if json_out:
        print(
            json.dumps(
                {
                    "run_id": report.run_id,
                    "status": report.status,
                    "api_usage": report.api_usage,
                    "streams": [asdict(s) for s in report.streams],
                },
                indent=2,
            )
        )
    else:
        console.print(pull_table(report, f"Pull #{report.run_id}: {report.status}"))
        console.print(f"Org API usage after the run: {report.api_usage or 'not reported'}")
    if report.status == "failed":
        raise typer.Exit(1)


AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of", help="Evaluation instant, ISO 8601; a bare date is 00:00 in rules.timezone."
    ),
]


def _rule_context(deps: Any, as_of: str | None) -> Any:
    """The rule context for ``deps``: rules.toml, owners, templates, the evaluation instant."""
    from connector.evaluate import build_context, parse_as_of
    from connector.rules.params import load_params

    mappings_dir = deps.settings.mappings_dir
    params = load_params(mappings_dir / "rules.toml", "mappings/rules.toml")
    now = parse_as_of(as_of, params.timezone)
    return build_context(
        deps.engine,
        deps.specs,
        deps.mappings,
        params,
        deps.settings.owners,
        now,
        mappings_dir / "templates",
        owner_origin=lambda role: deps.settings.origin("owners", role),
    )


@app.command()
def evaluate(
    config: ConfigPath = None,
    as_of: AsOf = None,
    full: Annotated[
        bool,
        typer.Option(help="Evaluate every customer, not only the accounts whose inputs changed."),
    ] = False,
    json_out: JsonOut = False,
) -> None:
    """Run the CS rule set on the local store and store the desired outputs.

    Only the accounts whose rows changed (or whose tickets or events crossed a time window)
    since the last evaluation are evaluated, when that gives what a full evaluation would; the
    first evaluation of a day, or after rules, parameters, templates or mappings changed, is a
    full one.
    """
    from connector.bootstrap import bootstrap
    from connector.config import load_settings
    from connector.evaluate import evaluate as run_evaluate
    from connector.rules import all_rules

    deps = _user_errors(lambda: bootstrap(load_settings(config)))
    ctx = _user_errors(lambda: _rule_context(deps, as_of))
    report, _ = _user_errors(
        lambda: run_evaluate(deps.engine, ctx, all_rules(), incremental=not full, clock=deps.clock)
    )
    if json_out:
        print(
            json.dumps(
                {
                    "now": report.now.isoformat(),
                    "scope": report.scope,
                    "accounts": report.accounts,
                    "outputs": report.outputs,
                    "disabled": report.disabled,
                    "seconds": report.seconds,
                },
                indent=2,
            )
        )
        return
    from connector.console import evaluation_table

    console.print(evaluation_table(report))


Once = Annotated[
    bool, typer.Option("--once", help="Run one cycle and exit (the scheduler: `run`).")
]


def print_json_listing(data: Mapping[str, Any], listed: Mapping[str, Iterable[Any]]) -> None:
    """``print(json.dumps({**data, **listed}, indent=2, default=str))``, each list written an
    item at a time: a cycle's plan lists every write, which as one structure took ~90 MB at
    scale M."""
    head = json.dumps(data, indent=2, default=str)
    if not listed:
        print(head)
        return
    out = sys.stdout
    out.write(head[:-2] if data else "{")  # the object without its closing "\n}"
    sep = "," if data else ""
    for name, items in listed.items():
        out.write(f"{sep}\n  {json.dumps(name)}: [")
        first = True
        for item in items:
            text = json.dumps(item, indent=2, default=str).replace("\n", "\n    ")
            out.write(("\n    " if first else ",\n    ") + text)
            first = False
        out.write("]" if first else "\n  ]")
        sep = ","
    out.write("\n}\n")
    out.flush()


@app.command()
def sync(
    config: ConfigPath = None,
    once: Once = True,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan; write nothing to the CRM or ledger.")
    ] = False,
    as_of: AsOf = None,
    job: Annotated[str, typer.Option(help="The job name recorded in the run history.")] = "sync",
    json_out: JsonOut = False,
) -> None:
    """One cycle: pull, evaluate, reconcile and push, with a summary per object."""
    from connector.bootstrap import bootstrap
    from connector.config import load_settings
    from connector.console import plan_lines, plan_table, pull_progress, sync_table
    from connector.sync import run_cycle, summary

    deps = _user_errors(lambda: bootstrap(load_settings(config)))
    stop = threading.Event()  # SIGTERM: finish the current page or batch, commit, stop
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    from connector.store import locks

    # The service's cycle and a manual one never run at once on one store (a dry run may).
    lock = "cycle" if not dry_run else f"dry-run:{locks.default_holder()}"
    with locks.held(deps.engine, lock, locks.default_holder(), 300) as mine:
        if not mine:
            holder = locks.holder_of(deps.engine, lock)
            if json_out:
                print(json.dumps({"status": "skipped", "running": holder}))
            else:
                console.print(f"A cycle is running in another process ({holder}); skipped.")
            return
        with pull_progress(deps.specs, enabled=not json_out) as progress:
            report = _user_errors(
                lambda: run_cycle(
                    deps,
                    job=job,
                    dry_run=dry_run,
                    as_of=as_of,
                    pull_progress=progress,
                    should_stop=stop.is_set,
                )
            )
    data = summary(report)
    if json_out:
        listed: dict[str, Iterable[Any]] = {}
        if report.plan is not None:
            plan = report.plan
            listed["plan"] = (
                {
                    "op": w.op,
                    "object": w.target,
                    "external_id": w.external_id,
                    "changed": list(w.changed),
                    "reason": w.reason,
                }
                for w in plan.iter_writes()
            )
            listed["skips"] = (
                {"object": s.target, "key": s.key, "reason": s.reason} for s in plan.iter_skips()
            )
        print_json_listing(data, listed)
    elif dry_run and report.plan is not None:
        console.print(plan_table(report.plan, "Dry run: the plan (nothing was written)"))
        for line in plan_lines(report.plan):
            console.print(line, markup=False, highlight=False)
    else:
        console.print(sync_table(data, f"Cycle #{report.run_id}: {report.status}"))
        console.print(
            f"API calls: Salesforce {report.salesforce_calls}, Zendesk {report.zendesk_calls}; "
            f"org usage {deps.api_usage() or 'not reported'}; {report.seconds:.1f} s"
        )
        resent = {api: n for api, n in report.client_retries.items() if n}
        if resent or data["retried"]:
            parts = [f"{api.title()} {n} calls" for api, n in resent.items()]
            parts += [f"{n} records ({code})" for code, n in data["retried"].items()]
            console.print("Sent again after a fault: " + ", ".join(parts), highlight=False)
    if report.status == "failed":
        if report.error:
            err.print(report.error, markup=False, highlight=False)
        raise typer.Exit(1)


@app.command()
def run(
    config: ConfigPath = None,
    schedule: Annotated[
        Path | None, typer.Option(help="The jobs file (default: jobs/schedule.toml).")
    ] = None,
    http: Annotated[
        str | None,
        typer.Option(help="Serve /healthz and /metrics on HOST:PORT, e.g. 127.0.0.1:9108."),
    ] = None,
) -> None:
    """Run the scheduled jobs until SIGTERM (the current batch finishes and commits first)."""
    import logging

    from connector.bootstrap import bootstrap
    from connector.config import load_settings
    from connector.rules.params import load_params
    from connector.schedule import load_schedule
    from connector.scheduler import build_scheduler, run_forever
    from connector.service import job_runner
    from connector.targets import OUTPUTS

    deps = _user_errors(lambda: bootstrap(load_settings(config)))
    params = _user_errors(
        lambda: load_params(deps.settings.mappings_dir / "rules.toml", "mappings/rules.toml")
    )
    path = schedule or _default_schedule()
    jobs = _user_errors(lambda: load_schedule(path, default_timezone=params.timezone))
    if logging.getLogger().level > logging.INFO:
        logging.getLogger().setLevel(logging.INFO)  # the service logs each job by default
    stop = threading.Event()
    scheduler = build_scheduler(jobs, job_runner(deps), deps.engine, stop_event=stop)
    server = None
    if http:
        from connector.health import parse_address, serve

        try:
            host, port = parse_address(http)
        except ValueError as exc:
            err.print(f"--http: {exc}")
            raise typer.Exit(2) from None
        server = serve(deps.engine, jobs.job("cycle").period(), host, port, targets=OUTPUTS)
        console.print(f"Health and metrics on http://{host}:{server.port}/healthz and /metrics")
    for spec in jobs.jobs:
        console.print(f"job {spec.name}: {spec.describe}; steps {', '.join(spec.steps)}")
    try:
        run_forever(scheduler, stop)
    finally:
        if server is not None:
            server.stop()


def _default_schedule() -> Path:
    here = Path("jobs/schedule.toml")
    if here.is_file():
        return here
    from connector.demo import PACKAGE_ROOT

    for candidate in (PACKAGE_ROOT.parent / "jobs", PACKAGE_ROOT / "defaults" / "jobs"):
        if (candidate / "schedule.toml").is_file():
            return candidate / "schedule.toml"
    return here


@app.command()
def status(
    config: ConfigPath = None,
    store: Annotated[
        str | None,
        typer.Option(help="A store URL instead of a config, e.g. sqlite:///.cs-connector/demo.db"),
    ] = None,
    json_out: JsonOut = False,
) -> None:
    """The last runs per job, API usage, errors, and anything stuck in the outbox."""
    from connector.bootstrap import open_store
    from connector.config import load_settings
    from connector.status import render
    from connector.status import status as read_status
    from connector.store import make_engine, upgrade

    if store is not None:
        engine = make_engine(store)
        upgrade(engine)
    else:
        engine = open_store(_user_errors(lambda: load_settings(config)))
    report = read_status(engine)
    if json_out:
        print(json.dumps(report, indent=2, default=str))
    else:
        render(report, console)


@app.command("check-org")
def check_org(config: ConfigPath = None, json_out: JsonOut = False) -> None:
    """Compare the org's objects and fields with the shipped Salesforce metadata."""
    from connector.bootstrap import describe_or_none, salesforce_login, transport_settings
    from connector.check_org import check_org as compare
    from connector.check_org import default_metadata_dir
    from connector.config import load_settings
    from connector.sources.salesforce.client import SalesforceClient
    from connector.targets import load_targets

    settings = _user_errors(lambda: load_settings(config))
    targets = _user_errors(lambda: load_targets(settings.mappings_dir))
    # Only a login and describes: the pull mappings may be what is wrong with the org.
    client = SalesforceClient(salesforce_login(settings), transport_settings(settings))
    describe = describe_or_none(client)
    problems = _user_errors(lambda: compare(describe, default_metadata_dir(), targets))
    if json_out:
        print(json.dumps({"problems": [p.line() for p in problems]}, indent=2))
    elif problems:
        for p in problems:
            err.print(p.line(), markup=False, highlight=False)
    else:
        console.print("The org has every object, field and picklist value the connector needs.")
    if problems:
        raise typer.Exit(2)


@app.command()
def bench(
    scale: Scale = "S",
    out: Annotated[
        Path, typer.Option(help="Where the JSON files and the chart are written.")
    ] = Path(".cs-connector/bench"),
    repeat: Annotated[
        int, typer.Option(min=1, help="Pull: run the bare pager and the first load N times.")
    ] = 1,
    quick: Annotated[
        bool, typer.Option(help="Zendesk limit over 15 pages, no wait for a clock minute.")
    ] = False,
    json_out: JsonOut = False,
) -> None:
    """Benchmark pull, evaluate and push (at S also the Zendesk export limit) on the sandbox."""
    from connector.bench.all import run_all
    from connector.bench.all_report import markdown

    try:
        result = run_all(_check_scale(scale), out, repeat=repeat, quick=quick)
    except RuntimeError as exc:  # a stage failed; its stderr is above
        err.print(str(exc), markup=False)
        raise typer.Exit(1) from None
    if json_out:
        keys = ("scale", "machine", "wall_s", "stage_wall_s", "goals", "chart", "chart_note")
        print(json.dumps({k: result[k] for k in keys}, indent=2))
    else:
        print(markdown(result))  # plain print: "[bench]" in the chart note is not rich markup


@app.command("setup-zendesk")
def setup_zendesk(config: ConfigPath = None, json_out: JsonOut = False) -> None:
    """Create the support managers' Zendesk view of CS risk tasks (idempotent)."""
    from connector.bootstrap import bootstrap
    from connector.config import load_settings
    from connector.zendesk_setup import setup_zendesk as run_setup

    deps = _user_errors(lambda: bootstrap(load_settings(config)))
    client, zendesk = deps.zendesk, deps.settings.zendesk
    if client is None or zendesk is None:
        err.print("config: [zendesk] is not configured")
        raise typer.Exit(2)
    result = _user_errors(lambda: run_setup(client, zendesk.support_managers_group))
    if json_out:
        print(json.dumps(asdict(result), indent=2, default=str))
    else:
        console.print(str(result))


@app.command()
def explain(
    account: Annotated[str, typer.Argument(help="Account id (15 or 18 characters) or name.")],
    config: ConfigPath = None,
    as_of: AsOf = None,
    json_out: JsonOut = False,
) -> None:
    """Every rule for one account: fired or silent, the figures, the outputs it would produce."""
    from connector.bootstrap import bootstrap
    from connector.config import load_settings
    from connector.explain import explain as run_explain
    from connector.rules import all_rules

    deps = _user_errors(lambda: bootstrap(load_settings(config)))
    ctx = _user_errors(lambda: _rule_context(deps, as_of))
    result = _user_errors(lambda: run_explain(deps.engine, ctx, all_rules(), account))
    if json_out:
        print(json.dumps(asdict(result), indent=2, default=str))
        return
    from connector.console import explanation

    explanation(result)


@app.command()
def check(config: ConfigPath = None, json_out: JsonOut = False) -> None:
    """Check config, mappings, rules.toml, personas.toml and templates; list every problem."""
    from connector.check import run_check

    report = run_check(config)
    if json_out:
        print(json.dumps(asdict(report), indent=2))
    else:
        for line in report.problems:
            err.print(line, markup=False, highlight=False)
        for rule, missing in sorted(report.disabled_rules.items()):
            console.print(
                f"rule {rule} disabled: unmapped {', '.join(missing)}",
                markup=False,
                highlight=False,
            )
        if report.ok:
            console.print("No problems found.")
    if not report.ok:
        raise typer.Exit(2)


@app.command()
def sweep(config: ConfigPath = None, json_out: JsonOut = False) -> None:
    """The Id sweep: mark rows hard-deleted or purged in Salesforce (run it nightly)."""
    from connector.bootstrap import bootstrap
    from connector.config import load_settings
    from connector.pull import sweep_ids

    deps = _user_errors(lambda: bootstrap(load_settings(config)))
    marked = _user_errors(
        lambda: sweep_ids(deps.engine, deps.sources, deps.specs, clock=deps.clock)
    )
    if json_out:
        print(json.dumps({"marked_deleted": marked}, indent=2))
        return
    for stream, n in marked.items():
        console.print(f"{stream}: {n} rows gone from the org, marked deleted")


@db_app.command("upgrade")
def db_upgrade(config: ConfigPath = None) -> None:
    """Apply the store's migrations (the pull also does this on start)."""
    from connector.config import load_settings
    from connector.store import current_revision, make_engine, upgrade

    settings = _user_errors(lambda: load_settings(config))
    engine = make_engine(settings.store.url)
    upgrade(engine)
    console.print(f"store at revision {current_revision(engine)}")


Scale = Annotated[str, typer.Option("--scale", help="Demo org size: S (demo), M or L.")]


def _version(value: bool) -> None:
    if value:
        console.print(f"cs-connector {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    log_level: Annotated[
        str, typer.Option("--log-level", help="debug, info, warning or error (stderr).")
    ] = "warning",
    log_format: Annotated[
        str, typer.Option("--log-format", help="text, or json: one object a line.")
    ] = "text",
) -> None:
    """cs-connector."""
    from connector import logs

    if log_format not in ("text", "json") or log_level.lower() not in (
        "debug",
        "info",
        "warning",
        "error",
    ):
        err.print("--log-format: text or json; --log-level: debug, info, warning or error")
        raise typer.Exit(2)
    logs.setup(log_level, log_format)  # type: ignore[arg-type]


def _check_scale(scale: str) -> str:
    scale = scale.upper()
    if scale not in {"S", "M", "L"}:
        err.print(f"--scale: expected S, M or L, got {scale!r}")
        raise typer.Exit(2)
    return scale


@app.command()
def sandbox(
    scale: Scale = "S",
    port: Annotated[int, typer.Option(help="Loopback port (0 = any free port).")] = 8443,
    workdir: Annotated[Path, typer.Option(help="Where the CA and JWT key are written.")] = Path(
        ".cs-connector/sandbox"
    ),
    seed: Annotated[int, typer.Option(help="Seed of the demo org generator.")] = 42,
    zendesk_export_limit: Annotated[
        int,
        typer.Option(min=0, help="Zendesk incremental exports: requests a minute (0 = off)."),
    ] = 10,
    zendesk_limit: Annotated[
        int, typer.Option(min=0, help="Zendesk account-wide requests a minute (0 = off).")
    ] = 700,
) -> None:
    """Run the Salesforce + Zendesk sandbox in the foreground until Ctrl-C."""
    from connector.sandbox.server import Sandbox
    from connector.sandbox.state import SandboxConfig

    config = SandboxConfig(
        scale=_check_scale(scale),
        seed=seed,
        workdir=workdir.resolve(),
        zendesk_incremental_per_min=zendesk_export_limit,
        zendesk_per_min=zendesk_limit,
    )
    with console.status(f"Generating the scale {config.scale} demo org..."):
        server = Sandbox(config, port=port).start()
    _print_sandbox_help(server)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def _print_sandbox_help(server: object) -> None:
    from connector.sandbox.server import Sandbox

    assert isinstance(server, Sandbox)
    creds = server.config.credentials
    p, ca = server.port, server.ca_path
    console.print(
        f"[bold]cs-connector sandbox[/bold] (scale {server.config.scale}) on "
        f"https://127.0.0.1:{p}  CA: {ca}"
    )
    console.print(
        "Hosts served: login.salesforce.com, test.salesforce.com, "
        f"{server.instance_host}, {server.zendesk_host}"
    )
    console.print("\nPoint the connector at it (config.toml):")
    console.print(
        f'  [transport]\n  connect_to = "127.0.0.1:{p}"\n  connect_to_ca = "{ca}"', markup=False
    )
    console.print("\nOr curl:")
    console.print(
        f"  curl --cacert {ca} --connect-to ::127.0.0.1:{p} "
        f"https://{server.instance_host}/services/data/\n"
        f"  curl --cacert {ca} --connect-to ::127.0.0.1:{p} "
        f"-u '{creds.zd_email}/token:{creds.zd_api_token}' "
        f"https://{server.zendesk_host}/api/v2/groups.json"
    )
    console.print(
        f"\nSalesforce login: {creds.sf_username} / {creds.sf_password} + token "
        f"{creds.sf_security_token}; JWT key: {server.jwt_private_key_path}"
    )
    console.print(f"Inspect: curl --cacert {ca} https://localhost:{p}/__sandbox/calls")
    console.print("Ctrl-C to stop.")


@app.command()
def demo(
    json_out: JsonOut = False,
    scale: Scale = "S",
    store: Annotated[Path, typer.Option(help="The demo's SQLite store (rebuilt each run).")] = Path(
        ".cs-connector/demo.db"
    ),
) -> None:
    """Start the sandbox and run two full cycles on its demo org: the second writes nothing."""
    from connector.bootstrap import bootstrap
    from connector.console import pull_progress, pull_table, sync_table
    from connector.demo import sandbox_settings
    from connector.sandbox.server import Sandbox
    from connector.sandbox.state import SandboxConfig
    from connector.sync import run_cycle, summary

    config = SandboxConfig(scale=_check_scale(scale))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store}{suffix}").unlink(missing_ok=True)
    with console.status(f"Starting the sandbox (scale {config.scale})...", spinner="dots"):
        server = Sandbox(config, port=0).start()
    try:
        settings = sandbox_settings(server, f"sqlite:///{store}")
        deps = _user_errors(lambda: bootstrap(settings))
        with pull_progress(deps.specs, enabled=not json_out) as progress:
            first = _user_errors(lambda: run_cycle(deps, job="demo", pull_progress=progress))
        server.calls.clear()
        from connector.schedule import load_schedule

        every = load_schedule(_default_schedule()).job("cycle")  # the 15-minute job's rules
        second = _user_errors(
            lambda: run_cycle(
                deps, job="demo", rules=every.rules, exclude_rules=every.exclude_rules
            )
        )
        second_writes = len(server.calls.writes())
        from connector.explain import explain as run_explain
        from connector.rules import all_rules

        ctx = _user_errors(lambda: _rule_context(deps, None))
        example = _user_errors(lambda: run_explain(deps.engine, ctx, all_rules(), EXAMPLE))
        stories = len(server.state.demo.stories) if server.state.demo else 0
    finally:
        server.stop()
    assert first.pull is not None and second.pull is not None
    if json_out:
        print(
            json.dumps(
                {
                    "store": str(store),
                    "stories": stories,
                    "first": _report_dict(first.pull),
                    "second": _report_dict(second.pull),
                    "first_cycle": summary(first),
                    "second_cycle": summary(second) | {"write_calls": second_writes},
                },
                indent=2,
                default=str,
            )
        )
        return
    console.print(pull_table(first.pull, f"First pull into {store}: {first.pull.status}"))
    console.print(sync_table(summary(first), f"First cycle pushed back: {first.status}"))
    console.print(
        f"API calls of the first cycle: Salesforce {first.salesforce_calls}, Zendesk "
        f"{first.zendesk_calls} (reads and writes, logins included)."
    )
    console.print(
        f"Second cycle (the 15-minute job), nothing changed: {second.pull.records} records "
        "pulled (the first cycle's own writes), "
        f"{second_writes} write calls, {second.salesforce_calls + second.zendesk_calls} API calls."
    )
    from connector.console import explanation

    console.print(f"\nWhy an account got its outputs (cs-connector explain {EXAMPLE!r}):")
    explanation(example, only_firing=True)
    console.print(
        f"{stories} story accounts, one per rule and neighbour: docs/demo-org.md. "
        f"Inspect the store: sqlite3 {store} '.tables'; the run history: "
        f"cs-connector status --store sqlite:///{store}"
    )


EXAMPLE = "Northwind Traders"  # a story account of the demo org (docs/demo-org.md)


def _report_dict(report: object) -> dict[str, object]:
    from connector.pull import PullReport

    assert isinstance(report, PullReport)
    return {
        "run_id": report.run_id,
        "status": report.status,
        "records": report.records,
        "api_calls": report.api_calls,
        "streams": [asdict(s) for s in report.streams],
    }


def main() -> None:
    """Console-script entry point."""
    app()
