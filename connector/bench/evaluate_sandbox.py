"""The sandbox for the evaluate benchmark: ``cs-connector sandbox`` with a fixed anchor.

Rules are evaluated at the instant the org was generated around, and a store kept for reuse
(``--store``) must be evaluated at the anchor its data came from; the ``sandbox`` command
anchors at "now" and does not print it, so this child takes the anchor as an argument.
Export rate limits are off, as in the pull benchmark. It prints the line
``connector.bench.children.SandboxProcess`` waits for, then serves until SIGTERM.

``python -m connector.bench.evaluate_sandbox SCALE SEED ANCHOR WORKDIR``
"""

from __future__ import annotations

import signal
import sys
import threading
from datetime import datetime
from pathlib import Path

from connector.bench.children import SandboxProcess
from connector.sandbox.server import Sandbox
from connector.sandbox.state import SandboxConfig


class AnchoredSandbox(SandboxProcess):
    """``SandboxProcess`` (start, stop, admin calls) running this module instead of the CLI."""

    def __init__(self, scale: str, workdir: Path, anchor: datetime, *, seed: int = 42) -> None:
        super().__init__(scale, workdir, seed=seed)
        self.anchor = anchor

    @property
    def argv(self) -> list[str]:
        anchor = self.anchor.isoformat()
        return [
            sys.executable,
            "-m",
            __name__,
            self.scale,
            str(self.seed),
            anchor,
            str(self.workdir),
        ]


def main() -> None:
    """Start the sandbox, print where it listens, serve until SIGTERM."""
    scale, seed, anchor, workdir = sys.argv[1:5]
    config = SandboxConfig(
        scale=scale,
        seed=int(seed),
        anchor=datetime.fromisoformat(anchor),
        workdir=Path(workdir).resolve(),
        zendesk_incremental_per_min=0,
        zendesk_per_min=0,
    )
    server = Sandbox(config, port=0).start()
    print(f"sandbox (scale {scale}) on https://127.0.0.1:{server.port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
