"""Requests the simulator's tests make again and again."""

import httpx

from tests.central_sim import forms

XML = {"Content-Type": "application/xml"}
OPENROSA = {"X-OpenRosa-Version": "1.0"}


def submit(api, **kwargs) -> str:
    """A REST submission of the test form; returns its instance id."""
    instance_id = kwargs.pop("instance_id", None) or forms.new_instance_id()
    xml = forms.submission(instance_id=instance_id, **kwargs)
    api.post(f"{api.form}/submissions", content=xml, headers=XML).raise_for_status()
    return instance_id


def openrosa_post(client, url: str, xml: str, files=None) -> httpx.Response:
    parts = {"xml_submission_file": ("submission.xml", xml, "text/xml")}
    parts.update(files or {})
    return client.post(url, files=parts, headers=OPENROSA)


def table(api, name="Submissions", **params) -> httpx.Response:
    return api.get(f"{api.form}.svc/{name}", params=params)
