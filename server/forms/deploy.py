"""Deploy the built forms to Central: create a missing form, publish a new
version of a changed one, leave an unchanged one alone.

"Unchanged" is decided by the version alone: it is a hash of the XForm and its
media (``build.content_version``), so an equal published version means equal
content. Central never publishes a version twice, so a form brought back to
content published before (a designer undoing a change) is published as
``<hash>.<n>``; the part before the dot still names the content."""

import logging
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from pyodk.client import Client

from server.central import forms as central_forms
from server.forms.build import BuiltForm

log = logging.getLogger(__name__)


class Action(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class DeployResult:
    xml_form_id: str
    version: str
    action: Action
    previous_version: str | None = None


def deploy_forms(
    client: Client, *, project_id: int, built: list[BuiltForm]
) -> list[DeployResult]:
    return [deploy_form(client, project_id=project_id, built=b) for b in built]


def deploy_form(client: Client, *, project_id: int, built: BuiltForm) -> DeployResult:
    ids = {"project_id": project_id, "xml_form_id": built.xml_form_id}
    current = central_forms.get_form(client, **ids)
    if current is None:
        central_forms.create_form(client, **ids, xform=built.xform, media=built.media)
        result = DeployResult(built.xml_form_id, built.version, Action.CREATED)
    elif current.publishedAt is not None and content_of(current.version) == (
        built.version
    ):
        result = DeployResult(built.xml_form_id, current.version, Action.UNCHANGED)
    else:
        # Also the path for a form left as an unpublished draft by an
        # interrupted deploy: the new draft replaces it.
        version = _unpublished_version(client, ids, built.version)
        xform = _restamped(built, version)
        central_forms.replace_form(client, **ids, xform=xform, media=built.media)
        result = DeployResult(
            built.xml_form_id, version, Action.UPDATED, current.version or None
        )
    log.info(
        "form %s %s (version %s) in project %s",
        built.xml_form_id,
        result.action,
        result.version,
        project_id,
    )
    return result


def content_of(version: str | None) -> str:
    """The content hash a published version names (``<hash>`` or ``<hash>.<n>``)."""
    return (version or "").split(".", 1)[0]


def _unpublished_version(client: Client, ids: dict, version: str) -> str:
    published = central_forms.published_versions(client, **ids)
    earlier = sum(1 for v in published if content_of(v) == version)
    return f"{version}.{earlier}" if earlier else version


def _restamped(built: BuiltForm, version: str) -> Path:
    """The XForm carrying ``version``; the build output is rewritten so that it
    stays what Central holds."""
    if version != built.version:
        text = built.xform.read_text(encoding="utf-8")
        old, new = f'version="{built.version}"', f'version="{version}"'
        built.xform.write_text(text.replace(old, new, 1), encoding="utf-8")
    return built.xform
