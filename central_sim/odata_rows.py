"""One submission's XML turned into OData rows, walking the XML against the form's
field list the way Central's event parser does: every field of the table starts
as null (groups as nested objects), values are typed as Central types them, and
repeat rows get Central's stable SHA-1 ids."""

import hashlib
import json
import math
import re
from dataclasses import dataclass
from urllib.parse import quote

from defusedxml import ElementTree

from central_sim.xform import Field, local_name, sanitize_odata, table_name

_INT = re.compile(r"^\s*([+-]?\d+)")
_FLOAT = re.compile(
    r"^\s*([+-]?(?:Infinity|\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?))"
)
_TZ_HOURS = re.compile(r"[+-]\d\d$")
_SPACES = re.compile(r"\s+")
# encodeURIComponent leaves these unescaped; Central builds its links with it.
URI_SAFE = "-_.!~*'()"


def js_number(value: float) -> int | float | None:
    """A number as JavaScript's JSON.stringify writes it: NaN and infinities are
    null, and whole numbers have no decimal point."""
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    if value == int(value) and abs(value) < 1e21:
        return int(value)
    return value


def parse_int(text: str) -> int | None:
    match = _INT.match(text)
    return int(match.group(1)) if match else None


def parse_float(text: str) -> float:
    match = _FLOAT.match(text)
    if not match:
        return math.nan
    return float(match.group(1).replace("Infinity", "inf"))


class Schema:
    """The form's fields indexed by path, with each path's direct children."""

    def __init__(self, fields: list[Field]):
        self.fields = fields
        self.by_path = {f.path: f for f in fields}
        self.children: dict[str, list[Field]] = {"": []}
        for f in fields:
            parent = f.path.rsplit("/", 1)[0]
            self.children.setdefault(parent, []).append(f)
            self.children.setdefault(f.path, [])

    def frame(self, path: str = "") -> dict:
        """Central's empty data frame: nulls, and nested frames for groups."""
        frame: dict = {}
        for child in self.children.get(path, ()):
            if not child.structural:
                frame[sanitize_odata(child.name)] = None
            elif child.type == "structure":
                frame[sanitize_odata(child.name)] = self.frame(child.path)
        return frame


@dataclass(slots=True)
class Options:
    expand: bool = False
    wkt: bool = False


def _hash_id(stack: list[tuple[Field, int | None]], instance_id: str) -> str:
    if not stack:
        return instance_id
    parts = [f"Submissions#{instance_id}"]
    for f, iteration in stack:
        parts.append(f"{f.name}#" if f.type == "structure" else f"{f.name}#{iteration}")
    return hashlib.sha1("%%".join(parts).encode()).hexdigest()  # noqa: S324


def _navigation_link(stack: list[tuple[Field, int | None]], instance_id: str) -> str:
    parts = [f"Submissions('{quote(instance_id, safe=URI_SAFE)}')"]
    for i, (f, _) in enumerate(stack):
        name = sanitize_odata(f.name)
        if f.type == "repeat" and i < len(stack) - 1:
            parts.append(f"{name}('{_hash_id(stack[: i + 1], instance_id)}')")
        else:
            parts.append(name)
    return "/".join(parts)


def _branch_state(implied: str, table: str) -> int:
    """Where a node sits against the wanted table: its own table (0), inside it
    (1), or elsewhere (-1). ``implied`` is the node's dotted path; the prefix
    test is a plain string test, as Central's is."""
    if implied == table:
        return 0
    return 1 if implied.startswith(table) else -1


def _parent_id(stack, instance_id: str) -> tuple[str, str]:
    for i in range(len(stack) - 2, -1, -1):
        if stack[i][0].type == "repeat":
            parent = stack[: i + 1]
            break
    else:
        parent = []
    key = "-".join(["__Submissions", *(sanitize_odata(f.name) for f, _ in parent)])
    return f"{key}-id", _hash_id(parent, instance_id)


