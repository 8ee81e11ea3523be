"""The Salesforce API as the source needs it: logins, query pages, Bulk 2.0 query jobs.

The only module that imports simple-salesforce's client. Every call goes through one wrapper
that checks the quota reserve first, retries transient failures with backoff, logs in again
once on an expired session, and turns third-party exceptions into the connector's (redacted,
never chained, since ``str(SalesforceError)`` holds the URL and the full body). A response hook
on the client's own session counts the API calls and keeps the last ``Sforce-Limit-Info``.
"""

from __future__ import annotations

import io
import logging
import tempfile
from collections.abc import Callable
from typing import IO, Any, TypeVar

import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceError

from connector.errors import ApiError, FatalApiError, TransientApiError
from connector.http.redact import redact
from connector.http.session import TransportSettings, new_session
from connector.sources.base import Prefetch
from connector.sources.salesforce.auth import SalesforceLogin, refresh_grant
from connector.sources.salesforce.failures import (
    RetryPolicy,
    SessionExpired,
    classify,
    transport_error,
)
from connector.sources.salesforce.meter import CallMeter, response_body
from connector.sources.salesforce.records import CsvRows

log = logging.getLogger(__name__)
T = TypeVar("T")


def log_in(login: SalesforceLogin, session: requests.Session) -> Salesforce:
    """One login by the configured method, on the client's own session, version pinned."""
    common: dict[str, Any] = {
        "session": session,
        "version": login.api_version,
        "object_pairs_hook": None,  # json's own dicts: half again faster than a pairs hook
    }
    if login.method == "jwt":
        return Salesforce(
            username=login.username,
            consumer_key=login.consumer_key,
            privatekey_file=login.private_key_file,
            domain=login.domain,
            **common,
        )
    if login.method == "client_credentials":
        return Salesforce(
            consumer_key=login.consumer_key,
            consumer_secret=login.consumer_secret,
            domain=login.domain,
            **common,
        )
    if login.method == "password":
        return Salesforce(
            username=login.username,
            password=login.password,
            security_token=login.security_token,
            domain=login.domain,
            **common,
        )
    token = refresh_grant(login, session)
    return Salesforce(
        instance_url=token["instance_url"], session_id=token["access_token"], **common
    )


