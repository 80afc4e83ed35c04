"""The exact inputs of an indicator computation, frozen into bytes and back.

A snapshot keeps what the counting read, not the typed tables: each form as
prepared (``analysis.forms.PreparedForm``: commune slot, sex, age group,
review state, case, dates and each indicator's per-record numerator and
denominator) and the child population table. Computing again from them
gives the same figures whatever happened to the submissions since. They hold
no name, no date of birth, no address finer than the commune, but they are
record-level data all the same (a commune, sex, age group and dates per
abused child or victim, and submission ids that lead back to Central):
pseudonymous, not anonymous, and to be kept as the typed tables are.

The bytes are a NumPy ``.npz`` archive read without pickle, so a stored
snapshot can never run code when it is opened.
"""

import hashlib
import io
import json
import zipfile

import numpy as np
import pandas as pd

from analysis.forms import PreparedForm

_ARRAYS = ("slot", "sex", "age", "state", "case", "order", "source_row")
_IDS = ("submission_id", "instance_id", "review_state")


def freeze(prepared: dict[str, PreparedForm], population: pd.DataFrame) -> bytes:
    arrays: dict[str, np.ndarray] = {"forms": np.array(sorted(prepared), dtype=str)}
    for form, prep in prepared.items():
        for name in _ARRAYS:
            arrays[f"{form}/{name}"] = getattr(prep, name)
        for column, days in prep.days.items():
            arrays[f"{form}/days/{column}"] = days
        for key, values in prep.values.items():
            arrays[f"{form}/values/{key}"] = np.asarray(values)
        if prep.year is not None:
            arrays[f"{form}/year"] = prep.year
        for column in _IDS:
            ids = prep.id_columns[column].astype(object)
            arrays[f"{form}/ids/{column}"] = _texts(ids)
        arrays[f"{form}/warnings"] = np.array(prep.warnings, dtype=str)
    arrays["population/commune_code"] = _texts(population["commune_code"])
    arrays["population/year"] = population["year"].astype(np.int64).to_numpy()
    arrays["population/children_under16"] = (
        population["children_under16"].astype(float).to_numpy()
    )
    return _archive(arrays)


def _archive(arrays: dict[str, np.ndarray]) -> bytes:
    """An .npz archive written entry by entry with a fixed date: the same
    inputs give the same bytes, so their fingerprint is that of the data
    (``np.savez`` stamps each entry with the time of writing)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            entry = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(entry, "w") as file:
                np.lib.format.write_array(file, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def _texts(values: pd.Series) -> np.ndarray:
    """Text as fixed-width unicode (what .npz keeps without pickle); an
    unanswered value as the empty string."""
    return np.array(["" if v is None or v != v else str(v) for v in values], str)


def thaw(blob: bytes) -> tuple[dict[str, PreparedForm], pd.DataFrame]:
    with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
        data = {name: archive[name] for name in archive.files}
    prepared = {str(form): _form(str(form), data) for form in data["forms"]}
    population = pd.DataFrame(
        {
            "commune_code": data["population/commune_code"].astype(object),
            "year": data["population/year"],
            "children_under16": data["population/children_under16"],
        }
    )
    return prepared, population


def _form(form: str, data: dict[str, np.ndarray]) -> PreparedForm:
    def under(prefix: str) -> dict[str, np.ndarray]:
        start = f"{form}/{prefix}/"
        return {k[len(start) :]: v for k, v in data.items() if k.startswith(start)}

    ids = {
        column: [v or None for v in data[f"{form}/ids/{column}"].tolist()]
        for column in _IDS
    }
    slot = data[f"{form}/slot"]
    return PreparedForm(
        form=form,
        n=len(slot),
        **{name: data[f"{form}/{name}"] for name in _ARRAYS},
        days=under("days"),
        year=data.get(f"{form}/year"),
        values=under("values"),
        id_columns=pd.DataFrame(ids, dtype=object),
        warnings=data[f"{form}/warnings"].tolist(),
    )


def fingerprint(blob: bytes, parameters: dict) -> str:
    """SHA-256 of the parameters and the frozen inputs: the same inputs and
    parameters give the same hash, any edit, review or new submission
    another."""
    digest = hashlib.sha256(json.dumps(parameters, sort_keys=True).encode())
    digest.update(blob)
    return digest.hexdigest()


def submissions(prepared: dict[str, PreparedForm]) -> pd.DataFrame:
    """Every submission read, as (xml_form_id, submission_id, instance_id,
    review_state), in form and submission order."""
    parts = []
    for form, prep in sorted(prepared.items()):
        ids = prep.id_columns.astype(object)
        ids = ids.where(ids.notna(), None)
        ids.insert(0, "xml_form_id", form)
        parts.append(ids)
    columns = ["xml_form_id", *_IDS]
    if not parts:
        return pd.DataFrame(columns=columns)
    frame = pd.concat(parts, ignore_index=True)[columns]
    return frame.sort_values(columns[:2], ignore_index=True)
