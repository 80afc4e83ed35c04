"""Read an XForm (as Central serves it) into the fields, repeats and choice lists
that normalization needs.

Paths are relative to the instance root, the way Central's ``/fields`` endpoint
writes them ("/grp/amount"). Labels come from itext translations whose language
is Vietnamese ("Vietnamese (vi)", "vi") or English ("English (en)", "en"); a
plain ``<label>`` (a form without translations) counts as Vietnamese, the
project's default language.

Choices of ``select_one_from_file`` / ``select_multiple_from_file`` live in a
media file (CSV or XML) that the XForm only names (``XForm.media_files``), so
the XForm alone gives their codes but not their labels; labels come from the
CSV when it is handed to registration, and a ``select_multiple`` over such a
list gets no per-choice boolean columns.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from server.errors import InvalidInput

XF = "{http://www.w3.org/2002/xforms}"
XH = "{http://www.w3.org/1999/xhtml}"
JR = "{http://openrosa.org/javarosa}"
ODK = "{http://www.opendatakit.org/xforms}"

# Bind types as XForms spell them, to the names used across trogiup.
_BIND_TYPES = {
    "string": "string",
    "int": "int",
    "integer": "int",
    "decimal": "decimal",
    "date": "date",
    "datetime": "dateTime",
    "time": "time",
    "geopoint": "geopoint",
    "geotrace": "geotrace",
    "geoshape": "geoshape",
    "binary": "binary",
    "barcode": "barcode",
    "boolean": "boolean",
    "select1": "string",
    "select": "string",
    "odk:rank": "string",
    "rank": "string",
    "intent": "string",
}
# Edit bookkeeping already held by the standard columns, not answers.
_SKIPPED_PATHS = {"/meta/instanceID", "/meta/deprecatedID"}
_ITEXT_REF = re.compile(r"""jr:itext\(\s*['"]?([^'")]+)['"]?\s*\)""")
_INSTANCE_REF = re.compile(r"""instance\(\s*['"]([^'"]+)['"]\s*\)""")


@dataclass(frozen=True, slots=True)
class Choice:
    name: str
    label_vi: str | None = None
    label_en: str | None = None


@dataclass(frozen=True, slots=True)
class XField:
    """One answer of the form. ``type`` is the bind type, except that a
    ``<select1>`` control gives ``select_one`` and ``<select>`` gives
    ``select_multiple``. ``local_path`` is relative to the nearest enclosing
    repeat (or the root): it is how the OData row nests the value."""

    path: str
    name: str
    type: str
    repeat: str | None = None
    local_path: tuple[str, ...] = ()
    calculate: bool = False
    list_name: str | None = None
    external_choices: bool = False
    label_vi: str | None = None
    label_en: str | None = None
    sensitivity: str | None = None


@dataclass(frozen=True, slots=True)
class XRepeat:
    path: str
    name: str
    parent: str | None = None
    local_path: tuple[str, ...] = ()
    label_vi: str | None = None
    label_en: str | None = None


@dataclass(frozen=True)
class XForm:
    xml_form_id: str
    version: str
    title: str | None
    fields: tuple[XField, ...]
    repeats: tuple[XRepeat, ...]
    # list_name -> choices; None for lists whose choices live in a media file.
    choices: dict[str, tuple[Choice, ...] | None] = field(default_factory=dict)
    # list_name -> the media file holding its choices ("communes.csv").
    media_files: dict[str, str] = field(default_factory=dict)

    def field_by_path(self) -> dict[str, XField]:
        return {f.path: f for f in self.fields}


@dataclass
class _Control:
    tag: str
    label: Element | None
    items: list[Element]
    itemset: Element | None


@lru_cache(maxsize=64)
def parse_xform(xml: str) -> XForm:
    """Parse an XForm. Raises InvalidInput when it is not a readable XForm."""
    try:
        root = ElementTree.fromstring(xml.encode("utf-8"))
    except (ElementTree.ParseError, DefusedXmlException) as err:
        raise InvalidInput(
            f"the form definition is not well-formed XML: {err}"
        ) from err
    model = root.find(f"{XH}head/{XF}model")
    if model is None:
        raise InvalidInput("the form definition has no <h:head>/<model>: not an XForm")
    return _Reader(root, model).read()


class _Reader:
    def __init__(self, root: Element, model: Element) -> None:
        self.root = root
        self.model = model
        self.instances = {i.get("id"): i for i in model.findall(f"{XF}instance")}
        self.main = self._main_instance()
        self.base = "/" + _local(self.main.tag)
        self.binds = self._binds()
        self.itext = self._itext()
        self.controls: dict[str, _Control] = {}
        self.repeat_paths: set[str] = set()
        body = root.find(f"{XH}body")
        if body is not None:
            self._walk_body(body, self.base)

    def read(self) -> XForm:
        fields: list[XField] = []
        repeats: list[XRepeat] = []
        choices: dict[str, tuple[Choice, ...] | None] = {}
        self._walk_instance(self.main, "", None, (), fields, repeats, choices)
        title = self.root.find(f"{XH}head/{XH}title")
        media_files = {
            name: _media_file(self.instances[name].get("src") or "")
            for name, listed in choices.items()
            if listed is None and name in self.instances
        }
        return XForm(
            xml_form_id=self.main.get("id") or _local(self.main.tag),
            version=self.main.get("version") or "",
            title=title.text if title is not None else None,
            fields=tuple(fields),
            repeats=tuple(repeats),
            choices=choices,
            media_files={k: v for k, v in media_files.items() if v},
        )

    def _main_instance(self) -> Element:
        for instance in self.model.findall(f"{XF}instance"):
            if instance.get("id") is None and len(instance):
                return instance[0]
        raise InvalidInput("the form definition has no main <instance>: not an XForm")

    def _binds(self) -> dict[str, dict[str, str]]:
        binds = {}
        for bind in self.model.iter(f"{XF}bind"):
            nodeset = bind.get("nodeset")
            if nodeset:
                binds[nodeset] = dict(bind.attrib)
        return binds

    def _itext(self) -> dict[str, dict[str, str]]:
        """itext id -> {"vi": text, "en": text}."""
        texts: dict[str, dict[str, str]] = {}
        for translation in self.model.iter(f"{XF}translation"):
            lang = _language(translation.get("lang") or "")
            if lang is None:
                continue
            for text in translation.findall(f"{XF}text"):
                value = _itext_value(text)
                if value is not None:
                    texts.setdefault(text.get("id") or "", {})[lang] = value
        return texts

    def _walk_body(self, element: Element, context: str) -> None:
        for child in element:
            tag = _local(child.tag)
            ref = child.get("ref") or child.get("nodeset")
            path = _resolve(ref, context) if ref else context
            if tag == "repeat":
                self.repeat_paths.add(path)
                self.controls.setdefault(path, self._control(child, tag))
            elif tag == "group":
                if ref:
                    self.controls.setdefault(path, self._control(child, tag))
            elif ref and tag not in {"label", "hint", "item", "itemset"}:
                self.controls[path] = self._control(child, tag)
                continue
            self._walk_body(child, path)

    def _control(self, element: Element, tag: str) -> _Control:
        return _Control(
            tag=tag,
            label=element.find(f"{XF}label"),
            items=element.findall(f"{XF}item"),
            itemset=element.find(f"{XF}itemset"),
        )

    def _walk_instance(self, element, path, repeat, local, fields, repeats, choices):
        seen: set[str] = set()
        for child in element:
            name = _local(child.tag)
            if name in seen:
                continue  # the template and the default instance of a repeat
            seen.add(name)
            child_path = f"{path}/{name}"
            child_local = (*local, name)
            absolute = self.base + child_path
            if absolute in self.repeat_paths or child.get(f"{JR}template") is not None:
                repeats.append(self._repeat(child_path, name, repeat, child_local))
                self._walk_instance(
                    child, child_path, child_path, (), fields, repeats, choices
                )
            elif len(child):
                self._walk_instance(
                    child, child_path, repeat, child_local, fields, repeats, choices
                )
            elif child_path not in _SKIPPED_PATHS and not self._is_note(child, path):
                fields.append(
                    self._field(child_path, name, repeat, child_local, choices)
                )

    def _repeat(self, path, name, parent, local) -> XRepeat:
        label_vi, label_en = self._labels(self.controls.get(self.base + path))
        return XRepeat(
            path=path,
            name=name,
            parent=parent,
            local_path=local,
            label_vi=label_vi,
            label_en=label_en,
        )

    def _is_note(self, element: Element, parent_path: str) -> bool:
        # A note is a read-only input with nothing computed and no default:
        # Central lists it, but it never holds an answer.
        path = f"{self.base}{parent_path}/{_local(element.tag)}"
        bind = self.binds.get(path, {})
        return (
            bind.get("readonly", "").replace(" ", "") == "true()"
            and "calculate" not in bind
            and f"{JR}preload" not in bind
            and not (element.text or "").strip()
        )

    def _field(self, path, name, repeat, local, choices) -> XField:
        absolute = self.base + path
        bind = self.binds.get(absolute, {})
        control = self.controls.get(absolute)
        kind = _field_type(bind, control)
        list_name, external = None, False
        if kind in {"select_one", "select_multiple"} and control is not None:
            list_name, external = self._choices(name, control, choices)
        label_vi, label_en = self._labels(control)
        return XField(
            path=path,
            name=name,
            type=kind,
            repeat=repeat,
            local_path=local,
            calculate="calculate" in bind,
            list_name=list_name,
            external_choices=external,
            label_vi=label_vi,
            label_en=label_en,
            sensitivity=_sensitivity(bind),
        )

    def _labels(self, control: _Control | None) -> tuple[str | None, str | None]:
        if control is None or control.label is None:
            return None, None
        return self._text(control.label)

    def _text(self, label: Element) -> tuple[str | None, str | None]:
        ref = label.get("ref") or ""
        match = _ITEXT_REF.search(ref)
        if match:
            texts = self.itext.get(match.group(1), {})
            return texts.get("vi"), texts.get("en")
        return _plain(label), None

    def _choices(self, name, control, choices) -> tuple[str, bool]:
        if control.itemset is None:
            items = tuple(self._inline_choice(item) for item in control.items)
            choices[name] = items
            return name, False
        match = _INSTANCE_REF.search(control.itemset.get("nodeset") or "")
        if match is None:
            choices[name] = None
            return name, True
        list_name = match.group(1)
        instance = self.instances.get(list_name)
        if instance is None or instance.get("src") or not len(instance):
            choices[list_name] = None
            return list_name, True
        choices[list_name] = self._itemset_choices(control.itemset, instance[0])
        return list_name, False

    def _inline_choice(self, item: Element) -> Choice:
        value = item.find(f"{XF}value")
        label = item.find(f"{XF}label")
        label_vi, label_en = self._text(label) if label is not None else (None, None)
        return Choice(name=_plain(value) or "", label_vi=label_vi, label_en=label_en)

    def _itemset_choices(self, itemset: Element, root: Element) -> tuple[Choice, ...]:
        value_ref = _ref_of(itemset, "value") or "name"
        label_ref = _ref_of(itemset, "label") or "label"
        itext_match = _ITEXT_REF.search(label_ref)
        out = []
        for item in root:
            name = _child_text(item, value_ref) or ""
            if itext_match:
                texts = self.itext.get(
                    _child_text(item, itext_match.group(1)) or "", {}
                )
                out.append(Choice(name, texts.get("vi"), texts.get("en")))
            else:
                out.append(Choice(name, _child_text(item, label_ref), None))
        return tuple(out)


def _field_type(bind: dict[str, str], control: _Control | None) -> str:
    if control is not None and control.tag == "select1":
        return "select_one"
    if control is not None and control.tag == "select":
        return "select_multiple"
    raw = bind.get("type", "string")
    if raw.startswith("xsd:"):
        raw = raw[4:]
    return _BIND_TYPES.get(raw.lower(), "string")


def _sensitivity(bind: dict[str, str]) -> str | None:
    for key, value in bind.items():
        if _local(key) == "sensitivity" and value.strip():
            return value.strip()
    return None


def _language(lang: str) -> str | None:
    lowered = lang.strip().lower()
    if lowered in {"vi", "vietnamese"} or lowered.endswith("(vi)"):
        return "vi"
    if lowered in {"en", "english"} or lowered.endswith("(en)"):
        return "en"
    return None


def _itext_value(text: Element) -> str | None:
    values = text.findall(f"{XF}value")
    plain = [v for v in values if v.get("form") is None]
    chosen = plain or [v for v in values if v.get("form") in {"long", "short"}]
    return _plain(chosen[0]) if chosen else None


def _plain(element: Element | None) -> str | None:
    if element is None:
        return None
    parts = [element.text or ""]
    for child in element:
        if _local(child.tag) == "output":
            ref = child.get("value") or child.get("ref") or ""
            parts.append("${" + ref.rstrip("/ ").rsplit("/", 1)[-1].strip() + "}")
        else:
            parts.append(_plain(child) or "")
        parts.append(child.tail or "")
    text = "".join(parts).strip()
    return unicodedata.normalize("NFC", text) if text else None


def _media_file(src: str) -> str:
    """ "jr://file-csv/communes.csv" -> "communes.csv"."""
    return src.rsplit("/", 1)[-1] if src.startswith("jr://") else ""


def _ref_of(itemset: Element, tag: str) -> str | None:
    child = itemset.find(f"{XF}{tag}")
    return child.get("ref") if child is not None else None


def _child_text(item: Element, name: str) -> str | None:
    for child in item:
        if _local(child.tag) == name:
            return _plain(child)
    return None


def _resolve(ref: str, context: str) -> str:
    ref = ref.strip()
    if ref.startswith("/"):
        return ref.rstrip("/")
    return f"{context}/{ref}".rstrip("/")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]
