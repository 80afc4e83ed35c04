"""GET /api/v1/indicators and the snapshot routes, on SQLite and PostgreSQL.

Expected figures (see conftest.sample_tables), Q3 2026, approved only:
CP-01 in 30280: 5 approved CSC records (4 assisted, 1 "none") -> 4/5 = 80%;
the edited one is pending, the deleted and the rejected ones never count.
"""

import unicodedata

import anyio
import httpx
import pytest
from sqlalchemy import text
from sqlmodel import Session

from server.app import create_app
from server.deps import database_session
from tests.factories.settings import make_settings


class Client:
    """Calls the ASGI app in-process. starlette's TestClient now asks for
    the httpx2 package, which the lock file does not carry; httpx's own ASGI
    transport does the same job."""

    def __init__(self, app) -> None:
        self.app = app

    def request(self, method: str, url: str, **kwargs) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://trogiup.test"
            ) as http:
                return await http.request(method, url, **kwargs)

        return anyio.run(send)

    def get(self, url: str, **kwargs) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs) -> httpx.Response:
        return self.request("POST", url, **kwargs)


@pytest.fixture
def client(form_tables, tmp_path):
    app = create_app(make_settings(data_dir=tmp_path))

    def session_override():
        with Session(form_tables) as session:
            yield session

    app.dependency_overrides[database_session] = session_override
    return Client(app)


def _row(payload, code, unit, breakdown="total", group=""):
    rows = [
        r
        for r in payload["indicators"]
        if r["indicator"] == code
        and r["unit_code"] == unit
        and r["breakdown"] == breakdown
        and r["group"] == group
    ]
    assert len(rows) == 1
    return rows[0]


def test_get_indicators__district_level__approved_only(client):
    response = client.get(
        "/api/v1/indicators", params={"period": "2026Q3", "level": "district"}
    )

    assert response.status_code == 200
    payload = response.json()
    row = _row(payload, "CP-01", "883")
    assert (row["numerator"], row["denominator"], row["value"]) == (4, 5, 80.0)
    # 30280: 5 approved, 1 edited, 1 rejected; 30283: 7 approved.
    assert (row["n_approved"], row["n_pending"], row["n_rejected"]) == (12, 1, 1)
    assert row["target"] == 90 and row["target_section"] == "III.2.1.b"
    assert {r["level"] for r in payload["indicators"] if r["indicator"] == "CP-01"} == {
        "district"
    }


def test_get_indicators__include_pending__edited_counts_once(client):
    response = client.get(
        "/api/v1/indicators",
        params={"period": "2026Q3", "level": "commune", "include_pending": "true"},
    )

    row = _row(response.json(), "CP-01", "30280")
    assert (row["numerator"], row["denominator"]) == (5, 6)


def test_get_indicators__other_register__no_data_source_yet(client):
    response = client.get("/api/v1/indicators", params={"period": "2026"})

    row = _row(response.json(), "GE-12", "89")
    assert row["status_vi"] == "chưa có nguồn dữ liệu"


def test_get_indicators__csv__utf8_bom_nfc_vietnamese_headings(client):
    response = client.get(
        "/api/v1/indicators",
        params={"period": "2026-07", "level": "province", "format": "csv"},
    )

    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")
    decoded = body.decode("utf-8-sig")
    assert decoded.splitlines()[0].startswith("Mã chỉ tiêu,Tên chỉ tiêu,Kỳ")
    assert unicodedata.is_normalized("NFC", decoded)


def test_get_indicators__bad_period__400_says_what_to_write(client):
    response = client.get("/api/v1/indicators", params={"period": "2026Q7"})

    assert response.status_code == 400
    assert response.json()["code"] == "trogiup.invalid_input"
    assert "2026Q3" in response.json()["message"]


def test_get_indicators__bad_level__400(client):
    response = client.get(
        "/api/v1/indicators", params={"period": "2026", "level": "hamlet"}
    )

    assert response.status_code == 400


def test_snapshot__frozen_figures_and_inputs__shown_again(client):
    created = client.post(
        "/api/v1/indicators/snapshots", json={"period": ["2026Q3"], "level": "commune"}
    )
    assert created.status_code == 201
    snapshot_id = created.json()["id"]

    shown = client.get(f"/api/v1/indicators/snapshots/{snapshot_id}").json()
    read = client.get(f"/api/v1/indicators/snapshots/{snapshot_id}/submissions")

    assert shown["data_hash"] == created.json()["data_hash"]
    assert shown["threshold"] == 5
    row = _row(shown, "CP-01", "30280")
    assert (row["numerator"], row["denominator"]) == (4, 5)
    versions = {r["instance_id"]: r["review_state"] for r in read.json()["submissions"]}
    assert versions["uuid:edited-v2"] == "edited"
    assert len(versions) == 21  # every submission read, deleted ones too


def test_snapshot_verify__review_change_after_snapshot__figures_that_moved_named(
    client, form_tables
):
    created = client.post(
        "/api/v1/indicators/snapshots", json={"period": ["2026Q3"], "level": "province"}
    ).json()
    unchanged = client.get(f"/api/v1/indicators/snapshots/{created['id']}/verify")
    assert unchanged.json()["unchanged"] is True
    assert unchanged.json()["reproduced"] is True

    with form_tables.begin() as conn:
        conn.execute(
            text(
                "UPDATE form_ag_child_case SET review_state = 'approved' "
                "WHERE instance_id = 'uuid:edited-v2'"
            )
        )
    changed = client.get(f"/api/v1/indicators/snapshots/{created['id']}/verify").json()

    assert changed["unchanged"] is False
    assert changed["reproduced"] is True
    assert (changed["submissions_gone"], changed["submissions_new"]) == (1, 1)
    cp01 = next(
        c for c in changed["first_changes"]
        if c["indicator"] == "CP-01" and c["breakdown"] == "total"
    )  # fmt: skip
    assert (cp01["then"]["numerator"], cp01["now"]["numerator"]) == (4, 5)


def test_snapshot__answers_changed_in_place__verify_names_the_figures(
    client, form_tables
):
    # A fix re-normalized the typed rows: same submissions, same review states,
    # other answers. The snapshot still gives its own figures; today's differ.
    created = client.post(
        "/api/v1/indicators/snapshots", json={"period": ["2026Q3"], "level": "province"}
    ).json()
    with form_tables.begin() as conn:
        conn.execute(
            text(
                "UPDATE form_ag_child_case "
                "SET support_received = 'none', support_received__none = TRUE"
            )
        )

    outcome = client.get(f"/api/v1/indicators/snapshots/{created['id']}/verify").json()

    assert outcome["reproduced"] is True and outcome["unchanged"] is False
    assert (outcome["submissions_gone"], outcome["submissions_new"]) == (0, 0)


def test_threshold__the_deployment_s_not_the_caller_s(form_tables, tmp_path):
    app = create_app(make_settings(data_dir=tmp_path, suppression_threshold=8))

    def session_override():
        with Session(form_tables) as session:
            yield session

    app.dependency_overrides[database_session] = session_override
    client = Client(app)
    response = client.get(
        "/api/v1/indicators",
        params={"period": "2026Q3", "level": "district", "threshold": "1"},
    )

    # 7 abused children in 30283's district: shown at 5, hidden at 8.
    assert _row(response.json(), "CP-04", "883")["status"] == "suppressed"


def test_snapshot__unknown_id__404(client):
    response = client.get("/api/v1/indicators/snapshots/999")

    assert response.status_code == 404
