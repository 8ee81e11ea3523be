"""The Salesforce source: every mapped object read by one sorted sweep, or by Bulk when big.

An incremental pull is one ``queryAll`` per stream, ``WHERE SystemModstamp > cursor ORDER BY
SystemModstamp, Id``, so changes and soft deletes come in one query and an idle stream costs one
call. A first load (no cursor, or ``full``) counts the rows first and, above the threshold, reads
them with a Bulk API 2.0 job instead. Which path runs is decided by the saved state alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial

from connector.model import JsonDict, Page, StreamSpec
from connector.sources.base import paginate
from connector.sources.salesforce import bulk, rest, soql
from connector.sources.salesforce.client import SalesforceClient
from connector.sources.salesforce.meter import Spent
from connector.sources.salesforce.records import RecordReader
from connector.sources.salesforce.state import StreamState
from connector.transforms import row_builder


class SalesforceSource:
    """Implements ``connector.model.Source`` for Salesforce objects."""

    def __init__(
        self,
        client: SalesforceClient,
        *,
        lag: timedelta = timedelta(minutes=5),
        bulk_threshold: int = 50_000,
        page_size: int = 2000,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
        bulk_wait: timedelta = timedelta(seconds=60),
        bulk_page_size: int | None = None,
    ) -> None:
        self.client = client
        self.lag = lag
        self.bulk_threshold = bulk_threshold
        self.page_size = page_size  # REST batchSize, 200..2,000
        self.bulk_page_size = bulk_page_size  # Bulk maxRecords; None: Salesforce's default
        self._clock, self._sleep, self._bulk_wait = clock, sleep, bulk_wait

    def read(
        self, stream: StreamSpec, state: JsonDict | None, *, run_start: datetime, full: bool
    ) -> Iterator[Page]:
        """Resume a Bulk job or a sweep under way, else start a first load or an increment."""
        saved = StreamState.load(state)
        reader = RecordReader(stream, row_builder(stream))
        spent = Spent(self.client.meter)  # every call of this read lands on one of its pages
        if saved.bulk is not None:
            yield from self._bulk_results(stream, reader, saved, spent)
        elif saved.sweep is not None and not full:
            sweep = saved.sweep
            yield from self._sweep(reader, saved, sweep.start, True, sweep.run_start, spent)
        elif saved.cursor is None or full:
            yield from self._first_load(stream, reader, saved, run_start, spent)
        else:
            yield from self._sweep(reader, saved, saved.cursor, False, run_start, spent)

    def all_ids(self, stream: StreamSpec) -> Iterator[Sequence[str]]:
        """Every live Id (``query``, not ``queryAll``), one batch per page."""
        text = soql.all_ids(stream)
        bodies = paginate(
            lambda: self.client.query_page(text, include_deleted=False, batch_size=self.page_size),
            self.client.next_page,
            lambda body: None if body.get("done", True) else body.get("nextRecordsUrl"),
        )
        for body in bodies:
            yield [str(record["Id"]) for record in body.get("records") or ()]

    def _first_load(
        self,
        stream: StreamSpec,
        reader: RecordReader,
        saved: StreamState,
        run_start: datetime,
        spent: Spent,
    ) -> Iterator[Page]:
        saved = StreamState(cursor=saved.cursor)
        rows = self.client.count(soql.count(stream), include_deleted=soql.has_is_deleted(stream))
        if rows <= self.bulk_threshold:
            yield from self._sweep(reader, saved, None, False, run_start, spent)
            return
        saved, first = bulk.start(self.client, stream, saved, run_start, spent)
        yield first
        yield from self._bulk_results(stream, reader, saved, spent)

    def _sweep(
        self,
        reader: RecordReader,
        saved: StreamState,
        since: datetime | None,
        inclusive: bool,
        run_start: datetime,
        spent: Spent,
    ) -> Iterator[Page]:
        return rest.sweep(
            self.client,
            reader.spec,
            reader,
            saved,
            since=since,
            inclusive=inclusive,
            run_start=run_start,
            lag=self.lag,
            page_size=self.page_size,
            spent=spent,
        )

    def _bulk_results(
        self, stream: StreamSpec, reader: RecordReader, saved: StreamState, spent: Spent
    ) -> Iterator[Page]:
        wait = partial(
            bulk.wait_for, self.client, budget=self._bulk_wait, clock=self._clock, sleep=self._sleep
        )
        return bulk.results(
            self.client,
            stream,
            reader,
            saved,
            lag=self.lag,
            max_records=self.bulk_page_size,
            wait=wait,
            spent=spent,
        )
