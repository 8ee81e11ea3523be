"""What can go wrong, classified by what the caller does about it.

::

    ConnectorError
    ├── ConfigError(file, key, reason)   bad config / mapping / template: exit 2, nothing written
    │   └── ConfigErrors(errors)         several at once, so `check` can print every one
    ├── ApiError                         an API answered badly (text already redacted)
    │   ├── TransientApiError            5xx, 429, timeouts, lock contention: retry with backoff
    │   ├── QuotaExhausted               the org's daily allowance is (nearly) spent: stop cleanly
    │   └── FatalApiError                auth refused, schema mismatch: stop this stream
    └── RecordError(record_id, reason)   one bad record: log, store, continue with the rest
"""

from __future__ import annotations

from collections.abc import Sequence


class ConnectorError(Exception):
    """Base of every error the connector raises on purpose."""


class ConfigError(ConnectorError):
    """A configuration, mapping or template problem, located as ``file:key``."""

    def __init__(self, file: str, key: str, reason: str) -> None:
        self.file, self.key, self.reason = file, key, reason
        super().__init__(self.line())

    def line(self) -> str:
        where = f"{self.file}:{self.key}" if self.key else self.file
        return f"{where}: {self.reason}"


class ConfigErrors(ConnectorError):
    """Every problem found in one pass, each a ``ConfigError``."""

    def __init__(self, errors: Sequence[ConfigError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(e.line() for e in self.errors))


class ApiError(ConnectorError):
    """An API call failed; ``code`` is the API's own error code when it gave one."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.code, self.status, self.retry_after = code, status, retry_after
        super().__init__(message)


class TransientApiError(ApiError):
    """Worth retrying after a pause (honour ``retry_after`` when set)."""


class QuotaExhausted(ApiError):
    """The daily API allowance is spent or below the configured reserve: stop, keep state."""


class FatalApiError(ApiError):
    """Retrying will not help; the stream (or run) stops."""


class RecordError(ConnectorError):
    """One record could not be read or written; the rest proceed."""

    def __init__(self, record_id: str, reason: str, *, code: str | None = None) -> None:
        self.record_id, self.reason, self.code = record_id, reason, code
        super().__init__(f"{record_id}: {reason}")
