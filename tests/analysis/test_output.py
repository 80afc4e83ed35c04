"""Exports: CSV for Excel, JSON, the terminal table."""

import json
import unicodedata

from analysis.indicators import compute_indicators
from analysis.output import to_csv, to_json, to_table
from tests.factories import indicators as f


def _result(**kwargs):
    children = [f.child(is_csc="1", support_received="health")]
    return compute_indicators(f.tables(children=children), periods=["2026Q3"], **kwargs)


def test_csv__decomposed_vietnamese_in_data__written_as_nfc():
    result = _result()
    frame = result.frame.copy()
    frame["unit_name"] = unicodedata.normalize("NFD", "Phường Mỹ Bình")

    text = to_csv(frame).decode("utf-8-sig")

    assert unicodedata.normalize("NFC", "Phường Mỹ Bình") in text
    assert unicodedata.is_normalized("NFC", text)


def test_json__nan_as_null_and_booleans_plain():
    result = _result()

    payload = json.loads(to_json(result.frame, result.warnings))

    row = next(r for r in payload["indicators"] if r["indicator"] == "SA-01")
    assert row["value"] is None
    assert row["on_track"] is None


def test_table__unit_totals_only():
    result = _result()

    lines = to_table(result.frame).splitlines()

    totals = result.frame[result.frame["breakdown"] == "total"]
    assert len(lines) == 1 + len(totals)


def test_csv__cell_values_in_vietnamese_too():
    result = _result()

    text = to_csv(result.frame).decode("utf-8-sig")

    rows = text.splitlines()
    assert any(",Tổng," in r for r in rows) and any(",Giới tính," in r for r in rows)
    assert ",percent," not in text and ",total," not in text
    assert ",Tỉnh," in text and ",%," in text
