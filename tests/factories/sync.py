"""Builders for sync tests and the sync benchmark: a realistic household-visit
form with a group, selects, a geopoint, a photo and a repeat, and submission XML
documents for it."""

import random
import re
import uuid
from collections.abc import Iterator
from datetime import datetime

XML_FORM_ID = "sync_visit"

_FORM = """<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml"
 xmlns:jr="http://openrosa.org/javarosa" xmlns:odk="http://www.opendatakit.org/xforms"
 xmlns:orx="http://openrosa.org/xforms">
  <h:head>
    <h:title>Sync visit</h:title>
    <model odk:xforms-version="1.0.0">
      <instance>
        <data id="sync_visit" version="{version}">
          <district/>
          <commune/>
          <child>
            <name/>
            <age/>
            <weight/>
          </child>
          <visit_date/>
          <needs/>
          <location/>
          <photo/>{extra_element}
          <member jr:template="">
            <member_name/>
            <member_age/>
          </member>
          <meta>
            <instanceID/>
            <instanceName/>
          </meta>
        </data>
      </instance>
      <bind nodeset="/data/district" type="string"/>
      <bind nodeset="/data/commune" type="string"/>
      <bind nodeset="/data/child/name" type="string"/>
      <bind nodeset="/data/child/age" type="int"/>
      <bind nodeset="/data/child/weight" type="decimal"/>
      <bind nodeset="/data/visit_date" type="date"/>
      <bind nodeset="/data/needs" type="string"/>
      <bind nodeset="/data/location" type="geopoint"/>
      <bind nodeset="/data/photo" type="binary"/>{extra_bind}
      <bind nodeset="/data/member/member_name" type="string"/>
      <bind nodeset="/data/member/member_age" type="int"/>
      <bind nodeset="/data/meta/instanceID" type="string" readonly="true()"
       jr:preload="uid"/>
      <bind nodeset="/data/meta/instanceName" type="string"
       calculate="concat('Visit ', /data/child/age)"/>
    </model>
  </h:head>
  <h:body>
    <select1 ref="/data/district">
      <label>District</label>
      <item><label>Long Xuyen</label><value>883</value></item>
      <item><label>Chau Doc</label><value>884</value></item>
    </select1>
    <select1 ref="/data/commune">
      <label>Commune</label>
      <item><label>My Binh</label><value>30280</value></item>
      <item><label>Chau Phu A</label><value>30316</value></item>
    </select1>
    <group ref="/data/child">
      <label>Child</label>
      <input ref="/data/child/name"><label>Name</label></input>
      <input ref="/data/child/age"><label>Age</label></input>
      <input ref="/data/child/weight"><label>Weight</label></input>
    </group>
    <input ref="/data/visit_date"><label>Visit date</label></input>
    <select ref="/data/needs">
      <label>Needs</label>
      <item><label>Food</label><value>food</value></item>
      <item><label>School</label><value>school</value></item>
      <item><label>Health</label><value>health</value></item>
    </select>
    <input ref="/data/location"><label>Location</label></input>
    <upload ref="/data/photo" mediatype="image/*">
      <label>Photo</label>
    </upload>{extra_body}
    <group ref="/data/member">
      <label>Member</label>
      <repeat nodeset="/data/member">
        <input ref="/data/member/member_name"><label>Name</label></input>
        <input ref="/data/member/member_age"><label>Age</label></input>
      </repeat>
    </group>
  </h:body>
</h:html>
"""


def form_xml(version: str = "v1", *, with_remark: bool = False) -> str:
    """The form; ``with_remark`` adds a text field, as a later version would."""
    return _FORM.format(
        version=version,
        extra_element="\n          <remark/>" if with_remark else "",
        extra_bind='\n      <bind nodeset="/data/remark" type="string"/>'
        if with_remark
        else "",
        extra_body='\n    <input ref="/data/remark"><label>Remark</label></input>'
        if with_remark
        else "",
    )


def new_instance_id() -> str:
    return f"uuid:{uuid.uuid4()}"


