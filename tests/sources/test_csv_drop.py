"""CsvDropSource: each file once by content, bad rows reported by file and line."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from conftest_zendesk import RUN_START

from connector.errors import ConfigError
from connector.model import Column, StreamSpec
from connector.sources.csv_drop import CsvDropSource

HEADER = "response_id,account,score,comment\n"


def _spec(**options) -> StreamSpec:
    return StreamSpec(
        name="nps_responses",
        source="csv",
        source_object="nps",
        columns=(
            Column("account", "text", "account"),
            Column("score", "int", "score"),
            Column("comment", "text", "comment"),
        ),
        cursor_field=None,
        origin="mappings/csv/nps.toml",
        options={"folder": "nps", "id_column": "response_id", **options},
    )


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    (tmp_path / "nps").mkdir()
    return tmp_path / "nps"


def _write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def _read(source: CsvDropSource, state=None, spec=None, full=False):
    return list(source.read(spec or _spec(), state, run_start=RUN_START, full=full))


def _rows(pages):
    return [r for p in pages for r in p.rows]


def test_a_file_is_ingested_once_and_recorded_by_its_content_hash(tmp_path, drop) -> None:
    path = _write(drop, "2024-05.csv", HEADER + "r1,001A,9,great\nr2,001B,3,slow\n")
    source = CsvDropSource(tmp_path)
    first = _read(source)
    second = _read(source, first[-1].state)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert [r.id for r in _rows(first)] == ["r1", "r2"]
    assert first[-1].state == {"files": {digest: "2024-05.csv"}} and first[-1].done
    assert _rows(second) == [] and second[-1].state == first[-1].state and second[-1].done


def test_a_row_carries_its_id_mapped_values_no_modstamp_and_is_not_deleted(tmp_path, drop) -> None:
    _write(drop, "a.csv", HEADER + "r1,001A,9,great\n")
    (row,) = _rows(_read(CsvDropSource(tmp_path)))
    assert (row.id, row.modstamp, row.deleted) == ("r1", None, False)
    assert dict(row.values) == {"account": "001A", "score": 9, "comment": "great"}


def test_the_same_content_under_another_name_is_skipped(tmp_path, drop) -> None:
    _write(drop, "a.csv", HEADER + "r1,001A,9,great\n")
    source = CsvDropSource(tmp_path)
    state = _read(source)[-1].state
    (drop / "a.csv").rename(drop / "renamed.csv")
    _write(drop, "copy.csv", HEADER + "r1,001A,9,great\n")
    pages = _read(source, state)
    assert _rows(pages) == [] and pages[-1].state == state


def test_two_new_files_with_the_same_content_are_read_once(tmp_path, drop) -> None:
    _write(drop, "a.csv", HEADER + "r1,001A,9,great\n")
    _write(drop, "b.csv", HEADER + "r1,001A,9,great\n")
    pages = _read(CsvDropSource(tmp_path))
    assert [r.id for r in _rows(pages)] == ["r1"]
    assert list(pages[-1].state["files"].values()) == ["a.csv"]


def test_an_edited_file_is_a_new_file(tmp_path, drop) -> None:
    path = _write(drop, "a.csv", HEADER + "r1,001A,9,great\n")
    source = CsvDropSource(tmp_path)
    state = _read(source)[-1].state
    path.write_text(HEADER + "r1,001A,10,even better\n", encoding="utf-8")
    pages = _read(source, state)
    assert [(r.id, r.values["score"]) for r in _rows(pages)] == [("r1", 10)]
    assert len(pages[-1].state["files"]) == 2


def test_a_bad_row_is_reported_as_file_and_line_and_the_rest_are_kept(tmp_path, drop) -> None:
    _write(drop, "a.csv", HEADER + "r1,001A,9,ok\nr2,001B,lots,bad\nr3,001C,7,ok\n")
    pages = _read(CsvDropSource(tmp_path))
    (issue,) = [i for p in pages for i in p.issues]
    assert issue.record_id == "nps/a.csv:3"
    assert f"{issue.record_id}: {issue.reason}".startswith("nps/a.csv:3: ")
    assert [r.id for r in _rows(pages)] == ["r1", "r3"]
    assert len(pages[-1].state["files"]) == 1  # the file itself was read: it is done


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("r2,001B,5,x,extra", "more field(s) than the header"),
        ("r2,001B", "missing field(s): score, comment"),
        (",001B,5,x", "empty 'response_id'"),
        ("r1,001B,5,x", "duplicate id 'r1' (first on line 2)"),
    ],
)
def test_a_malformed_row_is_an_issue_with_its_reason(tmp_path, drop, line, reason) -> None:
    _write(drop, "a.csv", HEADER + f"r1,001A,9,ok\n{line}\nr3,001C,7,ok\n")
    pages = _read(CsvDropSource(tmp_path))
    issues = [(i.record_id, i.reason) for p in pages for i in p.issues]
    assert len(issues) == 1 and issues[0][0] == "nps/a.csv:3" and reason in issues[0][1]
    assert [r.id for r in _rows(pages)] == ["r1", "r3"]


def test_a_line_number_counts_physical_lines_of_quoted_multiline_fields(tmp_path, drop) -> None:
    _write(drop, "a.csv", HEADER + 'r1,001A,9,"two\nlines"\nr2,001B,x,bad\n')
    (issue,) = [i for p in _read(CsvDropSource(tmp_path)) for i in p.issues]
    assert issue.record_id == "nps/a.csv:4"


def test_unicode_and_a_byte_order_mark_are_read(tmp_path, drop) -> None:
    text = HEADER + "r1,001A,9,très bien — 👍\nr2,001B,8,日本語\n"
    _write(drop, "bom.csv", "\ufeff" + text)
    rows = _rows(_read(CsvDropSource(tmp_path)))
    assert [r.values["comment"] for r in rows] == ["très bien — 👍", "日本語"]
    assert [r.id for r in rows] == ["r1", "r2"]  # the BOM did not stick to the id column


def test_a_file_without_the_id_column_is_one_issue_and_stays_unmarked(tmp_path, drop) -> None:
    _write(drop, "a.csv", "account,score\n001A,9\n")
    pages = _read(CsvDropSource(tmp_path))
    issues = [i for p in pages for i in p.issues]
    assert [(i.record_id, i.code) for i in issues] == [("nps/a.csv", "MISSING_ID_COLUMN")]
    assert _rows(pages) == [] and pages[-1].state == {"files": {}} and pages[-1].done


def test_undecodable_bytes_keep_the_rows_before_and_leave_the_file_unmarked(tmp_path, drop) -> None:
    _write(drop, "latin.csv", HEADER + "r1,001A,9,ok\nr2,001B,8,caf\xe9\n", encoding="latin-1")
    pages = _read(CsvDropSource(tmp_path))
    issues = [(i.record_id, i.code) for p in pages for i in p.issues]
    assert issues == [("nps/latin.csv", "UNREADABLE_FILE")] and pages[-1].done
    assert pages[-1].state == {"files": {}}


def test_a_big_file_is_paged_and_marked_only_on_its_last_page(tmp_path, drop) -> None:
    _write(drop, "big.csv", HEADER + "".join(f"r{i},001A,{i % 11},c\n" for i in range(5)))
    _write(drop, "z.csv", HEADER + "z1,001Z,1,c\n")
    pages = _read(CsvDropSource(tmp_path, page_rows=2))
    assert [len(p.rows) for p in pages] == [2, 2, 1, 1]
    assert [len(p.state["files"]) for p in pages] == [0, 0, 1, 2]
    assert [p.done for p in pages] == [False, False, False, True]


def test_malformed_csv_is_one_issue_at_its_line_and_leaves_the_file_unmarked(
    tmp_path, drop
) -> None:
    _write(drop, "quote.csv", HEADER + 'r1,001A,9,ok\nr2,001B,8,"bad"quote\nr3,001C,7,ok\n')
    pages = _read(CsvDropSource(tmp_path))
    issues = [(i.record_id, i.code) for p in pages for i in p.issues]
    assert issues == [("nps/quote.csv:3", "UNREADABLE_FILE")]
    assert [r.id for r in _rows(pages)] == ["r1"] and pages[-1].state == {"files": {}}


def test_files_are_read_in_name_order_matching_the_pattern(tmp_path, drop) -> None:
    _write(drop, "b.csv", HEADER + "b1,001A,1,c\n")
    _write(drop, "a.csv", HEADER + "a1,001A,1,c\n")
    _write(drop, "notes.txt", "not a csv\n")
    assert [r.id for r in _rows(_read(CsvDropSource(tmp_path)))] == ["a1", "b1"]


def test_a_full_read_ingests_every_file_again(tmp_path, drop) -> None:
    _write(drop, "a.csv", HEADER + "r1,001A,9,great\n")
    source = CsvDropSource(tmp_path)
    state = _read(source)[-1].state
    assert [r.id for r in _rows(_read(source, state, full=True))] == ["r1"]


def test_an_empty_folder_yields_one_done_page(tmp_path, drop) -> None:
    assert [(p.rows, p.done, p.api_calls) for p in _read(CsvDropSource(tmp_path))] == [
        ([], True, 0)
    ]


def test_a_missing_folder_is_a_config_error_naming_the_mapping(tmp_path, drop) -> None:
    with pytest.raises(ConfigError, match="mappings/csv/nps.toml:options.folder"):
        _read(CsvDropSource(tmp_path), spec=_spec(folder="missing"))


def test_an_absolute_folder_is_read_where_it_is(tmp_path, drop) -> None:
    _write(drop, "a.csv", HEADER + "r1,001A,9,great\n")
    pages = _read(CsvDropSource(tmp_path / "elsewhere"), spec=_spec(folder=str(drop)))
    assert [r.id for r in _rows(pages)] == ["r1"]


def test_the_delimiter_and_encoding_options_are_honoured(tmp_path, drop) -> None:
    text = HEADER.replace(",", ";") + "r1;001A;9;caf\xe9\n"
    _write(drop, "a.csv", text, encoding="latin-1")
    spec = _spec(delimiter=";", encoding="latin-1")
    assert [r.values["comment"] for r in _rows(_read(CsvDropSource(tmp_path), spec=spec))] == [
        "caf\xe9"
    ]


def test_the_id_sweep_is_not_offered_for_csv_drops(tmp_path, drop) -> None:
    with pytest.raises(NotImplementedError, match="no deletes"):
        list(CsvDropSource(tmp_path).all_ids(_spec()))
