"""The ``cs-connector`` command line.

User errors become one message and an exit code, never a traceback.
"""

from __future__ import annotations

import json
import signal
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from connector import __version__

app = typer.Typer(
    name="cs-connector",
    help="Salesforce as the customer-success cockpit: pull, evaluate the CS rules, push back.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)

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
) -> None:
    """cs-connector."""


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
) -> None:
    """Run the Salesforce + Zendesk sandbox in the foreground until Ctrl-C."""
    from connector.sandbox.server import Sandbox
    from connector.sandbox.state import SandboxConfig

    config = SandboxConfig(scale=_check_scale(scale), seed=seed, workdir=workdir.resolve())
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
    console.print(f'  [transport]\n  connect_to = "127.0.0.1:{p}"\n  connect_to_ca = "{ca}"')
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
    json_out: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    scale: Scale = "S",
) -> None:
    """Start the sandbox and summarise the demo org through the real clients over HTTPS."""
    from connector.demo import summarise
    from connector.sandbox.server import Sandbox
    from connector.sandbox.state import SandboxConfig

    with (
        console.status("Starting the sandbox and reading the demo org...", spinner="dots"),
        Sandbox(SandboxConfig(scale=_check_scale(scale)), port=0) as server,
    ):
        summary = summarise(server)
    if json_out:
        print(json.dumps(asdict(summary), indent=2))
        return
    _print_summary(summary)


def _print_summary(summary: object) -> None:
    from connector.demo import DemoSummary

    assert isinstance(summary, DemoSummary)
    console.print(
        f"Salesforce instance [bold]{summary.salesforce_instance}[/bold] "
        f"(API usage {summary.api_usage}); {summary.customers} customer accounts"
    )
    table = Table(title="Demo org, read through simple-salesforce and zenpy")
    table.add_column("source")
    table.add_column("object")
    table.add_column("records", justify="right")
    for name, n in summary.salesforce_counts.items():
        table.add_row("Salesforce", name, str(n))
    for name, n in summary.zendesk_counts.items():
        table.add_row("Zendesk", name, str(n))
    console.print(table)
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(summary.tickets_by_status.items()))
    console.print(f"Tickets by status: {statuses}")
    stories = Table(title=f"Story accounts ({len(summary.stories)}): see docs/demo-org.md")
    for col in ("account", "rule", "fires", "why"):
        stories.add_column(col)
    for s in summary.stories:
        stories.add_row(s["account_name"], s["rule"], "yes" if s["fires"] else "no", s["why"])
    console.print(stories)
    console.print(
        f"{summary.api_calls.get('salesforce', 0)} Salesforce and "
        f"{summary.api_calls.get('zendesk', 0)} Zendesk API calls in "
        f"{summary.seconds} s."
    )


def main() -> None:
    """Console-script entry point."""
    app()
