"""Deploy the built forms to Central: create a missing form, publish a new
version of a changed one, leave an unchanged one alone.

"Unchanged" is decided by the version alone: it is a hash of the XForm and its
media (``build.content_version``), so an equal published version means equal
content."""

import logging
from dataclasses import dataclass
from enum import StrEnum

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
    current = central_forms.get_form(
        client, project_id=project_id, xml_form_id=built.xml_form_id
    )
    files = {"xform": built.xform, "media": built.media}
    ids = {"project_id": project_id, "xml_form_id": built.xml_form_id}
    if current is None:
        central_forms.create_form(client, **ids, **files)
        result = DeployResult(built.xml_form_id, built.version, Action.CREATED)
    elif current.publishedAt is not None and current.version == built.version:
        result = DeployResult(built.xml_form_id, built.version, Action.UNCHANGED)
    else:
        # Also the path for a form left as an unpublished draft by an
        # interrupted deploy: the new draft replaces it.
        central_forms.replace_form(client, **ids, **files)
        result = DeployResult(
            built.xml_form_id, built.version, Action.UPDATED, current.version or None
        )
    log.info(
        "form %s %s (version %s) in project %s",
        built.xml_form_id,
        result.action,
        built.version,
        project_id,
    )
    return result
