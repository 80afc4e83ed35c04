"""What Central reads from a submission's XML before it looks the form up (form
id, version, instanceID, deprecatedID, instanceName, encryption), and which
attachment files the submission refers to."""

import uuid
from dataclasses import dataclass, field

from defusedxml import ElementTree

from central_sim.problems import Problem
from central_sim.xform import Field, local_name


@dataclass(slots=True)
class ParsedSubmission:
    """What Central reads from a submission's XML before it looks the form up."""

    xml: bytes
    xml_form_id: str
    version: str
    instance_id: str
    deprecated_id: str | None
    instance_name: str | None
    encrypted: bool
    root: object


@dataclass(slots=True)
class Arrival:
    """Who sent a submission version, from which device and client, with which
    files, and when (now unless seeding backdates it)."""

    actor_id: int
    device_id: str | None = None
    user_agent: str | None = None
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    at: str | None = None


def _meta_text(root, *names: str) -> str | None:
    current = root
    for name in names:
        current = next(
            (
                c
                for c in current
                if isinstance(c.tag, str) and local_name(c.tag) == name
            ),
            None,
        )
        if current is None:
            return None
    return current.text if current.text is not None else ""


def parse_submission(xml: bytes) -> ParsedSubmission:
    """Raise 400.2 as Central does when the XML or its form id cannot be read."""
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError as err:
        raise Problem.missing_parameter("form ID xml attribute") from err
    xml_form_id = (root.get("id") or "").strip()
    if not xml_form_id:
        raise Problem.missing_parameter("form ID xml attribute")
    instance_id = _meta_text(root, "meta", "instanceID") or _meta_text(
        root, "instanceID"
    )
    encrypted = _meta_text(root, "base64EncryptedKey") is not None
    if not instance_id and encrypted:
        raise Problem.missing_parameter(
            "instanceId (required for encrypted submissions)"
        )
    return ParsedSubmission(
        xml=xml,
        xml_form_id=xml_form_id,
        version=root.get("version") or "",
        instance_id=instance_id or str(uuid.uuid4()),
        deprecated_id=_meta_text(root, "meta", "deprecatedID") or None,
        instance_name=_meta_text(root, "meta", "instanceName"),
        encrypted=encrypted,
        root=root,
    )


def expected_attachments(parsed: ParsedSubmission, fields: list[Field]) -> list[str]:
    """File names the submission refers to: binary fields' values, and for an
    encrypted envelope its media and encrypted XML file."""
    if parsed.encrypted:
        names = [
            c.text
            for c in parsed.root.iter()
            if isinstance(c.tag, str) and local_name(c.tag) == "file"
        ]
        enc = _meta_text(parsed.root, "encryptedXmlFile")
        return [n for n in [*names, enc] if n]
    binary = {f.path for f in fields if f.binary}
    if not binary:
        return []
    names: list[str] = []

    def visit(element, path: str) -> None:
        for child in element:
            if not isinstance(child.tag, str):
                continue
            child_path = f"{path}/{local_name(child.tag)}"
            if child_path in binary and child.text and child.text.strip():
                names.append(child.text.strip())
            visit(child, child_path)

    visit(parsed.root, "")
    return list(dict.fromkeys(names))
