"""From a typed form table to the arrays the indicators are counted from.

Each form is prepared once: deleted submissions are marked DELETED (never
counted, never in the review-state counts; the rows stay so that the table
need not be copied), every record is
placed in a commune slot, a sex and an age group, its review state is reduced
to approved / pending / rejected, and the per-record numerator and
denominator of each indicator the form feeds are derived from the answers.

The indicator flags are recomputed from the answers (is_csc, has_plan, ...)
rather than read from the form's ``f_*`` calculate fields, so a form version
without those fields, or with a slip in one, still counts the same way.

Which date places a record in a period, and how one case counts once:
- ag_child_case: ``visit_date``; CP-03 uses ``abuse_date`` (the year the abuse
  happened or was detected). Several records of one ``case_id`` (new,
  follow-ups, closure) count once per period: the latest record of the case
  inside the period, by visit_date then submission_date.
- ag_tip_review: ``receipt_date``; the latest record of the ``case_id`` inside
  the period, by submission_date (every review of a case repeats its
  receipt_date).
- ag_commune_drugfree: ``period_year``; an annual record belongs to a period
  only when the whole year lies inside it. Two submissions for one
  commune-year count once (the latest submission).
A record without a case_id is its own case.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.units import Units, load_units, place

CHILD = "ag_child_case"
COMMUNE = "ag_commune_drugfree"
TIP = "ag_tip_review"

APPROVED, PENDING, REJECTED, DELETED = 0, 1, 2, 3
STATE_NAMES = ("approved", "pending", "rejected")
PENDING_STATES = {None, "hasIssues", "edited", "received"}

SEX_CODES = ("1", "2", "?")
SEX_LABELS = ("Nam", "Nữ", "Không rõ giới tính")
AGE_GROUPS = {
    CHILD: ((0, 5), (6, 10), (11, 15), (16, 200)),
    TIP: ((0, 15), (16, 17), (18, 29), (30, 200)),
}
NO_DAY = np.iinfo(np.int64).min


def age_labels(form: str) -> tuple[str, ...]:
    groups = AGE_GROUPS.get(form, ())
    labels = [f"{lo}-{hi}" if hi < 200 else f"{lo}+" for lo, hi in groups]
    return (*labels, "Không rõ tuổi")


@dataclass
class PreparedForm:
    """One form's live records as arrays, ready to be counted by period."""

    form: str
    n: int
    slot: np.ndarray
    sex: np.ndarray
    age: np.ndarray
    state: np.ndarray
    case: np.ndarray  # integer case key
    order: np.ndarray  # row order by case, then date, then submission time
    days: dict[str, np.ndarray]  # date column -> days since epoch (NO_DAY if none)
    year: np.ndarray | None  # period_year of the commune assessment
    values: dict[str, np.ndarray]  # "<code>:num" / "<code>:den" -> per record
    id_columns: pd.DataFrame  # submission_id, instance_id, review_state
    source_row: np.ndarray  # position in id_columns of each prepared row
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # The cell of each record: commune slot, sex, age group in one integer.
        self.key = (self.slot * self.n_sex + self.sex) * self.n_age + self.age

    @property
    def n_cells(self) -> int:
        return int(self.slot.max(initial=0) + 1) * self.n_sex * self.n_age

    @property
    def n_sex(self) -> int:
        return len(SEX_CODES) if self.form != COMMUNE else 1

    @property
    def n_age(self) -> int:
        return len(age_labels(self.form)) if self.form != COMMUNE else 1


