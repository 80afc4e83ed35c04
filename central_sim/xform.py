"""Reading an XForm the way Central does: its id, version, title, public key, and
the depth-first list of fields (path, type, binary, selectMultiple) that every
other part of the simulator (OData, CSV, attachments) walks."""

import re
from dataclasses import dataclass, field
from functools import lru_cache

from defusedxml import ElementTree

from central_sim.problems import Problem

_MEDIA = re.compile(r"jr://(images|audio|video|file|file-csv)/([^\s\"'<>]+)")
_MEDIA_TYPES = {"images": "image", "audio": "audio", "video": "video"}
_ODATA_FIRST = re.compile(r"^([^a-z_])", re.IGNORECASE)
_ODATA_REST = re.compile(r"([^a-z0-9_]+)", re.IGNORECASE)


def local_name(tag: str) -> str:
    """An element or attribute name without its namespace, as Central stores paths."""
    tag = tag.rsplit("}", 1)[-1]
    return tag.rsplit(":", 1)[-1]


def strip_path(path: str) -> str:
    return "/".join(local_name(part) for part in path.split("/"))


@lru_cache(maxsize=4096)
def sanitize_odata(name: str) -> str:
    return _ODATA_REST.sub("_", _ODATA_FIRST.sub(r"_\1", name))


@dataclass(frozen=True, slots=True)
class Field:
    path: str
    name: str
    type: str
    order: int
    binary: bool = False
    select_multiple: bool = False

    @property
    def structural(self) -> bool:
        return self.type in ("structure", "repeat")

    def for_api(self, *, odata: bool) -> dict:
        name, path = self.name, self.path
        if odata:
            name = sanitize_odata(name)
            path = "/".join(sanitize_odata(p) if p else p for p in path.split("/"))
        return {
            "path": path,
            "name": name,
            "type": self.type,
            "binary": True if self.binary else None,
            "selectMultiple": True if self.select_multiple else None,
        }


@dataclass(slots=True)
class FormDefinition:
    xml_form_id: str
    version: str
    name: str | None
    public_key: str | None
    fields: list[Field] = field(default_factory=list)


def _children(element) -> list:
    return [child for child in element if isinstance(child.tag, str)]


def _find(element, *names: str):
    """The first descendant path matching local names, like Central's findOne."""
    current = element
    for name in names:
        current = next(
            (c for c in _children(current) if local_name(c.tag) == name), None
        )
        if current is None:
            return None
    return current


def _body_paths(body, tag: str, *attrs: str) -> set[str]:
    paths = set()
    if body is None:
        return paths
    for element in body.iter():
        if isinstance(element.tag, str) and local_name(element.tag) == tag:
            value = next((element.get(a) for a in attrs if element.get(a)), None)
            if value:
                paths.add(strip_path(value))
    return paths


def _bind_types(model, envelope: str) -> dict[str, str]:
    types: dict[str, str] = {}
    for bind in _children(model):
        if local_name(bind.tag) != "bind" or bind.get("type") is None:
            continue
        nodeset = strip_path(bind.get("nodeset", ""))
        if not nodeset.startswith("/"):
            nodeset = f"/{envelope}/{nodeset}"
        types.setdefault(nodeset, bind.get("type"))
    return types


def _walk(element, context: dict, base: str, order: list[int]) -> list[Field]:
    fields: list[Field] = []
    seen_repeats: set[str] = set()
    for tag in _children(element):
        name = local_name(tag.tag)
        path = f"{base}/{name}"
        binding_path = f"/{context['envelope']}{path}"
        if binding_path in context["repeats"]:
            if binding_path in seen_repeats:
                continue
            seen_repeats.add(binding_path)
            kind = "repeat"
        elif binding_path in context["binds"]:
            kind = context["binds"][binding_path]
        elif _children(tag):
            kind = "structure"
        else:
            kind = "unknown"
        fields.append(
            Field(
                path=path,
                name=name,
                type=kind,
                order=order[0],
                binary=kind == "binary" or path == "/meta/audit",
                select_multiple=binding_path in context["selects"],
            )
        )
        order[0] += 1
        if kind in ("repeat", "structure") and _children(tag):
            fields.extend(_walk(tag, context, path, order))
    return fields


def parse_xform(xml: bytes) -> FormDefinition:
    """Raise Problem 400.2 when the form id cannot be read (also for bad XML)."""
    try:
        html = ElementTree.fromstring(xml)
    except ElementTree.ParseError as err:
        raise Problem.missing_parameter("formId") from err
    model = _find(html, "head", "model")
    instance = _find(model, "instance") if model is not None else None
    data = (
        _children(instance)[0] if instance is not None and _children(instance) else None
    )
    xml_form_id = (data.get("id") or "").strip() if data is not None else ""
    if not xml_form_id:
        raise Problem.missing_parameter("formId")

    title = _find(html, "head", "title")
    submission = _find(model, "submission")
    envelope = local_name(data.tag)
    body = _find(html, "body")
    context = {
        "envelope": envelope,
        "binds": _bind_types(model, envelope),
        "repeats": _body_paths(body, "repeat", "nodeset"),
        "selects": _body_paths(body, "select", "nodeset", "ref"),
    }
    return FormDefinition(
        xml_form_id=xml_form_id,
        version=data.get("version") or "",
        name=(title.text or None) if title is not None else None,
        public_key=submission.get("base64RsaPublicKey")
        if submission is not None
        else None,
        fields=_walk(data, context, "", [0]),
    )


def table_name(path: str) -> str:
    """The OData table of a repeat: ``Submissions.<path with dots>``."""
    return "Submissions." + ".".join(sanitize_odata(p) for p in path[1:].split("/"))


def repeat_tables(fields: list[Field]) -> list[str]:
    return [table_name(f.path) for f in fields if f.type == "repeat"]


def form_media(xml: bytes) -> list[tuple[str, str]]:
    """(name, type) of the media files a form refers to, as Central expects them."""
    found: dict[str, str] = {}
    for kind, name in _MEDIA.findall(xml.decode("utf-8", "replace")):
        found.setdefault(name, _MEDIA_TYPES.get(kind, "file"))
    return list(found.items())


def refuse_file_like_id(xml_form_id: str) -> None:
    if re.search(r"\.(xlsx?|xml)$", xml_form_id):
        raise Problem.unexpected_value(
            "formId",
            xml_form_id,
            "The Form ID cannot end in .xls, .xlsx, or .xml. Please either specify "
            "an allowed ID in the form itself, or rename the file (eg change "
            "form.xls.xls to form.xls).",
        )


def set_version(xml: bytes, version: str) -> bytes:
    """The form XML with its instance root's version attribute replaced or added,
    as Central rewrites it when a version is given at publish time."""
    text = xml.decode("utf-8")
    instance = re.search(r"<(?:\w+:)?instance(?:\s[^>]*)?>\s*<([\w:.-]+)([^>]*)>", text)
    if instance is None:
        return xml
    attrs = instance.group(2)
    escaped = version.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    if re.search(r"\sversion=\"[^\"]*\"", attrs):
        new_attrs = re.sub(
            r"\sversion=\"[^\"]*\"", f' version="{escaped}"', attrs, count=1
        )
    else:
        new_attrs = attrs.rstrip("/") + f' version="{escaped}"'
        if attrs.endswith("/"):
            new_attrs += "/"
    start, end = instance.span(2)
    return (text[:start] + new_attrs + text[end:]).encode("utf-8")
