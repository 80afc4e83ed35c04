"""The 2016-2020 administrative units (11 districts, 156 communes, GSO codes).

The plan's denominators ("117/156 xã") refer to this list, so it stays fixed
whatever the later mergers (see the crosswalk in /work/shared/domain). A
commune's district is taken from this list, not from the form's district
field: the list is the authority and the form may carry a typo.

Records are placed in geographic *slots*: one per real commune, one "commune
not known" slot per district, and one slot for records with neither (a
foreign trafficking victim has no residence in An Giang). The extra slots keep
every total equal to the sum of its parts, which small-cell suppression needs.
"""

from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import numpy as np
import pandas as pd

PROVINCE_CODE = "89"
PROVINCE_NAME = "Tỉnh An Giang"
UNKNOWN_CODE = "?"
UNKNOWN_DISTRICT_NAME = "Không rõ huyện"
UNKNOWN_COMMUNE_NAME = "Không rõ xã"


@dataclass(frozen=True)
class Units:
    district_codes: list[str]  # the 11 districts, then UNKNOWN_CODE
    district_names: list[str]
    slot_codes: list[str]  # commune code, or UNKNOWN_CODE for the extra slots
    slot_names: list[str]
    slot_district: np.ndarray  # district index of each slot
    slot_real: np.ndarray  # True for the 156 real communes

    @cached_property
    def district_matrix(self) -> np.ndarray:
        """1 where a slot belongs to a district: district cells = M @ slot cells."""
        matrix = np.zeros((self.n_districts, self.n_slots))
        matrix[self.slot_district, np.arange(self.n_slots)] = 1.0
        return matrix

    @property
    def n_slots(self) -> int:
        return len(self.slot_codes)

    @property
    def n_districts(self) -> int:
        return len(self.district_codes)


# The forms keep the one copy of the list (their commune choices come from it);
# analysis reads the file, not the forms code, which lives in server/.
UNITS_CSV = (
    Path(__file__).resolve().parent.parent / "forms" / "an_giang_units_2016_2020.csv"
)


def load_units_frame() -> pd.DataFrame:
    return pd.read_csv(UNITS_CSV, dtype=str)


@cache
def load_units() -> Units:
    frame = load_units_frame()
    districts = frame.drop_duplicates("district_code")
    district_codes = [*districts["district_code"], UNKNOWN_CODE]
    district_names = [*districts["district_name_vi"], UNKNOWN_DISTRICT_NAME]
    index = {code: i for i, code in enumerate(district_codes)}
    slot_codes = list(frame["commune_code"])
    slot_names = list(frame["commune_name_vi"])
    slot_district = [index[d] for d in frame["district_code"]]
    for i, code in enumerate(district_codes):
        slot_codes.append(UNKNOWN_CODE)
        name = UNKNOWN_COMMUNE_NAME
        slot_names.append(name if code == UNKNOWN_CODE else f"{name} ({code})")
        slot_district.append(i)
    real = np.zeros(len(slot_codes), dtype=bool)
    real[: len(frame)] = True
    return Units(
        district_codes=district_codes,
        district_names=district_names,
        slot_codes=slot_codes,
        slot_names=slot_names,
        slot_district=np.asarray(slot_district, dtype=np.int64),
        slot_real=real,
    )


def _texts(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes into the distinct texts ("" for unanswered at the extra last slot)."""
    codes, uniques = pd.factorize(values)
    texts = [str(u).strip() for u in uniques] + [""]
    return np.where(codes < 0, len(texts) - 1, codes), texts


def _plain_texts(values: pd.Series) -> np.ndarray:
    """The texts as an object array, "" where unanswered; numbers as digits."""
    texts = values.to_numpy(dtype=object, na_value="")
    if pd.api.types.is_numeric_dtype(values):
        return np.asarray([str(int(v)) if v != "" else "" for v in texts], object)
    return texts


def place(
    communes: pd.Series, districts: pd.Series, *, units: Units | None = None
) -> tuple[np.ndarray, list[str]]:
    """The slot of each record, and warnings about codes that do not match."""
    units = units or load_units()
    n_real = int(units.slot_real.sum())
    commune_slot = {code: i for i, code in enumerate(units.slot_codes[:n_real])}
    district_index = {code: i for i, code in enumerate(units.district_codes[:-1])}
    unknown_district = units.n_districts - 1

    c_codes, c_texts = _texts(communes)
    slot_of_text = np.array([commune_slot.get(t, -1) for t in c_texts])
    by_commune = slot_of_text[c_codes]
    given = _plain_texts(districts)
    slots = by_commune.astype(np.int64)
    unplaced = np.flatnonzero(by_commune < 0)
    if len(unplaced):
        district = [district_index.get(t, unknown_district) for t in given[unplaced]]
        slots[unplaced] = n_real + np.asarray(district, dtype=np.int64)

    warnings = []
    unknown = (by_commune < 0) & (np.asarray(c_texts, dtype=object)[c_codes] != "")
    if unknown.any():
        codes = sorted({c_texts[i] for i in np.unique(c_codes[unknown])})[:10]
        warnings.append(
            f"{int(unknown.sum())} phiếu ghi mã xã không có trong danh mục "
            f"2016-2020 ({', '.join(codes)}); tính vào 'Không rõ xã'"
        )
    missing = np.asarray(c_texts, dtype=object)[c_codes] == ""
    if missing.any():
        warnings.append(
            f"{int(missing.sum())} phiếu không ghi xã; tính vào 'Không rõ xã' của huyện"
        )
    known = by_commune >= 0
    true_district = np.asarray(units.district_codes, dtype=object)[
        units.slot_district[np.where(known, by_commune, 0)]
    ]
    differs = known & (given != "") & (given != true_district)
    if differs.any():
        warnings.append(
            f"{int(differs.sum())} phiếu ghi huyện không chứa xã của phiếu; "
            "dùng huyện của xã theo danh mục"
        )
    return slots, warnings