def _geopoint(text: str, wkt: bool):
    parts = [parse_float(p) for p in _SPACES.split(text)]
    if len(parts) < 2 or math.isnan(parts[0]) or math.isnan(parts[1]):
        return None
    coordinates = [js_number(parts[1]), js_number(parts[0])]
    if len(parts) > 2 and not math.isnan(parts[2]):
        coordinates.append(js_number(parts[2]))
    if wkt:
        return f"POINT ({' '.join(json.dumps(c) for c in coordinates)})"
    value: dict = {"type": "Point", "coordinates": coordinates}
    if len(parts) > 3 and not math.isnan(parts[3]):
        value["properties"] = {"accuracy": js_number(parts[3])}
    return value


def _geo_lines(text: str, kind: str, wkt: bool):
    points, accuracies = [], []
    strings = re.split(r"; ?", text)
    for string in strings:
        parts = [parse_float(p) for p in _SPACES.split(string)]
        if len(parts) < 2:
            if len(strings) == 1:
                return None
            continue
        if math.isnan(parts[0]) or math.isnan(parts[1]):
            continue
        point = [js_number(parts[1]), js_number(parts[0])]
        if len(parts) > 2 and not math.isnan(parts[2]):
            point.append(js_number(parts[2]))
        points.append(point)
        accuracy = js_number(parts[3]) if len(parts) > 3 else None
        accuracies.append(accuracy or None)
    if wkt:
        text_points = ",".join(" ".join(json.dumps(c) for c in p) for p in points)
        if kind == "geotrace":
            return f"LINESTRING ({text_points})"
        return f"POLYGON (({text_points}))"
    value: dict = (
        {"type": "LineString", "coordinates": points}
        if kind == "geotrace"
        else {"type": "Polygon", "coordinates": [points]}
    )
    if any(a is not None for a in accuracies):
        value["properties"] = {"accuracies": accuracies}
    return value


def typed_value(field: Field, text: str, options: Options, previous=None):
    kind = field.type
    if kind == "int":
        return parse_int(text)
    if kind == "decimal":
        return js_number(parse_float(text))
    if kind == "geopoint":
        return _geopoint(text, options.wkt)
    if kind in ("geotrace", "geoshape"):
        return _geo_lines(text, kind, options.wkt)
    if kind == "dateTime":
        trimmed = text.strip()
        return f"{trimmed}:00" if _TZ_HOURS.search(trimmed) else trimmed
    return (previous or "") + text


class _Walker:
    def __init__(self, schema: Schema, table: str, instance_id: str, options):
        self.schema = schema
        self.table = table
        self.instance_id = instance_id
        self.options = options
        self.result: list[dict] = []

    def walk(self, element, path: str, stack, counters: dict, data, implied) -> None:
        for child in element:
            if not isinstance(child.tag, str):
                continue
            child_path = f"{path}/{local_name(child.tag)}"
            field = self.schema.by_path.get(child_path)
            if field is None:
                continue
            name = sanitize_odata(field.name)
            inner = f"{implied}.{name}"
            if field.type == "structure":
                if data is not None:
                    here = [*stack, (field, None)]
                    self.walk(child, child_path, here, counters, data.get(name), inner)
            elif field.type == "repeat":
                self._repeat(child, field, stack, counters, data, inner)
            elif (
                data is not None
                and child.text
                and _branch_state(inner, self.table) == 1
            ):
                previous = data.get(name)
                data[name] = typed_value(field, child.text, self.options, previous)

    def _repeat(self, element, field: Field, stack, counters, data, implied) -> None:
        previous = counters.get(field.path)
        iteration = 0 if previous is None else previous + 1
        counters[field.path] = iteration
        stack = [*stack, (field, iteration)]
        if data is None:
            return
        name = sanitize_odata(field.name)
        data[f"{name}@odata.navigationLink"] = _navigation_link(stack, self.instance_id)
        state = _branch_state(implied, self.table)
        if state >= 1 and not self.options.expand:
            return
        bag = self.schema.frame(field.path)
        bag["__id"] = _hash_id(stack, self.instance_id)
        if data.get(name) is None:
            data[name] = []
        data[name].append(bag)
        if state == 0:
            self.result.append(bag)
            key, value = _parent_id(stack, self.instance_id)
            bag[key] = value
        self.walk(element, field.path, stack, {}, bag, implied)


