"""Run a module as ``__main__`` and, at exit, write the process's own peak RSS to a file.

A child's ``ru_maxrss`` (from ``wait4``, ``RUSAGE_CHILDREN`` or its own ``RUSAGE_SELF``) is no
use on Linux: ``execve`` folds the high-water mark of the forked copy of the parent into it, so
a child of a 90 MB parent reports at least 90 MB. ``VmHWM`` in ``/proc/self/status`` belongs to
the process's own address space, so the benchmark asks each child for that.

``python -m connector.bench.probe RSS_FILE MODULE [ARG...]``
"""

from __future__ import annotations

import atexit
import resource
import runpy
import sys
from pathlib import Path


def peak_rss_mb() -> float:
    """This process's peak resident set since its ``execve`` (``ru_maxrss`` where no /proc)."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError):
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main() -> None:
    """Register the exit hook, then hand the process to ``MODULE`` with its arguments."""
    rss_file, module, *args = sys.argv[1:]
    atexit.register(lambda: Path(rss_file).write_text(f"{peak_rss_mb()}\n", encoding="ascii"))
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
