"""Exports and the snapshot fingerprint."""

import json
import unicodedata

import pandas as pd

from analysis.indicators import compute_indicators
from analysis.output import fingerprint, to_csv, to_json, to_table
from tests.factories import indicators as f


def _result(**kwargs):
    children = [f.child(is_csc="1", support_received="health")]
    return compute_indicators(
        f.tables(children=children), periods=["2026Q3"], collect_inputs=True, **kwargs
    )


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


def test_fingerprint__same_data_same_hash__review_change_another():
    inputs = _result().inputs
    parameters = {"periods": ["2026Q3"]}

    same = fingerprint(inputs.sample(frac=1, random_state=1), parameters)
    changed = inputs.copy()
    changed.loc[0, "review_state"] = "rejected"

    assert fingerprint(inputs, parameters) == same
    assert fingerprint(changed, parameters) != same
    assert fingerprint(inputs, {"periods": ["2026"]}) != same


def test_fingerprint__lists_form_submission_instance_and_state():
    inputs = _result().inputs

    assert list(inputs.columns) == [
        "xml_form_id",
        "submission_id",
        "instance_id",
        "review_state",
    ]
    assert isinstance(inputs, pd.DataFrame) and len(inputs) == 1