def submission_rows(
    schema: Schema,
    table: str,
    xml,
    instance_id: str,
    system: dict | str | None,
    *,
    options: Options | None = None,
    encrypted: bool = False,
) -> list[dict]:
    """Rows of ``table`` (``Submissions`` or ``Submissions.<repeat path>``) held by
    one submission. ``system`` is the root row's ``__system`` value (None leaves
    the key out, as a ``$select`` without it does). ``xml`` may be a parsed
    element, to parse once for several tables."""
    options = options or Options()
    root = {} if encrypted else schema.frame()
    root["__id"] = instance_id
    walker = _Walker(schema, table, instance_id, options)
    if table == "Submissions":
        if system is not None:
            root["__system"] = system
        walker.result.append(root)
    if encrypted:
        return walker.result
    document = ElementTree.fromstring(xml) if isinstance(xml, bytes | str) else xml
    walker.walk(document, "", [], {}, root, "Submissions")
    return walker.result


_SENTINEL = "\ue000system\ue000"
SYSTEM_SLOT = f'"__system":"{_SENTINEL}"'


def dumps(value) -> str:
    """JSON as Central writes it: compact, and non-ASCII left as is."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _split(text: str) -> tuple[str, str]:
    at = text.index(SYSTEM_SLOT)
    return text[: at + len('"__system":')], text[at + len(SYSTEM_SLOT) :]


@dataclass(slots=True)
class Rendered:
    """A submission's OData rows as stored: the root row without and with
    ``$expand=*`` (split around ``__system``), and each repeat table's rows."""

    head: str
    tail: str
    head_x: str
    tail_x: str
    tables: dict[str, list[tuple[str, str]]]


def render_all(schema: Schema, xml, instance_id: str, *, encrypted: bool):
    """Everything ``submission_rows`` would give for the default options, from
    one walk: the expanded root holds every repeat row, so the plain root and
    the repeat tables are cut from it."""
    root = submission_rows(
        schema,
        "Submissions",
        xml,
        instance_id,
        _SENTINEL,
        options=Options(expand=True),
        encrypted=encrypted,
    )[0]
    head_x, tail_x = _split(dumps(root))
    head, tail = _split(dumps(_strip_repeats(schema, "", root)))
    tables: dict[str, list[tuple[str, str]]] = {}
    if not encrypted:
        _collect(schema, "", root, ([], []), instance_id, tables)
    return Rendered(head, tail, head_x, tail_x, tables)


def _strip_repeats(schema: Schema, path: str, data: dict) -> dict:
    """A row as it is without ``$expand``: navigation links, no repeat rows."""
    repeats, groups = set(), {}
    for child in schema.children.get(path, ()):
        if child.type == "repeat":
            repeats.add(sanitize_odata(child.name))
        elif child.type == "structure":
            groups[sanitize_odata(child.name)] = child.path
    out = {}
    for key, value in data.items():
        if key in repeats:
            continue
        if key in groups and isinstance(value, dict):
            value = _strip_repeats(schema, groups[key], value)
        out[key] = value
    return out


def _collect(schema: Schema, path: str, data: dict, names, parent_id, tables):
    """Repeat rows in document order, each with its parent's id after ``__id``.
    ``names`` is (path so far, path up to the nearest enclosing repeat)."""
    here, anchor = names
    for child in schema.children.get(path, ()):
        name = sanitize_odata(child.name)
        value = data.get(name)
        if child.type == "structure" and isinstance(value, dict):
            _collect(
                schema, child.path, value, ([*here, name], anchor), parent_id, tables
            )
        elif child.type == "repeat" and value:
            key = "-".join(["__Submissions", *anchor]) + "-id"
            rows = tables.setdefault(table_name(child.path), [])
            inner = ([*here, name], [*here, name])
            for bag in value:
                row = _with_parent(
                    _strip_repeats(schema, child.path, bag), key, parent_id
                )
                rows.append((bag["__id"], dumps(row)))
                _collect(schema, child.path, bag, inner, bag["__id"], tables)


def _with_parent(row: dict, key: str, value: str) -> dict:
    out = {}
    for k, v in row.items():
        out[k] = v
        if k == "__id":
            out[key] = value
    return out