class Answers:
    """Typed access to a form table's columns; a column missing from the
    table reads as unanswered and is reported once."""

    def __init__(self, frame: pd.DataFrame, form: str) -> None:
        self.frame = frame
        self.form = form
        self.missing: set[str] = set()

    def raw(self, name: str) -> np.ndarray:
        if name not in self.frame.columns:
            self.missing.add(name)
            return np.full(len(self.frame), None, dtype=object)
        return self.frame[name].to_numpy(dtype=object, na_value=None)

    def coded(self, name: str) -> tuple[np.ndarray, list[str]]:
        """The answers as codes into their distinct texts: a million answers
        hold a handful of distinct ones, so each test runs on those only. An
        unanswered row has code -1, which indexes the extra last slot of the
        per-text arrays built from the texts."""
        if name not in self.frame.columns:
            self.missing.add(name)
            return np.full(len(self.frame), -1, dtype=np.int64), []
        codes, uniques = pd.factorize(self.frame[name])
        return codes, [_as_text(u) for u in uniques]

    def _per_text(self, name: str, test) -> np.ndarray:
        codes, texts = self.coded(name)
        hits = np.array([test(t) for t in texts] + [False], dtype=bool)
        return hits[codes]

    def equals(self, name: str, *codes: str) -> np.ndarray:
        """Whether the select_one answer is one of ``codes`` (compared as text,
        so 1 and "1" agree)."""
        if name not in self.frame.columns:
            self.missing.add(name)
            return np.zeros(len(self.frame), dtype=bool)
        column = self.frame[name]
        result = np.zeros(len(column), dtype=bool)
        if pd.api.types.is_numeric_dtype(column):
            numbers = column.to_numpy(dtype=float, na_value=np.nan)
            for code in codes:
                if code.isdigit():
                    result |= numbers == int(code)
            return result
        # Plain comparisons beat coding the column when there are few codes.
        values = column.to_numpy(dtype=object)
        for code in codes:
            result |= values == code
        return result

    def number(self, name: str) -> np.ndarray:
        if name not in self.frame.columns:
            self.missing.add(name)
            return np.full(len(self.frame), np.nan)
        column = self.frame[name]
        if pd.api.types.is_numeric_dtype(column) and column.dtype != bool:
            return column.to_numpy(dtype=float, na_value=np.nan)
        codes, uniques = pd.factorize(column)
        numbers = pd.to_numeric(pd.Series(uniques, dtype=object), errors="coerce")
        return np.append(numbers.to_numpy(dtype=float), np.nan)[codes]

    def choices(self, name: str) -> list[set[str]]:
        """The codes of a select_multiple answer, as sets (small forms only)."""
        return [set(str(v).split()) if v else set() for v in self.raw(name)]

    def any_choice_but(self, name: str, excluded: str) -> np.ndarray:
        """Whether a select_multiple holds an answer other than ``excluded``."""
        answered = self._per_text(name, lambda text: text.strip() != "")
        flag = f"{name}__{excluded}"
        if flag in self.frame.columns:
            chose = self.frame[flag].astype(object).fillna(False).to_numpy(dtype=bool)
        else:
            chose = self._per_text(name, lambda text: excluded in text.split())
        return answered & ~chose

    def days(self, name: str) -> np.ndarray:
        if name not in self.frame.columns:
            self.missing.add(name)
            return np.full(len(self.frame), NO_DAY, dtype=np.int64)
        dates = pd.to_datetime(self.frame[name], errors="coerce")
        if getattr(dates.dt, "tz", None) is not None:
            dates = dates.dt.tz_convert("Asia/Ho_Chi_Minh").dt.tz_localize(None)
        days = dates.to_numpy(dtype="datetime64[D]").astype(np.int64)
        return np.where(dates.isna().to_numpy(), NO_DAY, days)


def _as_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _state(review_state: pd.Series) -> tuple[np.ndarray, list[str]]:
    values = review_state.to_numpy(dtype=object)
    state = np.full(len(values), PENDING, dtype=np.int8)
    state[values == "approved"] = APPROVED
    state[values == "rejected"] = REJECTED
    known = {"approved", "rejected"} | PENDING_STATES
    texts = {v for v in set(values) if isinstance(v, str)}
    unknown = sorted(texts - known)
    warnings = []
    if unknown:
        warnings.append(f"trạng thái duyệt không rõ {unknown}; tính là chờ duyệt")
    return state, warnings


