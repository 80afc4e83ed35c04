"""Throughput of normalization alone: synthetic ledger rows of a realistic form
with a repeat, normalized in pages of 5,000 (the pull's page size) and
committed page by page. Prints figures; asserts nothing.

    .venv/bin/python -m benchmarks.normalize_throughput [--rows 100000]
        [--database-url URL]   # default: a fresh SQLite file in a temp dir
"""

import argparse
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pyxform.xls2xform import convert
from sqlalchemy import insert, select
from sqlmodel import Session

from server.db import make_engine, upgrade
from server.submissions.models import Submission, SubmissionVersion
from server.submissions.normalize import normalize_batch, register_form_version

FORM = "bench_child_case"
PAGE = 5000
XLSFORM = """
| survey |
| | type | name | label |
| | select_one district | district | Huyện |
| | text | commune | Xã |
| | text | case_id | Mã hồ sơ |
| | text | child_name | Họ tên |
| | select_one sex | sex | Giới tính |
| | date | birth_date | Ngày sinh |
| | integer | age | Tuổi |
| | select_multiple needs | needs | Nhu cầu |
| | decimal | allowance | Trợ cấp |
| | dateTime | reported_at | Thời điểm |
| | geopoint | location | Vị trí |
| | begin_group | assessment | Đánh giá |
| | select_one yes_no | at_risk | Nguy cơ |
| | integer | risk_score | Điểm |
| | text | notes | Ghi chú |
| | end_group | | |
| | begin_repeat | service | Dịch vụ |
| | select_one service_type | service_type | Loại |
| | date | service_date | Ngày |
| | decimal | cost | Chi phí |
| | end_repeat | | |
| choices |
| | list_name | name | label |
| | district | 883 | Long Xuyên |
| | district | 884 | Châu Đốc |
| | sex | m | Nam |
| | sex | f | Nữ |
| | yes_no | 1 | Có |
| | yes_no | 0 | Không |
| | needs | food | Lương thực |
| | needs | school | Học tập |
| | needs | health | Y tế |
| | needs | shelter | Chỗ ở |
| | service_type | counsel | Tư vấn |
| | service_type | medical | Y tế |
| settings |
| | form_id | version |
| | bench_child_case | v1 |
"""


def synthetic_row(number: int, rng: random.Random) -> dict:
    instance_id = f"uuid:{uuid.UUID(int=rng.getrandbits(128))}"
    services = [
        {
            "service_type": rng.choice(["counsel", "medical"]),
            "service_date": f"2026-10-{rng.randint(1, 28):02d}",
            "cost": round(rng.uniform(0, 500), 2),
            "__id": uuid.UUID(int=rng.getrandbits(128)).hex,
        }
        for _ in range(rng.randint(0, 4))
    ]
    return {
        "district": rng.choice(["883", "884"]),
        "commune": "30280",
        "case_id": f"C{number:06d}",
        "child_name": f"Nguyễn Văn {number}",
        "sex": rng.choice(["m", "f"]),
        "birth_date": f"2015-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "age": rng.randint(1, 15),
        "needs": " ".join(rng.sample(["food", "school", "health", "shelter"], 2)),
        "allowance": round(rng.uniform(0, 1000), 1),
        "reported_at": f"2026-11-01T08:{rng.randint(0, 59):02d}:00.000+07:00",
        "location": {
            "type": "Point",
            "coordinates": [105.4 + rng.random(), 10.3 + rng.random(), 3.0],
            "properties": {"accuracy": 5.0},
        },
        "assessment": {"at_risk": "1", "risk_score": rng.randint(0, 10), "notes": "…"},
        "service": services,
        "meta": {"instanceID": instance_id},
        "__id": instance_id,
        "__system": {
            "submissionDate": "2026-11-01T03:00:00.000Z",
            "updatedAt": None,
            "submitterId": "5",
            "reviewState": None,
            "edits": 0,
            "formVersion": "v1",
            "deletedAt": None,
            "status": None,
        },
    }


def seed(engine, rows: int) -> None:
    rng = random.Random(83)  # noqa: S311 (synthetic data, not secrets)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    with engine.begin() as connection:
        for offset in range(0, rows, PAGE):
            odata = [synthetic_row(n, rng) for n in range(offset, offset + PAGE)]
            connection.execute(
                insert(SubmissionVersion),
                [_version(row) for row in odata],
            )
            connection.execute(
                insert(Submission),
                [
                    _submission(row, start + timedelta(seconds=i))
                    for i, row in enumerate(odata)
                ],
            )


def _version(row: dict) -> dict:
    return {
        "project_id": 1,
        "xml_form_id": FORM,
        "submission_id": row["__id"],
        "instance_id": row["__id"],
        "form_version": "v1",
        "odata": row,
        "received_at": datetime.now(UTC),
    }


def _submission(row: dict, submitted: datetime) -> dict:
    now = datetime.now(UTC)
    return {
        "project_id": 1,
        "xml_form_id": FORM,
        "submission_id": row["__id"],
        "current_instance_id": row["__id"],
        "form_version": "v1",
        "submission_date": submitted,
        "edits": 0,
        "submitter_id": "5",
        "state": "pending",
        "first_seen_at": now,
        "last_seen_at": now,
    }


def run(database_url: str, rows: int) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    seed(engine, rows)
    with Session(engine) as session:
        register_form_version(
            session=session,
            project_id=1,
            xml_form_id=FORM,
            version="v1",
            xml=convert(xlsform=XLSFORM, file_type=".md").xform,
        )
        session.commit()
    spent, cpu, done = 0.0, 0.0, 0
    with Session(engine) as session:
        for page in _pages(session):
            began, began_cpu = time.perf_counter(), time.process_time()
            counts = normalize_batch(
                session=session, project_id=1, xml_form_id=FORM, items=page
            )
            session.commit()
            spent += time.perf_counter() - began
            cpu += time.process_time() - began_cpu
            done += counts["normalized"]
            session.expunge_all()
    dialect = engine.dialect.name
    sys.stdout.write(f"{dialect}: normalized {done} submissions in {spent:.1f} s\n")
    sys.stdout.write(
        f"{dialect}: {done / spent:,.0f} submissions/s (pages of {PAGE})\n"
    )
    # On a busy machine wall time mostly measures the neighbours; the CPU time
    # of this process is what normalization itself costs (PostgreSQL's own
    # work runs in its server process and is not in it).
    sys.stdout.write(f"{dialect}: {cpu:.1f} s CPU in this process\n")


def _pages(session):
    last = 0
    while True:
        query = (
            select(Submission, SubmissionVersion)
            .join(
                SubmissionVersion,
                SubmissionVersion.submission_id == Submission.submission_id,
            )
            .where(Submission.xml_form_id == FORM, Submission.id > last)
            .order_by(Submission.id)
            .limit(PAGE)
        )
        page = [tuple(pair) for pair in session.execute(query).all()]
        if not page:
            return
        last = page[-1][0].id
        yield page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        run(url, args.rows)


if __name__ == "__main__":
    main()
