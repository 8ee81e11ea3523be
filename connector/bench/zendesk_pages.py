"""``cs-connector`` with a smaller Zendesk export page: ``python -m connector.bench.zendesk_pages``.

``python -m connector.bench.zendesk_pages PER_PAGE pull --stream zendesk_ticket ... --json``

Runs the command line exactly as ``cs-connector`` does, after lowering the exports' page size
(``connector.sources.zendesk.streams.EXPORT_PAGE``, 1,000, the API's maximum ``per_page``) to
``PER_PAGE``. The mappings have no page-size setting for Zendesk, and the scale S org fits in
three export pages, too few for the 10-a-minute export limit to bind; smaller pages give the
Zendesk-limit benchmark (``connector.bench.zendesk_limit``) enough requests to measure the
connector's pacing on. Every other part of the pull is the shipped code.
"""

from __future__ import annotations

import sys

from connector.sources.zendesk import streams


def main() -> None:
    """Set the page size from ``argv[1]``, then hand the rest to the ``cs-connector`` CLI."""
    per_page, *args = sys.argv[1:]
    size = int(per_page)
    if not 1 <= size <= 1000:
        raise SystemExit(f"PER_PAGE must be 1..1000, got {size}")
    streams.EXPORT_PAGE = size  # read at call time by the exports' _per_page default
    sys.argv = ["cs-connector", *args]
    from connector.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
