"""``trogiup indicators`` against a database (see conftest.sample_tables)."""

import json
import unicodedata

import pytest
from typer.testing import CliRunner

import server.indicators.cli as indicators_cli
from server.cli import app


@pytest.fixture
def cli(form_tables, monkeypatch):
    monkeypatch.setattr(indicators_cli, "get_engine", lambda: form_tables)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, ["indicators", *args], catch_exceptions=False)

    return invoke


def _rows(payload, code, unit):
    return [
        r
        for r in payload["indicators"]
        if r["indicator"] == code
        and r["unit_code"] == unit
        and r["breakdown"] == "total"
    ]


def test_indicators__json__district_figures(cli):
    result = cli("--period", "2026Q3", "--level", "district", "--format", "json")

    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    (row,) = _rows(payload, "CP-01", "883")
    assert (row["numerator"], row["denominator"], row["value"]) == (4, 5, 80.0)
    # 6 of 7 abused children in 30283 have a plan: the one without is a count
    # of 1, so the district's CP-04 is hidden, and so is the province's, which
    # would give it back.
    (cp04,) = _rows(payload, "CP-04", "883")
    assert cp04["status"] == "suppressed" and cp04["numerator"] is None


def test_indicators__table__vietnamese_headings_and_no_source_rows(cli):
    result = cli("--period", "2026", "--level", "province")

    assert result.exit_code == 0, result.output
    first = result.stdout.splitlines()[0]
    assert first.startswith("Mã chỉ tiêu")
    assert "Giá trị" in first and "Đúng tiến độ" in first
    assert "chưa có nguồn dữ liệu" in result.stdout


def test_indicators__csv__bom_and_nfc(cli):
    result = cli("--period", "2026-07", "--level", "commune", "--format", "csv")

    assert result.exit_code == 0
    assert result.stdout_bytes.startswith(b"\xef\xbb\xbf")
    text = result.stdout_bytes.decode("utf-8-sig")
    assert unicodedata.is_normalized("NFC", text)
    assert "Phường Mỹ Bình" in text


def test_indicators__unreadable_period__error_names_the_formats(cli):
    from server.errors import InvalidInput

    with pytest.raises(InvalidInput, match="2026Q3"):
        cli("--period", "Q3-2026")


def test_snapshot_then_show__same_figures(cli):
    created = cli("snapshot", "--period", "2026Q3", "--level", "commune")
    assert created.exit_code == 0, created.output
    snapshot_id = created.stdout.split()[1].rstrip(":")

    shown = cli("show-snapshot", snapshot_id, "--format", "json")

    payload = json.loads(shown.stdout)
    (row,) = _rows(payload, "CP-01", "30280")
    assert (row["numerator"], row["denominator"]) == (4, 5)
    assert "sha256" in created.stdout


def test_verify_snapshot__unchanged_data__exit_zero(cli):
    created = cli("snapshot", "--period", "2026")
    snapshot_id = created.stdout.split()[1].rstrip(":")

    verified = cli("verify-snapshot", snapshot_id)

    assert verified.exit_code == 0
    assert json.loads(verified.stdout)["unchanged"] is True


def test_cp02__denominator_from_the_commune_assessments_in_the_database(
    engine, monkeypatch
):
    # Châu Đốc's seven communes each assessed for 2026 with 100 children under
    # 16; 14 children in special circumstances among them: 14 / 700 = 2%.
    from tests.factories import indicators as f

    codes = ["30316", "30319", "30322", "30325", "30328", "30331", "30334"]
    communes = [f.commune(commune=c, district="884", n_children_u16=100) for c in codes]
    children = [
        f.child(commune=c, district="884", is_csc="1") for c in codes for _ in range(2)
    ]
    names = f.create_form_tables(engine, f.tables(children=children, communes=communes))
    monkeypatch.setattr(indicators_cli, "get_engine", lambda: engine)
    try:
        result = CliRunner().invoke(
            app,
            ["indicators", "--period", "2026", "--level", "district", "--format",
             "json"],
            catch_exceptions=False,
        )  # fmt: skip
    finally:
        f.drop_tables(engine, names)

    (row,) = _rows(json.loads(result.stdout), "CP-02", "884")
    assert (row["numerator"], row["denominator"], row["value"]) == (14, 700, 2.0)
