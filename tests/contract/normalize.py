"""Replace the values that differ between two servers, and only those.

A response from a real Central and one from the simulator can be compared
once server-chosen ids, tokens, timestamps and the server's own address are
replaced by stable placeholders. Keys, key order, JSON types and nulls stay as
they are, so a placeholder says which type the value had: an integer id
becomes "<admin:int>", the same id as a string "<admin:str>".

Timestamps are labelled the way ids are: the first one seen is "<time#1>", a
later equal one keeps that label and a different one gets the next number. So
a recording still shows which moments are the same one (a submission's
``submissionDate`` before and after an edit, a version's ``createdAt`` and its
submission's), though not the moments themselves.
"""

import csv
import io
import re
import zipfile
from typing import Any
from xml.etree import ElementTree

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)")
PROJECT_PATH = re.compile(r"/projects/\d+(?=/|$|\b)")

# Keys whose value is an id the server chose, with the kind of thing it names.
# A plain "id" is named by the object around it (see Normalizer.json).
ID_KEYS = {
    "projectId": "project",
    "actorId": "actor",
    "submitterId": "actor",
    "acteeId": "actee",
    "submissionId": "submission",
    "submissionDefId": "submission_def",
    "formId": "form",
    "keyId": "key",
}
# Keys whose value is a random secret or a server-made random string.
SECRET_KEYS = {"token", "csrf", "draftToken", "enketoId", "enketoOnceId"}
ACTOR_TYPES = {"user", "field_key", "public_link", "singleUse"}
# Keys whose timestamps are labelled on a counter of their own. Central reads
# the clock afresh in each statement, so two moments written a fraction of a
# millisecond apart in one request are equal in some runs and not in others
# (seen at 4f5943d: a form's updatedAt and publishedAt on publish, an audit's
# loggedAt and the review it logs, a session's createdAt and lastLoginAt).
# Compared only among themselves, their labels say the same in every run.
CLOCKS = {
    "updatedAt": "updated",
    "deletedAt": "deleted",
    "loggedAt": "logged",
    "lastLoginAt": "login",
    "expiresAt": "expires",
}
# CSV export columns holding an actor id.
CSV_ACTOR_COLUMNS = {"SubmitterID"}


