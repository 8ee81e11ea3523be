"""A fork server for ``cs-connector`` commands: the imports paid once, a real process per run.

Started as ``python cli_forkserver.py``; it imports the connector's modules (the CLI imports
most of them lazily, on every start), then reads one JSON request a line from stdin:

- ``{"op": "run", "argv": [...], "cwd": ..., "env": {...}, "out": path, "err": path}``: fork;
  the child is the ``cs-connector`` console script (``connector.cli.main``) with that argv,
  environment and working directory, stdout and stderr into the files; answers ``{"pid": n}``;
- ``{"op": "wait", "pid": n}``: reaps it; answers ``{"returncode": n}`` as ``subprocess`` gives
  it (``-9`` for SIGKILL).

The server itself never opens a store, a session or a thread, so a fork copies nothing but
imported code. Each child is its own process: ``kill -9`` ends it exactly as it ends a
``cs-connector sync --once`` started from a shell.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import sys
import traceback


def warm() -> None:
    import connector

    skip = ("connector.sandbox", "connector.bench", "connector.__main__")
    for info in pkgutil.walk_packages(connector.__path__, "connector."):
        if not info.name.startswith(skip):
            importlib.import_module(info.name)


def child(request: dict) -> None:
    code = 1
    try:
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        for fd, path in ((1, request["out"]), (2, request["err"])):
            target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(target, fd)
            os.close(target)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        from connector.cli import main

        sys.argv = ["cs-connector", *request["argv"]]
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def serve() -> None:
    warm()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "run":
            pid = os.fork()
            if pid == 0:
                child(request)
            answer: dict = {"pid": pid}
        elif request["op"] == "wait":
            _, status = os.waitpid(request["pid"], 0)
            answer = {"returncode": os.waitstatus_to_exitcode(status)}
        else:
            break
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    serve()
