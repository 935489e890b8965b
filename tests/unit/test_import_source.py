"""Reading import files: encodings, headers, rows, and the reject file."""

from __future__ import annotations

import csv

import pytest

from loyalty.imports.rejects import RejectFile, default_path
from loyalty.imports.report import Outcome, summary
from loyalty.imports.source import CannotStart, CsvSource

ALLOWED = frozenset({"email", "name", "tags"})


def _write(tmp_path, text: str, *, bom: bool = False):
    path = tmp_path / "members.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


@pytest.mark.parametrize("bom", [False, True])
def test_utf8_with_or_without_a_bom_and_columns_in_any_order(tmp_path, bom):
    with CsvSource(_write(tmp_path, "name,email\n张伟, Zhang@Example.com \n", bom=bom), allowed=ALLOWED) as source:
        rows = list(source.rows())
    assert source.header == ["name", "email"]
    assert rows[0].values == {"name": "张伟", "email": "Zhang@Example.com"} and rows[0].line == 2


def test_an_unknown_column_stops_the_run_naming_it(tmp_path):
    with pytest.raises(CannotStart, match="unknown column: 'nickname'"):
        CsvSource(_write(tmp_path, "name,nickname\nAnn,A\n"), allowed=ALLOWED)


@pytest.mark.parametrize("text, reason", [("", "empty"), ("name,name\n", "named twice")])
def test_a_file_without_a_usable_header_cannot_start(tmp_path, text, reason):
    with pytest.raises(CannotStart, match=reason):
        CsvSource(_write(tmp_path, text), allowed=ALLOWED)


def test_not_utf8_cannot_start(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("name\nJosé\n".encode("latin-1"))
    with pytest.raises(CannotStart, match="UTF-8"), CsvSource(path, allowed=ALLOWED) as source:
        list(source.rows())


def test_a_missing_file_cannot_start(tmp_path):
    with pytest.raises(CannotStart, match="can't open"):
        CsvSource(tmp_path / "nope.csv", allowed=ALLOWED)


def test_blank_lines_are_skipped_and_lines_are_counted_as_an_editor_shows_them(tmp_path):
    with CsvSource(
        _write(tmp_path, 'name,email\n\nAnn,a@x.cn\n"Bo\nB",b@x.cn\nCy,c@x.cn\n'), allowed=ALLOWED
    ) as source:
        assert [(row.line, row.values["name"]) for row in source.rows()] == [(3, "Ann"), (5, "Bo\nB"), (6, "Cy")]


def test_batches_stream_the_file(tmp_path):
    text = "name\n" + "".join(f"m{n}\n" for n in range(10))
    with CsvSource(_write(tmp_path, text), allowed=ALLOWED) as source:
        batches = list(source.batches(4))
    assert [len(batch) for batch in batches] == [4, 4, 2]


def test_a_reject_file_can_be_fixed_and_imported_as_it_is(tmp_path):
    with CsvSource(_write(tmp_path, "name,email\nAnn,not-an-email\n"), allowed=ALLOWED) as source:
        rejects = RejectFile(default_path(source.path), source.columns)
        for row in source.rows():
            rejects.add(row, "invalid_email")
        rejects.close()
    with default_path(source.path).open(encoding="utf-8") as handle:
        assert list(csv.reader(handle)) == [
            ["line", "reason", "name", "email"],
            ["2", "invalid_email", "Ann", "not-an-email"],
        ]
    with CsvSource(default_path(source.path), allowed=ALLOWED) as again:  # line and reason are read past
        assert again.columns == ["name", "email"]
        assert [row.values for row in again.rows()] == [{"name": "Ann", "email": "not-an-email"}]


def test_a_clean_run_leaves_no_stale_reject_file(tmp_path):
    stale = tmp_path / "members.csv.rejects.csv"
    stale.write_text("line,reason\n2,old\n")
    RejectFile(stale, ["name"]).close()
    assert not stale.exists()


def test_summary_and_exit_codes():
    assert Outcome(imported=3).exit_code == 0 and Outcome(imported=3, rejected=1).exit_code == 1
    assert summary("import members", Outcome(2, 1, 1), 1.25, "m.csv.rejects.csv") == (
        "import members: 2 imported, 1 existing, 1 rejected in 1.2 s; "
        "rejected rows with their reasons: m.csv.rejects.csv"
    )