def _sex(answers: Answers) -> tuple[np.ndarray, int]:
    male = answers.equals("sex", "1")
    female = answers.equals("sex", "2")
    sex = np.where(male, 0, np.where(female, 1, 2)).astype(np.int64)
    return sex, int((sex == 2).sum())


def _age(answers: Answers, columns: tuple[str, ...], date_column: str) -> np.ndarray:
    """Age group index: the first of the age fields ``columns`` answered, else
    from dob at the record's date."""
    years = answers.number(columns[0])
    for column in columns[1:]:
        years = np.where(np.isnan(years), answers.number(column), years)
    if "dob" in answers.frame.columns and date_column in answers.frame.columns:
        dob = answers.days("dob")
        at = answers.days(date_column)
        from_dob = np.where(
            (dob != NO_DAY) & (at != NO_DAY), np.floor((at - dob) / 365.25), np.nan
        )
        years = np.where(np.isnan(years), from_dob, years)
    groups = AGE_GROUPS[answers.form]
    age = np.full(len(years), len(groups), dtype=np.int64)
    for i, (lo, hi) in enumerate(groups):
        age[(years >= lo) & (years <= hi)] = i
    return age


def _case_keys(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Integer key per case; a record without a case id is its own case."""
    if column in frame.columns:
        codes, uniques = pd.factorize(frame[column])
        is_blank = np.append(np.asarray(uniques, dtype=object) == "", True)
        blank = is_blank[codes]
    else:
        codes = np.full(len(frame), -1, dtype=np.int64)
        blank = np.ones(len(frame), dtype=bool)
    codes = codes.astype(np.int64)
    codes[blank] = codes.max(initial=-1) + 1 + np.arange(int(blank.sum()))
    return codes


def _submitted_days(frame: pd.DataFrame) -> np.ndarray:
    stamps = pd.to_datetime(frame["submission_date"], utc=True, errors="coerce")
    return stamps.to_numpy(dtype="datetime64[us]").astype(np.int64)


def _child_values(a: Answers) -> dict[str, np.ndarray]:
    csc = a.equals("is_csc", "1")
    supported = a.any_choice_but("support_received", "none")
    managed = a.equals("is_managed", "1")
    at_risk = a.equals("at_risk_csc", "1")
    abused = a.equals("abused", "1")
    abuse_or_risk = abused | a.equals("high_risk_abuse", "1")
    plan = a.equals("has_plan", "1")
    return {
        "CP-01:num": csc & supported,
        "CP-01:den": csc,
        "CP-02:num": csc,
        "CP-03:num": abused,
        "CP-04:num": abuse_or_risk & plan,
        "CP-04:den": abuse_or_risk,
        "CP-05:num": at_risk & managed & supported,
        "CP-05:den": at_risk,
        "CP-06:num": csc & managed,
        "CP-06:den": csc,
    }


def _commune_values(a: Answers) -> dict[str, np.ndarray]:
    def count(*names: str) -> np.ndarray:
        return sum(np.nan_to_num(a.number(name)) for name in names)

    in_rehab = ("n_rehab_family_vol", "n_rehab_comm_vol", "n_rehab_comm_comp")
    return {
        "DR-01:num": count("n_users_counselled"),
        "DR-01:den": count("n_users_managed"),
        "DR-04:num": count(*in_rehab),
        "DR-06:num": count("n_decision_executed"),
        "DR-06:den": count("n_decision_compulsory"),
        "DR-07:num": count("n_postrehab_managed"),
        "DR-07:den": count("n_completed_return"),
        "DR-08:num": count("n_job_referral_post"),
        "DR-09:num": count("n_voc_counsel"),
        "DR-09:den": count(*in_rehab),
        "DR-10b:num": count("n_voc_trained"),
        "DR-11:num": count("n_loans"),
        "DR-12:num": count("n_job_referral_inrehab"),
        "DR-13:num": a.equals("recog_status", "new", "maintained"),
        "DR-14:num": a.equals("vswt_status", "new", "consolidated"),
        "DR-17:num": a.equals("drug_comm", "1"),
        "PR-02:num": np.nan_to_num(a.number("prost_comm_quarters")) >= 4,
    }


def _protection_weight(a: Answers) -> np.ndarray:
    """TV-04 counts victims and relatives: a case weighs 1 for the victim (when
    protection is for the victim, or for whom is not said) plus the relatives
    needing protection."""
    relatives = np.nan_to_num(a.number("n_relatives_protect"))
    weights = []
    for chosen, n_rel in zip(a.choices("protection_for"), relatives, strict=True):
        if not chosen:
            weights.append(1.0)
            continue
        victim = 1.0 if "victim" in chosen else 0.0
        weights.append(victim + (n_rel if "relatives" in chosen else 0.0))
    return np.asarray(weights, dtype=float)


def _regimes(a: Answers, name: str) -> list[set[str]]:
    """The support regimes chosen; "none" (no need, nothing received) is the
    answer that there are none, so it counts as no regime."""
    return [chosen - {"none"} for chosen in a.choices(name)]


def _tip_values(a: Answers) -> dict[str, np.ndarray]:
    victim = a.equals("id_outcome", "victim")
    needed = _regimes(a, "support_needed")
    received = _regimes(a, "support_received")
    has_need = victim & np.array([bool(n) for n in needed], dtype=bool)
    need_met = np.array(
        [n <= r for n, r in zip(needed, received, strict=True)], dtype=bool
    )
    supported = np.array([bool(r) for r in received], dtype=bool)
    counselled = np.array([("psych" in r and len(r) > 1) for r in received], dtype=bool)
    wants_protection = a.equals("protection_needed", "1") & ~a.equals(
        "protection_refused", "1"
    )
    protected = a.any_choice_but("protection_measures", "none")
    weight = np.where(wants_protection, _protection_weight(a), 0.0)
    return {
        "TV-01:num": a.equals("verif_started", "1"),
        "TV-01:den": np.ones(len(victim), dtype=bool),
        "TV-02:num": victim & supported,
        "TV-02:den": victim,
        "TV-03:num": has_need & need_met,
        "TV-03:den": has_need,
        "TV-04:num": np.where(protected, weight, 0.0),
        "TV-04:den": weight,
        "TV-06:num": victim & counselled,
        "TV-06:den": victim,
    }


REQUIRED = ("submission_id", "review_state", "submission_date")


@dataclass
class _Rows:
    """What differs between the forms: dates, flags, breakdowns, cases, order."""

    days: dict[str, np.ndarray]
    values: dict[str, np.ndarray]
    sex: np.ndarray
    age: np.ndarray
    case: np.ndarray
    year: np.ndarray | None
    order: np.ndarray
    no_sex: int = 0


def _child_rows(answers: Answers, submitted: np.ndarray) -> _Rows:
    days = {
        "visit_date": answers.days("visit_date"),
        "abuse_date": answers.days("abuse_date"),
    }
    sex, no_sex = _sex(answers)
    case = _case_keys(answers.frame, "case_id")
    order = np.lexsort((submitted, days["visit_date"], case))
    age = _age(answers, ("age_years",), "visit_date")
    values = _child_values(answers)
    return _Rows(days, values, sex, age, case, None, order, no_sex)


def _tip_rows(answers: Answers, submitted: np.ndarray) -> _Rows:
    days = {"receipt_date": answers.days("receipt_date")}
    sex, no_sex = _sex(answers)
    case = _case_keys(answers.frame, "case_id")
    order = np.lexsort((submitted, case))
    # age_at_receipt is the form's: from dob, else the age declared without
    # one; age_declared is read too, for a record whose calculation is empty.
    age = _age(answers, ("age_at_receipt", "age_declared"), "receipt_date")
    return _Rows(days, _tip_values(answers), sex, age, case, None, order, no_sex)


def _commune_rows(answers: Answers, submitted, slot, units: Units) -> _Rows:
    """One case per commune (a commune-year is assessed once); a record
    without a known commune is its own case."""
    frame = answers.frame
    codes = np.asarray(units.slot_codes, dtype=object)[slot]
    ids = np.where(units.slot_real[slot], codes, "#" + frame["submission_id"])
    case = pd.factorize(ids)[0].astype(np.int64)
    year = np.nan_to_num(answers.number("period_year"), nan=-1).astype(np.int64)
    order = np.lexsort((submitted, year, case))
    zeros = np.zeros(len(frame), dtype=np.int64)
    return _Rows({}, _commune_values(answers), zeros, zeros, case, year, order)


def _place(form: str, frame: pd.DataFrame, units: Units):
    prefix = "res_" if form == TIP else ""
    return place(
        frame.get(f"{prefix}commune", _none(frame)),
        frame.get(f"{prefix}district", _none(frame)),
        units=units,
    )


def prepare_form(
    form: str, frame: pd.DataFrame, *, units: Units | None = None
) -> PreparedForm:
    if form not in (CHILD, TIP, COMMUNE):
        raise ValueError(f"no indicator is computed from form {form!r}")
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise ValueError(f"table of form {form} lacks standard column(s) {missing}")
    units = units or load_units()
    frame = frame.reset_index(drop=True)
    answers = Answers(frame, form)
    state, warnings = _state(frame["review_state"])
    if "deleted_at" in frame:
        state[frame["deleted_at"].notna().to_numpy()] = DELETED
    slot, geo = _place(form, frame, units)
    warnings += [f"{form}: {w}" for w in geo]

    submitted = _submitted_days(frame)
    if form == CHILD:
        rows = _child_rows(answers, submitted)
    elif form == TIP:
        rows = _tip_rows(answers, submitted)
    else:
        rows = _commune_rows(answers, submitted, slot, units)
    warnings += _answer_warnings(form, rows, answers)
    return _ordered(form, frame, slot, state, rows, warnings)


PERIOD_FIELD = {CHILD: "visit_date", TIP: "receipt_date", COMMUNE: "period_year"}


def _answer_warnings(form: str, rows: _Rows, answers: Answers) -> list[str]:
    warnings = []
    field_name = PERIOD_FIELD[form]
    undated = (
        int((rows.year < 0).sum())
        if rows.year is not None
        else int((rows.days[field_name] == NO_DAY).sum())
    )
    if undated:
        warnings.append(
            f"{form}: {undated} phiếu không có {field_name} nên không thuộc kỳ "
            "nào và không được tính"
        )
    if rows.no_sex:
        warnings.append(
            f"{form}: {rows.no_sex} phiếu không ghi giới tính; tính vào "
            "'Không rõ giới tính'"
        )
    if answers.missing:
        warnings.append(
            f"{form}: bảng thiếu cột {sorted(answers.missing)}; coi như chưa trả lời"
        )
    return warnings


def _ordered(form, frame, slot, state, rows: _Rows, warnings) -> PreparedForm:
    """Rows put in case, date, submission order once, so that selecting a
    period later is a mask and a comparison with the next row, no sort."""
    order = rows.order
    id_columns = pd.DataFrame(
        {
            "submission_id": frame["submission_id"],
            "instance_id": frame.get("instance_id", _none(frame)),
            "review_state": frame["review_state"],
        }
    )
    return PreparedForm(
        form=form, n=len(frame), slot=slot[order], sex=rows.sex[order],
        age=rows.age[order], state=state[order], case=rows.case[order],
        order=np.arange(len(frame)),
        days={name: d[order] for name, d in rows.days.items()},
        year=None if rows.year is None else rows.year[order],
        values={k: np.asarray(v)[order] for k, v in rows.values.items()},
        id_columns=id_columns, source_row=order, warnings=warnings,
    )  # fmt: skip


def _none(frame: pd.DataFrame) -> pd.Series:
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)
