"""CSV drops: files an admin puts in a folder (survey answers, usage), read as a stream.

``spec.options``: ``folder`` (absolute, or relative to the source's root), ``pattern``
(``*.csv``), ``id_column``, ``delimiter`` (``,``) and ``encoding`` (``utf-8-sig``: a byte-order
mark is dropped). Rows stream through ``csv.DictReader``; no file is loaded whole.

Each file is ingested once, keyed by the sha256 of its content: a renamed file is not read
again, an edited file is a new file. A file's hash enters the state only with its last page,
so a crash mid-file re-reads it from the start and the upserts by id absorb the repeat.
A file is marked ingested only when it was read to its end: a missing id column, undecodable
bytes or malformed CSV give one issue for the file and leave it unmarked, so fixing the file
(a new hash) or the mapping takes effect next cycle; the issue repeats until then.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from connector.errors import ConfigError, RecordError
from connector.model import JsonDict, Page, RecordIssue, Row, StreamSpec
from connector.transforms import row_builder

PAGE_ROWS = 2000
_CHUNK = 1 << 20
Build = Callable[[str, datetime | None, bool, Mapping[str, Any]], Row]
# rows, issues, the sha256 once the file was read to its end, and whether this is its last chunk
Chunk = tuple[list[Row], list[RecordIssue], str | None, bool]


@dataclass(frozen=True)
class _Options:
    folder: str  # absolute, or relative to the source's root
    pattern: str
    id_column: str
    delimiter: str
    encoding: str

    @classmethod
    def of(cls, spec: StreamSpec) -> _Options:
        opts = spec.options
        folder, id_column = opts.get("folder"), opts.get("id_column")
        if not isinstance(folder, str) or not folder:
            raise ConfigError(spec.origin, "options.folder", "a folder name is required")
        if not isinstance(id_column, str) or not id_column:
            raise ConfigError(spec.origin, "options.id_column", "the id column is required")
        delimiter = str(opts.get("delimiter") or ",")
        if len(delimiter) != 1:
            raise ConfigError(spec.origin, "options.delimiter", "must be one character")
        encoding = str(opts.get("encoding") or "utf-8-sig")
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ConfigError(spec.origin, "options.encoding", f"unknown {encoding!r}") from None
        pattern = str(opts.get("pattern") or "*.csv")
        return cls(folder, pattern, id_column, delimiter, encoding)


class CsvDropSource:
    """Reads ``spec.source == "csv"`` streams from folders under ``root``."""

    def __init__(self, root: Path, *, page_rows: int = PAGE_ROWS) -> None:
        self.root = root
        self.page_rows = page_rows

    def read(
        self, stream: StreamSpec, state: JsonDict | None, *, run_start: datetime, full: bool
    ) -> Iterator[Page]:
        """One page per file (or per ``page_rows`` rows), new content only; ``full`` re-reads."""
        options = _Options.of(stream)
        folder = self._folder(stream, options.folder)
        ingested: dict[str, str] = {} if full else dict((state or {}).get("files") or {})
        pending = _pending(folder, options.pattern, ingested)
        if not pending:
            yield Page([], {"files": ingested}, api_calls=0, done=True)
            return
        build = row_builder(stream)
        for index, path in enumerate(pending):
            last_file = index == len(pending) - 1
            for rows, issues, digest, final in self._chunks(path, options, build):
                if digest is not None:
                    ingested[digest] = path.name
                done = last_file and final
                yield Page(rows, {"files": dict(ingested)}, api_calls=0, issues=issues, done=done)

    def all_ids(self, stream: StreamSpec) -> Iterator[Sequence[str]]:
        """Not supported: drops are append-only input, a row never disappears by itself."""
        raise NotImplementedError(
            f"{stream.name}: CSV drops have no deletes to sweep (files are append-only input)"
        )

    def _folder(self, stream: StreamSpec, name: str) -> Path:
        folder = Path(name).expanduser()
        folder = folder if folder.is_absolute() else self.root / folder
        if not folder.is_dir():
            raise ConfigError(stream.origin, "options.folder", f"no folder {folder}")
        return folder

    def _chunks(self, path: Path, options: _Options, build: Build) -> Iterator[Chunk]:
        """Rows in pages; the last carries the sha256 of what was read (None if cut short)."""
        label = _label(self.root, path)
        digest = hashlib.sha256()
        rows: list[Row] = []
        issues: list[RecordIssue] = []
        try:
            raw = path.open("rb")
        except FileNotFoundError:  # removed since it was listed: nothing to read or to mark
            yield [], [], None, True
            return
        with raw:
            text = io.TextIOWrapper(_hashing(raw, digest), encoding=options.encoding, newline="")
            reader = csv.DictReader(text, delimiter=options.delimiter, strict=True)
            try:
                if options.id_column not in (reader.fieldnames or ()):
                    reason = f"no {options.id_column!r} column in the header"
                    yield [], [RecordIssue(label, reason, "MISSING_ID_COLUMN")], None, True
                    return
                seen: dict[str, int] = {}
                for record in reader:
                    try:
                        rows.append(_row(record, reader.line_num, options.id_column, seen, build))
                    except RecordError as err:
                        where = f"{label}:{reader.line_num}"
                        issues.append(RecordIssue(where, err.reason, err.code))
                    if len(rows) + len(issues) >= self.page_rows:
                        yield rows, issues, None, False
                        rows, issues = [], []
            except (UnicodeDecodeError, csv.Error) as exc:
                issues.append(_unreadable(label, reader.line_num, options.encoding, exc))
                yield rows, issues, None, True
                return
        yield rows, issues, digest.hexdigest(), True


def _unreadable(label: str, line: int, encoding: str, exc: Exception) -> RecordIssue:
    """The file-level issue: decoding runs ahead of the parser, so no exact line for it."""
    if isinstance(exc, UnicodeDecodeError):
        reason = f"not {encoding} text (after line {line}): {exc.reason}"
        return RecordIssue(label, reason, "UNREADABLE_FILE")
    # the csv module raises before it counts the line it failed on
    return RecordIssue(f"{label}:{line + 1}", f"malformed CSV: {exc}", "UNREADABLE_FILE")


def _row(
    record: dict[str | Any, Any], line: int, id_column: str, seen: dict[str, int], build: Build
) -> Row:
    """One CSV record as a row; raises ``RecordError`` for a malformed one."""
    if None in record:
        raise RecordError(str(line), f"{len(record[None])} more field(s) than the header")
    missing = [str(k) for k, v in record.items() if v is None]
    if missing:
        raise RecordError(str(line), f"missing field(s): {', '.join(missing)}")
    record_id = str(record.get(id_column) or "").strip()
    if not record_id:
        raise RecordError(str(line), f"empty {id_column!r}")
    if record_id in seen:
        raise RecordError(
            record_id, f"duplicate id {record_id!r} (first on line {seen[record_id]})"
        )
    seen[record_id] = line
    return build(record_id, None, False, record)


def _label(root: Path, path: Path) -> str:
    """How issues name a file: relative to the root when under it ("nps/2024-05.csv")."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _pending(folder: Path, pattern: str, ingested: Mapping[str, str]) -> list[Path]:
    """Files matching ``pattern`` whose content was not ingested yet, by name, one per content."""
    taken = set(ingested)
    out: list[Path] = []
    for path in sorted(p for p in folder.glob(pattern) if p.is_file()):
        digest = _sha256(path)
        if digest not in taken:
            taken.add(digest)
            out.append(path)
    return out


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as raw:
        while chunk := raw.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class _HashingReader(io.RawIOBase):
    """A binary stream that hashes what passes through it, so the recorded hash is of what
    was actually read even if the file changes between the first look and the read."""

    def __init__(self, raw: BinaryIO, digest: Any) -> None:
        self._raw, self._digest = raw, digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self._digest.update(data)
        return len(data)


def _hashing(raw: BinaryIO, digest: Any) -> io.BufferedReader:
    return io.BufferedReader(_HashingReader(raw, digest), _CHUNK)