class Normalizer:
    """Remembers which volatile values were seen, so equal values stay equal."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._labels: dict[tuple[str, str], str] = {}
        self._counts: dict[str, int] = {}
        self._secrets: dict[str, str] = {}
        self._times: dict[tuple[str, str], str] = {}
        self._time_counts: dict[str, int] = {}

    def name(self, kind: str, value: Any, label: str) -> None:
        """Give a known id (the admin's actor id, the project id) a label."""
        self._labels[(kind, str(value))] = label

    def secret(self, value: str, label: str) -> None:
        """Replace this string wherever it appears (URLs, XML, paths)."""
        self._secrets[value] = f"<{label}>"

    def placeholder(self, kind: str, value: Any) -> Any:
        if value is None:
            return None
        key = (kind, str(value))
        if key not in self._labels:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            self._labels[key] = f"{kind}#{self._counts[kind]}"
        suffix = "int" if isinstance(value, int) else "str"
        return f"<{self._labels[key]}:{suffix}>"

    def text(self, value: str, *, clock: str = "time") -> str:
        """Normalize free text: addresses, secrets, project ids, timestamps."""
        for secret, label in self._secrets.items():
            value = value.replace(secret, label)
        value = value.replace(self.base_url, "<base>")
        value = PROJECT_PATH.sub("/projects/<project>", value)
        return TIMESTAMP.sub(lambda found: self.moment(found.group(), clock), value)

    def moment(self, stamp: str, clock: str = "time") -> str:
        """The label of a timestamp on ``clock``; equal text, equal label."""
        key = (clock, stamp)
        if key not in self._times:
            self._time_counts[clock] = self._time_counts.get(clock, 0) + 1
            self._times[key] = f"<{clock}#{self._time_counts[clock]}>"
        return self._times[key]

    def json(self, body: Any, *, id_kind: str | None = None) -> Any:
        """Normalize a JSON body; ``id_kind`` names what a top-level "id" is."""
        if isinstance(body, list):
            return [self.json(item, id_kind=id_kind) for item in body]
        if isinstance(body, dict):
            return self._object(body, id_kind)
        if isinstance(body, str):
            return self.text(body)
        return body

    def _object(self, body: dict, id_kind: str | None) -> dict:
        if body.get("type") in ACTOR_TYPES:
            id_kind = "actor"
        result = {}
        for key, value in body.items():
            result[key] = self._member(key, value, id_kind)
        if isinstance(result.get("details"), dict) and "message" in result:
            self._problem_values(result)
        return result

    def _member(self, key: str, value: Any, id_kind: str | None) -> Any:
        if key in SECRET_KEYS and isinstance(value, str):
            return f"<{key}>"
        if key == "id" and id_kind and isinstance(value, int | str):
            return self.placeholder(id_kind, value)
        if key in ID_KEYS and isinstance(value, int | str):
            return self.placeholder(ID_KEYS[key], value)
        if key in CLOCKS and isinstance(value, str):
            return self.text(value, clock=CLOCKS[key])
        return self.json(value)

    def _problem_values(self, problem: dict) -> None:
        """Central's conflict problems quote internal ids in details and message."""
        details = problem["details"]
        fields, values = details.get("fields"), details.get("values")
        if not isinstance(fields, list) or not isinstance(values, list):
            return
        message = problem["message"]
        for index, (field, value) in enumerate(zip(fields, values, strict=False)):
            if field in ID_KEYS:
                label = self.placeholder(ID_KEYS[field], value)
                values[index] = label
                message = re.sub(
                    rf"(?<=of ){re.escape(str(value))}(?=,|\)|\.| |$)",
                    label,
                    message,
                    count=1,
                )
        problem["message"] = message

    def csv_rows(self, text: str) -> list[list[str]]:
        rows = list(csv.reader(io.StringIO(text)))
        if not rows:
            return rows
        header = rows[0]
        actor_columns = {
            i for i, name in enumerate(header) if name in CSV_ACTOR_COLUMNS
        }
        return [header] + [
            [
                self.placeholder("actor", cell)
                if i in actor_columns and cell
                else self.text(cell)
                for i, cell in enumerate(row)
            ]
            for row in rows[1:]
        ]

    def zip_files(self, content: bytes) -> dict[str, Any]:
        """File names in the archive, each CSV as normalized rows.

        The CSV files keep the archive's order; the media files follow sorted
        by name, because Central writes them in whatever order their blobs
        arrive (seen to change from one export to the next).
        """
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
            tables = [name for name in names if name.endswith(".csv")]
            media = sorted(name for name in names if not name.endswith(".csv"))
            files: dict[str, Any] = {}
            for name in tables:
                text = archive.read(name).decode("utf-8-sig")
                files[name] = self.csv_rows(text)
            for name in media:
                files[name] = f"<{len(archive.read(name))} bytes>"
        return files


def edmx_outline(text: str) -> dict[str, Any]:
    """The structure of an OData $metadata document: types, properties, sets.

    Whitespace and attribute order in the XML carry no meaning for a client, so
    the outline keeps what does: each entity or complex type with its key and
    its properties (name, type) in document order, and the entity sets.
    """
    # The document comes from a server the test itself started on loopback.
    root = ElementTree.fromstring(text)  # noqa: S314
    outline: dict[str, Any] = {"version": root.get("Version"), "types": [], "sets": []}
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag in {"EntityType", "ComplexType"}:
            outline["types"].append(_edm_type(tag, element))
        elif tag == "EntitySet":
            outline["sets"].append(
                {"name": element.get("Name"), "type": element.get("EntityType")}
            )
    return outline


def _edm_type(tag: str, element: ElementTree.Element) -> dict[str, Any]:
    keys, properties = [], []
    for child in element.iter():
        child_tag = child.tag.rsplit("}", 1)[-1]
        if child_tag == "PropertyRef":
            keys.append(child.get("Name"))
        elif child_tag in {"Property", "NavigationProperty"}:
            properties.append([child_tag, child.get("Name"), child.get("Type")])
    return {
        "kind": tag,
        "name": element.get("Name"),
        "key": keys,
        "properties": properties,
    }
