"""Encrypted submissions, submission attachments, form media and form versions."""

import httpx
import pytest

from tests.central_sim import forms
from tests.central_sim.test_http import OPENROSA, XML, openrosa_post, table


@pytest.fixture
def session(central_sim, central_project_id):
    client = httpx.Client(base_url=f"{central_sim.url}/v1", timeout=10)
    token = client.post(
        "/sessions",
        json={"email": central_sim.email, "password": central_sim.password},
    ).json()["token"]
    client.headers["Authorization"] = f"Bearer {token}"
    client.project = f"/projects/{central_project_id}"
    client.form = f"{client.project}/forms/{forms.FORM_ID}"
    yield client
    client.close()


def test_encrypted_submission__shows_only_id_and_system(session):
    session.post(
        f"{session.project}/forms?publish=true", content=forms.encrypted_xform()
    ).raise_for_status()
    instance_id = forms.new_instance_id()
    envelope = forms.encrypted_envelope(instance_id)
    encrypted = {"submission.xml.enc": ("submission.xml.enc", b"\x00\x01", "a/b")}

    posted = openrosa_post(
        session, f"{session.project}/submission", envelope, encrypted
    )

    row = table(session).json()["value"][0]
    csv = session.get(f"{session.form}/submissions.csv").text.splitlines()
    assert posted.status_code == 201
    assert list(row) == ["__id", "__system"]
    assert row["__system"]["status"] == "notDecrypted"
    assert (
        row["__system"]["attachmentsPresent"],
        row["__system"]["attachmentsExpected"],
    ) == (1, 1)
    assert ",not decrypted," in csv[1]


def test_submission_attachment__listed_and_downloaded(session):
    xml = forms.photo_xform()
    session.post(f"{session.project}/forms?publish=true", content=xml)
    instance_id = forms.new_instance_id()
    submission = forms.submission(instance_id=instance_id).replace(
        "</location>", "</location><photo>p.jpg</photo>"
    )
    photo = {"p.jpg": ("p.jpg", b"JPEGDATA", "image/jpeg")}

    openrosa_post(session, f"{session.project}/submission", submission, photo)

    base = f"{session.form}/submissions/{instance_id}/attachments"
    assert session.get(base).json() == [{"name": "p.jpg", "exists": True}]
    assert session.get(f"{base}/p.jpg").content == b"JPEGDATA"
    system = table(session).json()["value"][0]["__system"]
    assert (system["attachmentsPresent"], system["attachmentsExpected"]) == (1, 1)


def test_form_media__uploaded_to_draft__appears_in_manifest(session):
    xml = forms.media_xform()
    session.post(f"{session.project}/forms", content=xml).raise_for_status()
    expected = session.get(f"{session.form}/draft/attachments").json()

    uploaded = session.post(
        f"{session.form}/draft/attachments/communes.csv",
        content=b"name,label\n30280,Long Xuyen\n",
        headers={"Content-Type": "text/csv"},
    )
    session.post(f"{session.form}/draft/publish").raise_for_status()
    manifest = session.get(f"{session.form}/manifest", headers=OPENROSA)

    assert [(a["name"], a["exists"]) for a in expected] == [("communes.csv", False)]
    assert uploaded.json()["exists"] is True
    assert "<filename>communes.csv</filename>" in manifest.text
    download = session.get(f"{session.form}/attachments/communes.csv")
    assert download.content.startswith(b"name,label")


def test_new_version__old_submissions_show_through_new_fields(session):
    session.post(f"{session.project}/forms?publish=true", content=forms.xform())
    session.post(
        f"{session.form}/submissions", content=forms.submission(), headers=XML
    ).raise_for_status()
    newer = forms.xform("v2").replace(b"<income/>", b"<income/><extra/>")
    newer = newer.replace(
        b'<bind nodeset="/data/income" type="decimal"/>',
        b'<bind nodeset="/data/income" type="decimal"/>'
        b'<bind nodeset="/data/extra" type="string"/>',
    )

    session.post(f"{session.form}/draft", content=newer).raise_for_status()
    session.post(f"{session.form}/draft/publish").raise_for_status()

    row = table(session).json()["value"][0]
    assert "extra" in row and row["extra"] is None
    assert row["__system"]["formVersion"] == "v1"
    versions = session.get(f"{session.form}/versions").json()
    assert [v["version"] for v in versions] == ["v2", "v1"]
