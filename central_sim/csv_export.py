"""CSV export laid out as Central's (Briefcase-style) export: a root table with
group paths joined by ``-``, geopoints split in four, Central's metadata
columns, and one table per repeat keyed by ``PARENT_KEY`` and ``KEY``.

Central's optional ``splitSelectMultiples``, ``groupPaths=false`` and
``deletedFields`` variants are not reproduced."""

import csv
import io
import re
import zipfile

from defusedxml import ElementTree

from central_sim.xform import Field, local_name

_META = [
    "KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent",
    "AttachmentsExpected", "Status", "ReviewState", "DeviceID", "Edits",
    "FormVersion",
]  # fmt: skip
_SANITIZE = re.compile(r'[/\\?<>:*|"\x00-\x1f\x80-\x9f]')


class _Table:
    def __init__(self, field: Field | None):
        self.field = field
        self.header: list[str] = []
        self.rows: list[list] = []
        self.path = field.path if field is not None else ""


def _layout(fields: list[Field], root_only: bool):
    """Headers of every table and, per primitive field, its (table, column)."""
    root = _Table(None)
    root.header.append("SubmissionDate")
    tables, stack, places = [root], [root], {}
    skip_under = None
    for field in fields:
        if skip_under and field.path.startswith(skip_under + "/"):
            continue
        while len(stack) > 1 and not field.path.startswith(stack[-1].path + "/"):
            _close(stack.pop())
        if field.type == "repeat":
            if root_only:
                skip_under = field.path
                continue
            table = _Table(field)
            tables.append(table)
            stack.append(table)
        elif field.type != "structure":
            table = stack[-1]
            places[field.path] = (table, len(table.header))
            base = field.path[len(table.path) + 1 :].replace("/", "-")
            if field.type == "geopoint":
                table.header.extend(
                    f"{base}-{p}"
                    for p in ("Latitude", "Longitude", "Altitude", "Accuracy")
                )
            else:
                table.header.append(base)
    while len(stack) > 1:
        _close(stack.pop())
    root.header.extend(_META)
    return tables, places


def _close(table: _Table) -> None:
    table.header.extend(["PARENT_KEY", "KEY"])


class _RowWriter:
    def __init__(self, fields, places, tables, instance_id: str):
        self.by_path = {f.path: f for f in fields}
        self.places = places
        self.tables = {t.path: t for t in tables}
        self.instance_id = instance_id

    def walk(self, element, path, keys: list[str], counters: dict, row) -> None:
        for child in element:
            if not isinstance(child.tag, str):
                continue
            child_path = f"{path}/{local_name(child.tag)}"
            field = self.by_path.get(child_path)
            if field is None:
                continue
            if field.type == "structure":
                self.walk(child, child_path, [*keys, field.name], counters, row)
            elif field.type == "repeat":
                self._repeat(child, field, keys, counters)
            elif field.path in self.places and row is not None:
                self._value(field, child.text, row)

    def _repeat(self, element, field: Field, keys, counters: dict) -> None:
        counters[field.path] = counters.get(field.path, 0) + 1
        table = self.tables.get(field.path)
        parent_key = "/".join([self.instance_id, *keys]) if keys else self.instance_id
        own_keys = [*keys, f"{field.name}[{counters[field.path]}]"]
        if table is None:
            return
        row = [None] * len(table.header)
        self.walk(element, field.path, own_keys, {}, row)
        row[-2] = _repeat_parent(parent_key, keys, self.instance_id)
        row[-1] = "/".join([self.instance_id, *own_keys])
        table.rows.append(row)

    def _value(self, field: Field, text: str | None, row) -> None:
        if text is None:
            return
        _, at = self.places[field.path]
        if field.type == "geopoint":
            parts = re.split(r"\s+", text)
            for i in range(4):
                row[at + i] = parts[i] if i < len(parts) else None
        else:
            row[at] = (row[at] or "") + text


def _repeat_parent(parent_key: str, keys: list[str], instance_id: str) -> str:
    """Central keys a repeat row to its nearest enclosing repeat, or to the
    submission; groups between them stay in the path."""
    last_repeat = max((i for i, k in enumerate(keys) if k.endswith("]")), default=-1)
    if last_repeat < 0:
        return instance_id
    return "/".join([instance_id, *keys[: last_repeat + 1]])


def _metadata(row: list, submission) -> None:
    values = [
        submission["instance_id"],
        submission["submitter_id"],
        submission["display_name"],
        submission["attachments_present"] or 0,
        submission["attachments_expected"] or 0,
        "not decrypted" if submission["encrypted"] else None,
        submission["review_state"],
        submission["device_id"],
        submission["edits"],
        submission["form_version"],
    ]
    row[0] = submission["created_at"]
    row[-len(values) :] = values


def build_tables(fields: list[Field], submissions, *, root_only: bool):
    tables, places = _layout(fields, root_only)
    root = tables[0]
    for submission in submissions:
        row = [None] * len(root.header)
        if not submission["encrypted"]:
            writer = _RowWriter(fields, places, tables, submission["instance_id"])
            document = ElementTree.fromstring(bytes(submission["xml"]))
            writer.walk(document, "", [], {}, row)
        _metadata(row, submission)
        root.rows.append(row)
    return tables


def render(table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.header)
    writer.writerows(["" if v is None else v for v in row] for row in table.rows)
    return out.getvalue().encode("utf-8")


def sanitize_filename(name: str) -> str:
    return _SANITIZE.sub("", name)


def zip_export(xml_form_id: str, tables, media: list[tuple[str, bytes]]) -> bytes:
    """The ``.csv.zip``: root CSV, repeat CSVs (``~n`` when names repeat), media."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{sanitize_filename(xml_form_id)}.csv", render(tables[0]))
        totals: dict[str, int] = {}
        for table in tables[1:]:
            totals[table.field.name] = totals.get(table.field.name, 0) + 1
        counts: dict[str, int] = {}
        for table in tables[1:]:
            name = table.field.name
            if totals[name] > 1:
                counts[name] = counts.get(name, 0) + 1
                filename = f"{xml_form_id}-{name}~{counts[name]}.csv"
            else:
                filename = f"{xml_form_id}-{name}.csv"
            archive.writestr(sanitize_filename(filename), render(table))
        for name, content in media:
            archive.writestr(f"media/{name}", content)
    return buffer.getvalue()