class SalesforceClient:
    """One org, one session: counted calls, the quota guard, retries and re-login built in."""

    def __init__(
        self,
        login: SalesforceLogin,
        transport: TransportSettings | None = None,
        *,
        quota_reserve: float = 0.20,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.login = login
        self.meter = CallMeter(quota_reserve)
        self._retry = retry or RetryPolicy()
        self._session = new_session(transport)
        self._session.hooks["response"].append(self.meter.observe)
        self._sf: Salesforce | None = None
        # A GET sent early (prefetch_next_page, prefetch_bulk_results) is handed to the same
        # GET when simple-salesforce or _raw makes it: the session's request, looked up first.
        self._ahead = Prefetch()
        self._send = send = self._session.request  # the session's own, for the thread

        def request(method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
            if method == "GET" and self._ahead.pending:
                taken, response = self._ahead.take((url, kwargs.get("params")))
                if taken:
                    return response  # type: ignore[no-any-return]
            return send(method, url, *args, **kwargs)

        self._session.request = request  # type: ignore[method-assign,assignment]

    @property
    def api_calls(self) -> int:
        """Calls made against the org's daily allowance."""
        return self.meter.api_calls

    @property
    def api_usage(self) -> tuple[int, int] | None:
        """``(used, max)`` from the last ``Sforce-Limit-Info``."""
        return self.meter.api_usage

    @property
    def retries(self) -> int:
        """Transient failures retried so far."""
        return self.meter.retries

    @property
    def instance_url(self) -> str | None:
        """``https://<instance>`` once logged in (links back to records), else None."""
        return f"https://{self._sf.sf_instance}" if self._sf is not None else None

    # -- the REST API -----------------------------------------------------------------------
    def describe(self, sobject: str) -> dict[str, Any]:
        """``GET sobjects/X/describe``: fields and their types."""
        return self._call(
            f"describe {sobject}", lambda sf: _dict(sf.restful(f"sobjects/{sobject}/describe"))
        )

    def describe_global(self) -> dict[str, Any]:
        """``GET sobjects``: every object the integration user can see."""
        return self._call("describe global", lambda sf: _dict(sf.describe()))

    def count(self, soql: str, *, include_deleted: bool = False) -> int:
        """``totalSize`` of a ``SELECT COUNT() ...`` query."""
        return int(self.query_page(soql, include_deleted=include_deleted)["totalSize"])

    def query_page(
        self, soql: str, *, include_deleted: bool, batch_size: int | None = None
    ) -> dict[str, Any]:
        """The first page of ``query`` (or ``queryAll``, deleted rows included)."""
        headers = {"Sforce-Query-Options": f"batchSize={batch_size}"} if batch_size else {}
        resource = "queryAll" if include_deleted else "query"
        return self._call(
            resource,
            lambda sf: _dict(sf.query(soql, include_deleted=include_deleted, headers=headers)),
        )

    def next_page(self, next_records_url: str) -> dict[str, Any]:
        """The page a ``nextRecordsUrl`` names."""
        return self._call(
            "query more", lambda sf: _dict(sf.query_more(next_records_url, identifier_is_url=True))
        )

    def prefetch_next_page(self, next_records_url: str) -> Prefetch | None:
        """Send ``next_page(next_records_url)``'s request now, in a thread (see ``Prefetch``)."""
        sf = self._sf
        if sf is None or not self._may_prefetch():
            return None
        url = f"https://{sf.sf_instance}{next_records_url}"  # as query_more builds it
        return self._prefetch(url, None, dict(sf.headers))

    def prefetch_bulk_results(
        self, job_id: str, locator: str | None, max_records: int | None
    ) -> Prefetch | None:
        """Send ``bulk_query_results(...)``'s request now, in a thread (see ``Prefetch``)."""
        sf = self._sf
        if sf is None or not self._may_prefetch():
            return None
        url = sf.base_url + f"jobs/query/{job_id}/results"
        headers = {**sf.headers, "Accept": "text/csv"}
        return self._prefetch(url, _results_params(locator, max_records), headers)

    def _may_prefetch(self) -> bool:
        """Not past the quota reserve: the call itself would stop there."""
        try:
            self.meter.check_quota()
        except ApiError:
            return False
        return True

    def _prefetch(self, url: str, params: Any, headers: dict[str, str]) -> Prefetch:
        send = self._send
        self._ahead.start((url, params), lambda: send("GET", url, params=params, headers=headers))
        return self._ahead

    # -- Bulk API 2.0 query jobs (same session and token; never blocking helpers) ------------
    def bulk_query_create(self, soql: str, *, include_deleted: bool = True) -> str:
        """Start a query job; returns its id (the caller saves it before anything else)."""
        job = {
            "operation": "queryAll" if include_deleted else "query",
            "query": soql,
            "contentType": "CSV",
            "columnDelimiter": "COMMA",
            "lineEnding": "LF",
        }
        return self._call(
            "bulk query create",
            lambda sf: str(self._raw(sf, "POST", "jobs/query", json=job).json()["id"]),
        )

    def bulk_query_status(self, job_id: str) -> dict[str, Any]:
        """Job info; ``state``: UploadComplete, InProgress, JobComplete, Failed or Aborted."""
        return self._call(
            "bulk query status",
            lambda sf: _dict(self._raw(sf, "GET", f"jobs/query/{job_id}").json()),
        )

    def bulk_query_results(
        self, job_id: str, locator: str | None, max_records: int | None
    ) -> tuple[CsvRows, str | None]:
        """One page of a finished job's CSV and the ``Sforce-Locator`` of the next, if any.

        The rows are parsed as they are iterated (once), from the response's bytes: a page is
        up to 50,000 rows, and holding them all as dicts next to the rows built from them was
        the largest part of a first load's peak memory.
        """
        params = _results_params(locator, max_records)

        def fetch(sf: Salesforce) -> tuple[CsvRows, str | None]:
            response = self._raw(
                sf,
                "GET",
                f"jobs/query/{job_id}/results",
                params=params,
                headers={"Accept": "text/csv"},
            )
            text = io.TextIOWrapper(io.BytesIO(response.content), "utf-8-sig", newline="\n")
            rows = CsvRows(text)
            following = response.headers.get("Sforce-Locator")
            return rows, (None if following in (None, "", "null") else following)

        return self._call("bulk query results", fetch)

    def bulk_ingest_create(
        self, sobject: str, operation: str, external_id_field: str | None = None
    ) -> str:
        """``POST jobs/ingest``: an Open job for one CSV upload; returns its id."""
        job: dict[str, Any] = {
            "object": sobject,
            "operation": operation,
            "contentType": "CSV",
            "columnDelimiter": "COMMA",
            "lineEnding": "LF",
        }
        if external_id_field:
            job["externalIdFieldName"] = external_id_field
        return self._call(
            f"bulk ingest create {sobject}",
            lambda sf: str(self._raw(sf, "POST", "jobs/ingest", json=job).json()["id"]),
        )

    def bulk_ingest_upload(self, job_id: str, body: IO[bytes]) -> None:
        """``PUT jobs/ingest/ID/batches``: the job's one upload (201; at most 100 MB of CSV),
        read from ``body`` as it is sent (a retry sends it again from its start)."""

        def put(sf: Salesforce) -> requests.Response:
            body.seek(0)
            path = f"jobs/ingest/{job_id}/batches"
            return self._raw(sf, "PUT", path, data=body, headers={"Content-Type": "text/csv"})

        self._call("bulk ingest upload", put)

    def bulk_ingest_close(self, job_id: str) -> dict[str, Any]:
        """``PATCH jobs/ingest/ID`` to ``UploadComplete``: Salesforce queues the job."""
        return self._bulk_ingest_state(job_id, "UploadComplete")

    def bulk_ingest_abort(self, job_id: str) -> dict[str, Any]:
        """``PATCH jobs/ingest/ID`` to ``Aborted``: an unfinished job stops, unprocessed."""
        return self._bulk_ingest_state(job_id, "Aborted")

    def _bulk_ingest_state(self, job_id: str, state: str) -> dict[str, Any]:
        return self._call(
            f"bulk ingest {state}",
            lambda sf: _dict(
                self._raw(sf, "PATCH", f"jobs/ingest/{job_id}", json={"state": state}).json()
            ),
        )

    def bulk_ingest_status(self, job_id: str) -> dict[str, Any]:
        """Job info; ``state``: Open, UploadComplete, InProgress, JobComplete, Failed, Aborted."""
        return self._call(
            "bulk ingest status",
            lambda sf: _dict(self._raw(sf, "GET", f"jobs/ingest/{job_id}").json()),
        )

    def bulk_ingest_results(self, job_id: str, kind: str) -> IO[str]:
        """``successfulResults`` (sf__Id, sf__Created), ``failedResults`` (sf__Id, sf__Error)
        or ``unprocessedrecords``, each row followed by the uploaded columns: the CSV text,
        written to a temporary file as it arrives (a job's results can be 170,000 rows) and
        open at its start; the caller closes it."""
        if kind not in ("successfulResults", "failedResults", "unprocessedrecords"):
            raise ValueError(f"unknown ingest result kind {kind!r}")
        body = tempfile.TemporaryFile("w+b")  # noqa: SIM115 (returned open)

        def fetch(sf: Salesforce) -> None:
            body.seek(0)
            body.truncate()
            path, headers = f"jobs/ingest/{job_id}/{kind}", {"Accept": "text/csv"}
            with self._raw(sf, "GET", path, headers=headers, stream=True) as response:
                for block in response.iter_content(1 << 16):
                    body.write(block)

        try:
            self._call(f"bulk ingest {kind}", fetch)
        except BaseException:
            body.close()
            raise
        body.seek(0)
        return io.TextIOWrapper(body, encoding="utf-8-sig", newline="")

    # -- sObject Collections writes (idempotent: upserts by External Id, updates by Id) ------
    def collections_upsert(
        self, sobject: str, external_id_field: str, records: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """``PATCH composite/sobjects/X/ExtField``: up to 200 records, ``allOrNone`` false."""
        path = f"composite/sobjects/{sobject}/{external_id_field}"
        return self._collections("PATCH", path, {"allOrNone": False, "records": records})

    def collections_update(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``PATCH composite/sobjects``: update up to 200 records by Id."""
        return self._collections(
            "PATCH", "composite/sobjects", {"allOrNone": False, "records": records}
        )

    def collections_delete(self, ids: list[str]) -> list[dict[str, Any]]:
        """``DELETE composite/sobjects?ids=``: up to 200 records to the recycle bin."""
        params = {"ids": ",".join(ids), "allOrNone": "false"}
        return self._collections("DELETE", "composite/sobjects", None, params=params)

    def _collections(
        self, method: str, path: str, body: Any, params: dict[str, str] | None = None
    ) -> list[dict[str, Any]]:
        def send(sf: Salesforce) -> list[dict[str, Any]]:
            answer = self._raw(sf, method, path, json=body, params=params).json()
            if not isinstance(answer, list):
                raise FatalApiError(f"{method} {path}: expected a result list")
            return answer

        return self._call(f"{method} {path}", send)

    def close(self) -> None:
        """Release the session's connections."""
        self._session.close()

    # -- plumbing ---------------------------------------------------------------------------
    def secrets(self) -> list[str]:
        """The login's secrets and the current access token."""
        token = self._sf.session_id if self._sf is not None else None
        return [*self.login.secrets(), *([token] if token else [])]

    def _call(self, what: str, fn: Callable[[Salesforce], T]) -> T:
        try:
            return self._retry.call(lambda: self._once(what, fn), self._count_retry)
        except SessionExpired:
            log.info("Salesforce session expired during %s; logging in again", what)
            self._sf = None
        try:
            return self._retry.call(lambda: self._once(what, fn), self._count_retry)
        except SessionExpired as exc:
            raise FatalApiError(str(exc), code=exc.code, status=exc.status) from None

    def _once(self, what: str, fn: Callable[[Salesforce], T]) -> T:
        self.meter.check_quota()
        sf = self._sf if self._sf is not None else self._connect()
        try:
            return fn(sf)
        except SalesforceAuthenticationFailed as exc:  # simple-salesforce's own re-login failed
            raise self._login_failure(exc) from None
        except SalesforceError as exc:
            raise classify(
                exc.status,
                exc.content,
                what=what,
                secrets=self.secrets(),
                retry_after=self.meter.retry_after,
            ) from None
        except requests.RequestException as exc:
            raise transport_error(exc, what=what, secrets=self.secrets()) from None

    def _connect(self) -> Salesforce:
        try:
            self._sf = log_in(self.login, self._session)
        except ApiError:
            raise
        except requests.RequestException as exc:
            raise transport_error(exc, what="login", secrets=self.login.secrets()) from None
        except Exception as exc:  # SalesforceAuthenticationFailed, or a body it cannot parse
            raise self._login_failure(exc) from None
        return self._sf

    def _login_failure(self, exc: Exception) -> ApiError:
        """Refused credentials are fatal; a login that met a 5xx or 429 is worth retrying."""
        code = getattr(exc, "code", None)
        detail = getattr(exc, "auth_message", None) or str(exc)
        text = redact(f"login: {code or type(exc).__name__}: {detail}", self.login.secrets())
        status = self.meter.last_status
        refused = isinstance(code, str) and not code.isdigit()
        if not refused and status is not None and (status == 429 or status >= 500):
            return TransientApiError(text, code=None, status=status)
        return FatalApiError(text, code=code if refused else None, status=status)

    def _raw(self, sf: Salesforce, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**sf.headers, **kwargs.pop("headers", {})}
        response = self._session.request(method, sf.base_url + path, headers=headers, **kwargs)
        if response.status_code >= 300:
            raise classify(
                response.status_code,
                response_body(response),
                what=f"{method} {path}",
                secrets=self.secrets(),
                retry_after=self.meter.retry_after,
            )
        return response

    def _count_retry(self, exc: BaseException) -> None:
        self.meter.retries += 1
        log.warning("Salesforce call failed, retrying: %s", exc)


def _results_params(locator: str | None, max_records: int | None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if locator:
        params["locator"] = locator
    if max_records:
        params["maxRecords"] = max_records
    return params


def _dict(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FatalApiError(f"unexpected answer from Salesforce: {type(value).__name__}")
    return value


__all__ = ["SalesforceClient", "SalesforceLogin", "log_in"]