def submission_xml(
    instance_id: str | None = None,
    *,
    version: str = "v1",
    age: int | str = 9,
    members: int = 2,
    photo: str | None = None,
    deprecated_id: str | None = None,
    visit_date: str | None = None,
    seed: int = 0,
) -> str:
    """One submission. ``visit_date`` may be any text, to make one that breaks
    its type (Central itself turns a bad int into null, a bad date it passes on);
    ``deprecated_id`` makes it an edit of that earlier version."""
    instance_id = instance_id or new_instance_id()
    rng = random.Random(seed)
    repeat = "".join(
        f"<member><member_name>M{seed}-{i}</member_name>"
        f"<member_age>{rng.randint(1, 80)}</member_age></member>"
        for i in range(members)
    )
    deprecated = (
        f"<deprecatedID>{deprecated_id}</deprecatedID>" if deprecated_id else ""
    )
    return (
        f'<data id="{XML_FORM_ID}" version="{version}">'
        f"<district>{rng.choice(['883', '884'])}</district>"
        f"<commune>{rng.choice(['30280', '30316'])}</commune>"
        f"<child><name>Child {seed}</name><age>{age}</age>"
        f"<weight>{rng.randint(80, 400) / 10}</weight></child>"
        f"<visit_date>{visit_date or f'2026-11-{rng.randint(1, 28):02d}'}</visit_date>"
        f"<needs>{' '.join(rng.sample(['food', 'school', 'health'], 2))}</needs>"
        f"<location>10.38 105.43 {rng.randint(0, 20)} 5</location>"
        f"<photo>{photo or ''}</photo>"
        f"{repeat}"
        f"<meta><instanceID>{instance_id}</instanceID>{deprecated}"
        f"<instanceName>Visit {seed}</instanceName></meta>"
        "</data>"
    )


def many_submissions(count: int, *, start: int = 0) -> Iterator[str]:
    """``count`` distinct submissions with 0 to 4 household members each."""
    for n in range(start, start + count):
        yield submission_xml(members=n % 5, seed=n)


def submit_at(
    central_sim, project_id: int, created_at: datetime, *documents: str
) -> list[str]:
    """Submit straight into the simulator's store with a submission date of
    ``created_at``, as a row committed long ago (or late) would have; returns
    the instance ids. Incremental pulls only skip what lies before their
    window, so tests of what they pick up start from rows submitted earlier."""
    central_sim.store.bulk_submit(
        project_id, XML_FORM_ID, documents, created_at=created_at
    )
    return [_INSTANCE_ID.search(d).group(1) for d in documents]


_INSTANCE_ID = re.compile(r"<instanceID>([^<]+)</instanceID>")


class CentralActions:
    """What people do on Central, through its REST API as Collect and the
    Central web pages would: publish, submit, edit, review, delete, restore."""

    def __init__(self, client, project_id: int, xml_form_id: str = XML_FORM_ID):
        self.session = client.session
        self.project_id = project_id
        self.xml_form_id = xml_form_id

    def _url(self, tail: str = "") -> str:
        return f"projects/{self.project_id}/forms/{self.xml_form_id}{tail}"

    def _ok(self, response):
        assert response.status_code < 300, (response.status_code, response.text)
        return response.json()

    def publish(self, xml: str) -> None:
        self._ok(
            self.session.post(
                f"projects/{self.project_id}/forms?publish=true",
                data=xml.encode(),
                headers={"Content-Type": "application/xml"},
            )
        )

    def publish_version(self, xml: str, version: str) -> None:
        headers = {"Content-Type": "application/xml"}
        self._ok(
            self.session.post(self._url("/draft"), data=xml.encode(), headers=headers)
        )
        self._ok(self.session.post(self._url(f"/draft/publish?version={version}")))

    def submit(self, xml: str) -> str:
        body = self._ok(
            self.session.post(
                self._url("/submissions"),
                data=xml.encode(),
                headers={"Content-Type": "application/xml"},
            )
        )
        return body["instanceId"]

    def edit(self, submission_id: str, xml: str) -> None:
        self._ok(
            self.session.put(
                self._url(f"/submissions/{submission_id}"),
                data=xml.encode(),
                headers={"Content-Type": "application/xml"},
            )
        )

    def review(self, submission_id: str, state: str) -> None:
        self._ok(
            self.session.patch(
                self._url(f"/submissions/{submission_id}"), json={"reviewState": state}
            )
        )

    def delete(self, submission_id: str) -> None:
        self._ok(self.session.delete(self._url(f"/submissions/{submission_id}")))

    def restore(self, submission_id: str) -> None:
        self._ok(self.session.post(self._url(f"/submissions/{submission_id}/restore")))

    def attach(self, submission_id: str, name: str, content: bytes) -> None:
        self._ok(
            self.session.post(
                self._url(f"/submissions/{submission_id}/attachments/{name}"),
                data=content,
                headers={"Content-Type": "image/jpeg"},
            )
        )
