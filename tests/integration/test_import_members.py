"""`loyalty import members`: a shop's members in, checked as the API checks them, on both databases."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from loyalty.cli import main
from loyalty.core.ids import luhn_check_digit
from loyalty.imports import member_writes
from loyalty.imports.run import run
from loyalty.members.models import Member, MemberTag
from loyalty.points.models import LedgerEntry, PointAccount, PointLot
from loyalty.reconcile import reconcile
from loyalty.tiers.models import TierStanding
from loyalty.webhooks.models import OutboxEvent
from tests.api.test_tiers import LADDER
from tests.clock import now

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "docs" / "import" / "members.csv"
MISTAKES = ROOT / "docs" / "import" / "members-with-mistakes.csv"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _number(payload: str) -> str:
    return payload + str(luhn_check_digit(payload))


def _csv(path: Path, rows: list[list[str]], *, bom: bool = False) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode())
    return path


@pytest.fixture
def ladder(client, auth):
    assert client.put("/v1/tiers", json={"tiers": LADDER}, headers=auth()).status_code == 200


@pytest.fixture
def importing(config):
    def invoke(path: Path, rejects: Path | None = None) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = run("members", path, rejects_path=rejects, config=config, out=out, err=err)
        return code, out.getvalue(), err.getvalue()

    return invoke


def _members(db) -> dict[str, Member]:
    with db.unit_of_work() as session:
        return {m.external_id or m.member_number: m for m in session.scalars(select(Member))}


def _count(db, model) -> int:
    with db.unit_of_work() as session:
        return session.scalar(select(func.count()).select_from(model))


def _rejects(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_sample_file_imports_every_row_with_the_values_the_api_answers(
    db, client, auth, ladder, importing, tmp_path
):
    rejects = tmp_path / "r.csv"
    code, out, _ = importing(SAMPLE, rejects)
    assert code == 0, out
    assert "12 imported, 0 existing, 0 rejected" in out and not rejects.exists()
    members = _members(db)
    staff = auth("staff")

    zhang = client.get(f"/v1/members/{members['C-10001'].id}", headers=staff).get_json()
    assert zhang["member_number"] == "600123456789" and zhang["name"] == "张伟"
    assert zhang["email"] == "zhang.wei@example.cn" and zhang["phone"] == "+8613812345678"
    assert zhang["birthday"] == "1986-04-12" and zhang["gender"] == "male" and zhang["city"] == "上海"
    assert zhang["tags"] == ["vip", "wine"] and zhang["tier"] == "gold" and zhang["status"] == "active"
    assert zhang["consent"] == {"email": True, "sms": True, "phone": False, "push": False, "marketing": True}
    assert zhang["locale"] == "zh-CN" and zhang["timezone"] == "Asia/Shanghai"
    # A date is the start of that day in the program's zone.
    assert datetime.fromisoformat(zhang["enrolled_at"]) == datetime(2019, 3, 2, tzinfo=SHANGHAI)

    li = client.get(f"/v1/members/{members['C-10002'].id}", headers=staff).get_json()
    assert li["email"] == "li.na@example.cn" and li["phone"] == "+8613912345678"  # lower-cased; national number
    assert datetime.fromisoformat(li["enrolled_at"]) == datetime(2020, 7, 15, 14, 20, tzinfo=SHANGHAI)
    assert li["consent"]["sms"] is False and li["consent"]["phone"] is False  # empty: no consent
    emma = client.get(f"/v1/members/{members['C-10004'].id}", headers=staff).get_json()
    assert emma["phone"] == "+447911123456" and emma["tier"] == "regular" and emma["tags"] == ["expat", "newsletter"]
    assert len(emma["member_number"]) == 12  # generated
    sofia = client.get(f"/v1/members/{members['C-10010'].id}", headers=staff).get_json()
    assert datetime.fromisoformat(sofia["enrolled_at"]) == datetime(2024, 6, 1, 9, 30, tzinfo=UTC)
    card_only = members["600123456813"]
    assert card_only.external_id is None and card_only.email is None and card_only.tier_code == "regular"

    balance = client.get(f"/v1/members/{zhang['id']}/balance", headers=staff).get_json()
    assert balance["available"] == 12800 and balance["pending"] == 0 and balance["lifetime_earned"] == 0
    entries = client.get(f"/v1/members/{zhang['id']}/ledger", headers=staff).get_json()["data"]
    assert [(e["kind"], e["points"], e["source"]) for e in entries] == [
        ("adjust", 12800, {"type": "import", "id": "opening_balance"})
    ]
    # Earned at the import: available now, expiring as a lot earned now does (default 24 months).
    assert datetime.fromisoformat(entries[0]["available_at"]) <= now()
    expires = datetime.fromisoformat(entries[0]["expires_at"]).astimezone(SHANGHAI)
    assert (expires.year, expires.month, expires.day, expires.hour) == (2028, 12, 1, 0)

    tier = client.get(f"/v1/members/{zhang['id']}/tier", headers=staff).get_json()
    assert tier["tier"] == "gold" and tier["earned_tier"] == "gold"
    assert datetime.fromisoformat(tier["kept_until"]) - now() >= timedelta(days=364)
    assert [(h["from_tier"], h["to_tier"], h["reason"]) for h in tier["history"]] == [(None, "gold", "imported")]
    regular = client.get(f"/v1/members/{members['C-10005'].id}/tier", headers=staff).get_json()
    assert regular["tier"] == "regular" and regular["kept_until"] is None
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(TierStanding)) == 4  # gold x2, silver x2
        assert all(check.ok for check in reconcile(session))  # the ledger's books balance (`loyalty check`)
        # Each member brought with points has an account, its balance stored as counted (checked above).
        account = session.get(PointAccount, zhang["id"])
        assert (account.balance, account.balance_until) == (12800, datetime.fromisoformat(entries[0]["expires_at"]))
        with_points = session.scalar(select(func.count(func.distinct(PointLot.member_id))))
        assert session.scalar(select(func.count()).where(PointAccount.balance.is_not(None))) == with_points


def test_history_sends_no_webhooks_and_grants_no_signup_bonus(db, client, auth, ladder, importing):
    assert client.patch("/v1/program", json={"signup_bonus": 100}, headers=auth()).status_code == 200
    assert importing(SAMPLE)[0] == 0
    assert _count(db, OutboxEvent) == 0
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).where(LedgerEntry.source_type == "signup")) == 0
        assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 10  # the rows with points


def test_a_bom_and_columns_in_any_order(db, client, auth, importing, tmp_path):
    path = _csv(tmp_path / "m.csv", [["phone", "name", "external_id"], ["13800001111", "周", "x-1"]], bom=True)
    code, out, _ = importing(path)
    assert code == 0 and "1 imported" in out
    assert _members(db)["x-1"].phone == "+8613800001111"


def test_an_unknown_column_stops_before_anything_is_written(db, importing, tmp_path):
    path = _csv(tmp_path / "m.csv", [["email", "nickname"], ["a@example.com", "A"]])
    code, out, err = importing(path)
    assert code == 2 and "nickname" in err and out == ""
    assert _count(db, Member) == 0


def test_bad_rows_go_to_the_reject_file_with_line_reason_and_row_and_the_rest_goes_in(
    db, client, auth, ladder, importing, tmp_path
):
    rejects = tmp_path / "rejects.csv"
    code, out, _ = importing(MISTAKES, rejects)
    assert code == 1 and "1 imported, 0 existing, 10 rejected" in out and str(rejects) in out
    rows = _rejects(rejects)
    reasons = {row["line"]: row["reason"].split(":")[0] for row in rows}
    assert reasons == {
        "3": "no_identifier",
        "4": "invalid_email",
        "5": "invalid_phone",
        "6": "invalid_member_number",
        "7": "invalid_birthday",
        "8": "invalid_gender",
        "9": "enrolled_in_future",
        "10": "invalid_points",
        "11": "unknown_tier",
        "12": "duplicate_in_file",
    }
    with MISTAKES.open(encoding="utf-8", newline="") as handle:
        original = list(csv.reader(handle))
    header = original[0]
    assert list(rows[0]) == ["line", "reason", *header]
    for row in rows:  # the row exactly as read, so the shop can fix it in place
        assert [row[name] for name in header] == original[int(row["line"]) - 1]
    assert rows[-1]["reason"] == "duplicate_in_file: an earlier row has the same email"
    assert set(_members(db)) == {"C-20001"}


def test_the_fixed_reject_file_imports_as_it_is(db, ladder, importing, tmp_path):
    rejects = tmp_path / "rejects.csv"
    assert importing(MISTAKES, rejects)[0] == 1
    rows = _rejects(rejects)
    for row in rows:
        if row["reason"].startswith("invalid_email"):
            row["email"] = "wugang@example.cn"
    fixed = _csv(tmp_path / "fixed.csv", [list(rows[0])] + [list(row.values()) for row in rows])
    code, out, _ = importing(fixed, tmp_path / "again.csv")
    assert code == 1 and "1 imported, 1 existing, 8 rejected" in out  # the repeated email is now a member
    assert "C-20003" in _members(db)


@pytest.mark.parametrize(
    "cells, reason",
    [
        (["x-1", "", "", "", "", "", "extra"], "too_many_columns"),
        (["x-1", "", "", "", "", "Mars/Base"], "invalid_timezone"),
        (["has space", "", "", "", "", ""], "invalid_external_id"),
        (["x-1", "", "", "maybe", "", ""], "invalid_consent"),
        (["x-1", "", "a;" + "b" * 51, "", "", ""], "invalid_tags"),
        (["x-1", "", "", "", "not a locale!", ""], "invalid_locale"),
        (
            [
                "x-1",
                "",
                "",
                "",
                "",
                "",
            ],
            None,
        ),
    ],
)
def test_each_kind_of_bad_cell_has_its_reason(db, importing, tmp_path, cells, reason):
    header = ["external_id", "name", "tags", "consent_sms", "locale", "timezone"]
    path = _csv(tmp_path / "m.csv", [header, cells])
    rejects = tmp_path / "r.csv"
    code, _, _ = importing(path, rejects)
    if reason is None:
        assert code == 0 and _count(db, Member) == 1
        return
    assert code == 1 and _rejects(rejects)[0]["reason"].split(":")[0] == reason
    assert _count(db, Member) == 0


def test_a_re_run_imports_nothing_twice_and_counts_existing(db, ladder, importing):
    assert importing(SAMPLE)[0] == 0
    code, out, _ = importing(SAMPLE)
    assert code == 0 and "0 imported, 12 existing, 0 rejected" in out
    assert _count(db, Member) == 12 and _count(db, PointLot) == 10 and _count(db, MemberTag) == 9


def test_a_row_matching_a_member_by_any_identifier_is_existing(db, client, auth, importing, tmp_path):
    staff = auth("staff")
    member = client.post(
        "/v1/members", json={"email": "ann@example.com", "phone": "+8613800000001"}, headers=staff
    ).get_json()
    path = _csv(
        tmp_path / "m.csv",
        [
            ["external_id", "email", "phone", "member_number", "points"],
            ["", "ANN@example.com", "", "", "500"],
            ["", "", "138 0000 0001", "", "500"],
            ["", "", "", member["member_number"], "500"],
        ],
    )
    code, out, _ = importing(path)
    assert code == 0 and "0 imported, 3 existing, 0 rejected" in out
    # Someone else (identifiers that match nobody) with this member's card number: refused, not renumbered.
    other = _csv(tmp_path / "o.csv", [["external_id", "member_number"], ["new-1", member["member_number"]]])
    rejects = tmp_path / "r.csv"
    assert importing(other, rejects)[0] == 1
    assert _rejects(rejects)[0]["reason"] == "member_number_taken: another member holds this member number"
    assert client.get(f"/v1/members/{member['id']}/balance", headers=staff).get_json()["available"] == 0


def test_member_numbers_are_kept_and_generated_ones_never_collide(db, importing, tmp_path, monkeypatch):
    kept = _number("70000000001")
    # Every generated number is drawn from a tiny pool: collisions with each other and with the
    # kept number must be drawn again.
    pool = iter(
        [kept, kept, _number("70000000002"), kept, _number("70000000002"), _number("70000000003")]
        + [_number(f"7100000{n:04d}") for n in range(100)]
    )
    monkeypatch.setattr("loyalty.imports.member_checks.new_member_number", lambda: next(pool))
    monkeypatch.setattr("loyalty.imports.staging.new_member_number", lambda: next(pool))
    path = _csv(tmp_path / "m.csv", [["external_id", "member_number"], ["a", ""], ["b", ""], ["c", kept], ["d", ""]])
    assert importing(path)[0] == 0
    members = _members(db)
    assert members["c"].member_number == kept
    assert len({m.member_number for m in members.values()}) == 4


def test_an_interrupted_run_started_again_finishes_with_each_member_once(db, importing, tmp_path, monkeypatch):
    rows = [["external_id", "email", "points", "tags"]] + [
        [f"x-{n}", f"m{n}@example.com", "10", "a;b"] for n in range(25)
    ]
    path = _csv(tmp_path / "m.csv", rows)
    monkeypatch.setattr("loyalty.imports.members.WRITE_CHUNK", 10)
    real, calls = member_writes.write_chunk, []

    def failing(connection, terms, **chunk):
        calls.append(chunk)
        if len(calls) == 2:
            raise KeyboardInterrupt  # as if stopped by Ctrl-C after the first committed chunk
        return real(connection, terms, **chunk)

    monkeypatch.setattr("loyalty.imports.members.write_chunk", failing)
    with pytest.raises(KeyboardInterrupt):
        importing(path)
    assert _count(db, Member) == 10 and _count(db, LedgerEntry) == 10
    monkeypatch.setattr("loyalty.imports.members.write_chunk", real)
    code, out, _ = importing(path)
    assert code == 0 and "15 imported, 10 existing, 0 rejected" in out
    assert _count(db, Member) == 25 and _count(db, LedgerEntry) == 25 and _count(db, PointLot) == 25
    assert _count(db, MemberTag) == 50


def test_the_command_line_prints_the_summary_and_exits_with_the_outcome(database_url, db, ladder, tmp_path):
    runner = CliRunner()
    env = {"LOYALTY_DATABASE_URL": database_url, "LOYALTY_LOG_JSON": "1"}
    clean = runner.invoke(main, ["import", "members", str(SAMPLE)], env=env, catch_exceptions=False)
    assert clean.exit_code == 0 and "import members: 12 imported, 0 existing, 0 rejected in" in clean.output
    copy = tmp_path / "mistakes.csv"
    copy.write_bytes(MISTAKES.read_bytes())
    some = runner.invoke(main, ["import", "members", str(copy)], env=env, catch_exceptions=False)
    assert some.exit_code == 1 and "10 rejected" in some.output
    assert (tmp_path / "mistakes.csv.rejects.csv").exists()  # the default place
    wrong = _csv(tmp_path / "wrong.csv", [["email", "shoe_size"], ["a@example.com", "42"]])
    assert runner.invoke(main, ["import", "members", str(wrong)], env=env).exit_code == 2


def test_a_large_file_is_checked_on_every_core_with_the_same_result(db, importing, tmp_path, monkeypatch):
    monkeypatch.setattr("loyalty.imports.member_checks.PARALLEL_FROM_BYTES", 0)
    monkeypatch.setattr("loyalty.imports.member_checks.workers_for", lambda size: 2)
    monkeypatch.setattr("loyalty.imports.members.READ_BATCH", 7)
    rows = [["external_id", "phone", "points"]] + [[f"x-{n}", f"1380000{n:04d}", str(n)] for n in range(60)]
    rows[20][1] = "12345"  # line 21
    rows[40][0] = "x-1"  # line 41, a duplicate of line 3
    rejects = tmp_path / "r.csv"
    code, out, _ = importing(_csv(tmp_path / "m.csv", rows), rejects)
    assert code == 1 and "58 imported, 0 existing, 2 rejected" in out
    assert [(r["line"], r["reason"].split(":")[0]) for r in _rejects(rejects)] == [
        ("21", "invalid_phone"),
        ("41", "duplicate_in_file"),
    ]
    assert _members(db)["x-59"].phone == "+8613800000059"
