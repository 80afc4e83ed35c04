"""Encrypted submissions, submission attachments, form media and form versions."""

from tests.central_sim import forms
from tests.central_sim.calls import OPENROSA, XML, openrosa_post, table


def test_encrypted_submission__shows_only_id_and_system(admin_http):
    admin_http.post(
        f"{admin_http.project}/forms?publish=true", content=forms.encrypted_xform()
    ).raise_for_status()
    instance_id = forms.new_instance_id()
    envelope = forms.encrypted_envelope(instance_id)
    encrypted = {"submission.xml.enc": ("submission.xml.enc", b"\x00\x01", "a/b")}

    posted = openrosa_post(
        admin_http, f"{admin_http.project}/submission", envelope, encrypted
    )

    row = table(admin_http).json()["value"][0]
    csv = admin_http.get(f"{admin_http.form}/submissions.csv").text.splitlines()
    assert posted.status_code == 201
    assert list(row) == ["__id", "__system"]
    assert row["__system"]["status"] == "notDecrypted"
    assert (
        row["__system"]["attachmentsPresent"],
        row["__system"]["attachmentsExpected"],
    ) == (1, 1)
    assert ",not decrypted," in csv[1]


def test_submission_attachment__listed_and_downloaded(admin_http):
    xml = forms.photo_xform()
    admin_http.post(f"{admin_http.project}/forms?publish=true", content=xml)
    instance_id = forms.new_instance_id()
    submission = forms.submission(instance_id=instance_id).replace(
        "</location>", "</location><photo>p.jpg</photo>"
    )
    photo = {"p.jpg": ("p.jpg", b"JPEGDATA", "image/jpeg")}

    openrosa_post(admin_http, f"{admin_http.project}/submission", submission, photo)

    base = f"{admin_http.form}/submissions/{instance_id}/attachments"
    assert admin_http.get(base).json() == [{"name": "p.jpg", "exists": True}]
    assert admin_http.get(f"{base}/p.jpg").content == b"JPEGDATA"
    system = table(admin_http).json()["value"][0]["__system"]
    assert (system["attachmentsPresent"], system["attachmentsExpected"]) == (1, 1)


def test_form_media__uploaded_to_draft__appears_in_manifest(admin_http):
    xml = forms.media_xform()
    admin_http.post(f"{admin_http.project}/forms", content=xml).raise_for_status()
    expected = admin_http.get(f"{admin_http.form}/draft/attachments").json()

    uploaded = admin_http.post(
        f"{admin_http.form}/draft/attachments/communes.csv",
        content=b"name,label\n30280,Long Xuyen\n",
        headers={"Content-Type": "text/csv"},
    )
    admin_http.post(f"{admin_http.form}/draft/publish").raise_for_status()
    manifest = admin_http.get(f"{admin_http.form}/manifest", headers=OPENROSA)

    assert [(a["name"], a["exists"]) for a in expected] == [("communes.csv", False)]
    assert uploaded.json()["exists"] is True
    assert "<filename>communes.csv</filename>" in manifest.text
    download = admin_http.get(f"{admin_http.form}/attachments/communes.csv")
    assert download.content.startswith(b"name,label")


def test_new_version__old_submissions_show_through_new_fields(admin_http):
    admin_http.post(f"{admin_http.project}/forms?publish=true", content=forms.xform())
    admin_http.post(
        f"{admin_http.form}/submissions", content=forms.submission(), headers=XML
    ).raise_for_status()
    newer = forms.xform("v2").replace(b"<income/>", b"<income/><extra/>")
    newer = newer.replace(
        b'<bind nodeset="/data/income" type="decimal"/>',
        b'<bind nodeset="/data/income" type="decimal"/>'
        b'<bind nodeset="/data/extra" type="string"/>',
    )

    admin_http.post(f"{admin_http.form}/draft", content=newer).raise_for_status()
    admin_http.post(f"{admin_http.form}/draft/publish").raise_for_status()

    row = table(admin_http).json()["value"][0]
    assert "extra" in row and row["extra"] is None
    assert row["__system"]["formVersion"] == "v1"
    versions = admin_http.get(f"{admin_http.form}/versions").json()
    assert [v["version"] for v in versions] == ["v2", "v1"]
