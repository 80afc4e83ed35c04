"""Indicator results as a terminal table, CSV for Excel, or JSON.

Headings are Vietnamese. CSV is UTF-8 with a byte-order mark (Excel on
Windows reads UTF-8 only with it) and every text is NFC, the form Vietnamese
keyboards and Excel expect. The terminal table shows the total of each unit;
CSV and JSON also carry the sex and age-group cells.
"""

import io
import json
import math
import unicodedata

import pandas as pd

HEADINGS_VI = {
    "indicator": "Mã chỉ tiêu",
    "name_vi": "Tên chỉ tiêu",
    "period": "Kỳ",
    "period_start": "Từ ngày",
    "period_end": "Đến ngày",
    "level": "Cấp",
    "unit_code": "Mã đơn vị",
    "unit_name": "Đơn vị",
    "parent_code": "Mã đơn vị cấp trên",
    "breakdown": "Phân tổ",
    "group": "Nhóm",
    "numerator": "Tử số",
    "denominator": "Mẫu số",
    "value": "Giá trị",
    "factor": "Đơn vị tính",
    "status_vi": "Ghi chú",
    "n_approved": "Số phiếu đã duyệt",
    "n_pending": "Số phiếu chờ duyệt",
    "n_rejected": "Số phiếu bị từ chối",
    "target": "Chỉ tiêu so sánh",
    "target_compared": "Chỉ tiêu (năm, mục)",
    "target_section": "Mục kế hoạch",
    "other_targets": "Chỉ tiêu khác trong kế hoạch",
    "gap": "Còn thiếu so với chỉ tiêu",
    "on_track": "Đúng tiến độ",
}
TABLE_COLUMNS = (
    "indicator", "period", "unit_name", "numerator", "denominator", "value",
    "target", "target_section",
    "gap", "on_track", "n_approved", "n_pending", "n_rejected", "status_vi",
)  # fmt: skip
LEVEL_VI = {"province": "Tỉnh", "district": "Huyện", "commune": "Xã"}
BREAKDOWN_VI = {"total": "Tổng", "sex": "Giới tính", "age_group": "Nhóm tuổi"}
FACTOR_VI = {"percent": "%", "count": "số lượng"}
ON_TRACK_VI = {True: "Có", False: "Không"}


def _nfc(value):
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


def vietnamese_frame(frame: pd.DataFrame) -> pd.DataFrame:
    shown = frame[[c for c in HEADINGS_VI if c in frame.columns]].copy()
    for column, words in (
        ("level", LEVEL_VI),
        ("breakdown", BREAKDOWN_VI),
        ("factor", FACTOR_VI),
    ):
        if column in shown:
            shown[column] = shown[column].map(words).fillna(shown[column])
    if "on_track" in shown:
        shown["on_track"] = shown["on_track"].map(
            lambda v: ON_TRACK_VI.get(v, "") if v is not None else ""
        )
    shown = shown.rename(columns=HEADINGS_VI)
    return shown.map(_nfc)


def to_csv(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    vietnamese_frame(frame).to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8-sig")


def records(frame: pd.DataFrame) -> list[dict]:
    """JSON-ready rows: NaN becomes null."""
    out = []
    for row in frame.to_dict(orient="records"):
        out.append({k: _clean(v) for k, v in row.items()})
    return out


def _clean(value):
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    return _nfc(value)


def to_json(frame: pd.DataFrame, warnings: list[str]) -> str:
    return json.dumps(
        {"indicators": records(frame), "warnings": warnings}, ensure_ascii=False
    )


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return (
            f"{value:,.1f}".replace(",", " ")
            if not value.is_integer()
            else (f"{int(value):,}".replace(",", " "))
        )
    return str(value)


def to_table(frame: pd.DataFrame) -> str:
    """A plain-text table of the unit totals, Vietnamese headings."""
    totals = frame[frame["breakdown"] == "total"]
    shown = vietnamese_frame(totals[list(TABLE_COLUMNS)])
    text = shown.map(_fmt)
    widths = {c: max(len(c), *(len(v) for v in text[c])) for c in text.columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in text.columns)]
    for row in text.itertuples(index=False):
        lines.append(
            "  ".join(
                v.ljust(widths[c]) for c, v in zip(text.columns, row, strict=True)
            )
        )
    return "\n".join(lines)
