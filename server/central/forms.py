"""The Central calls that deploy forms and provision app users.

Through pyodk where pyodk 1.3 has the call (forms create/update with drafts and
attachments, app users, form assignment); through the pyodk session for the one
it lacks (listing a form's assignments). A failure becomes a ``CentralError``
with the URL, the status and Central's short answer. Nothing is retried here:
deploying and provisioning are idempotent, so running the command again is the
retry."""

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from pyodk._endpoints.form_assignments import FormAssignmentService
from pyodk._endpoints.forms import Form
from pyodk._endpoints.project_app_users import ProjectAppUser, ProjectAppUserService
from pyodk.client import Client
from pyodk.errors import PyODKError
from requests import Response

from server.errors import CentralError

log = logging.getLogger(__name__)

# Central's fixed id of the "App User" role (central-backend's role seed data).
APP_USER_ROLE_ID = 2
T = TypeVar("T")


@contextmanager
def _as_central_error(what: str) -> Iterator[None]:
    try:
        yield
    except PyODKError as err:
        response = err.args[1] if len(err.args) > 1 else None
        if isinstance(response, Response):
            raise CentralError(
                f"Central refused to {what} (HTTP {response.status_code})",
                url=response.url,
                status=response.status_code,
                body=response.text,
            ) from err
        raise CentralError(f"could not {what}: {err}", url="", status=None) from err


def _call(what: str, call: Callable[[], T]) -> T:
    with _as_central_error(what):
        return call()


def get_form(client: Client, *, project_id: int, xml_form_id: str) -> Form | None:
    """The form's metadata, or None when Central has no such form. Read from
    the project's form list: pyodk logs every 404 at ERROR, and a missing form
    is an expected answer here."""
    forms = _call("list forms", lambda: client.forms.list(project_id=project_id))
    return next((f for f in forms if f.xmlFormId == xml_form_id), None)


def create_form(
    client: Client,
    *,
    project_id: int,
    xml_form_id: str,
    xform: Path,
    media: Sequence[Path],
) -> None:
    """Create the form as a draft, upload its media, publish it (pyodk does the
    three steps)."""
    _call(
        f"create form {xml_form_id}",
        lambda: client.forms.create(
            definition=xform,
            attachments=[str(p) for p in media],
            form_id=xml_form_id,
            project_id=project_id,
        ),
    )


def replace_form(
    client: Client,
    *,
    project_id: int,
    xml_form_id: str,
    xform: Path,
    media: Sequence[Path],
) -> None:
    """A new draft from ``xform``, its media uploaded, then published; the
    version is the one in the XForm."""
    _call(
        f"publish a new version of form {xml_form_id}",
        lambda: client.forms.update(
            xml_form_id,
            project_id=project_id,
            definition=xform,
            attachments=[str(p) for p in media],
        ),
    )


def project_name(client: Client, *, project_id: int) -> str:
    return _call(
        f"read project {project_id}", lambda: client.projects.get(project_id).name
    )


def app_users(client: Client, *, project_id: int) -> list[ProjectAppUser]:
    """The project's active app users (revoked ones have no token)."""
    service = ProjectAppUserService(session=client.session)
    users = _call("list app users", lambda: service.list(project_id=project_id))
    return [u for u in users if u.token is not None and u.deletedAt is None]


def create_app_user(
    client: Client, *, project_id: int, display_name: str
) -> ProjectAppUser:
    service = ProjectAppUserService(session=client.session)
    return _call(
        "create an app user",
        lambda: service.create(display_name=display_name, project_id=project_id),
    )


def assigned_app_users(
    client: Client, *, project_id: int, xml_form_id: str
) -> set[int]:
    """Actor ids holding the App User role on the form. pyodk 1.3 has no call
    for this listing, so it goes through its session."""
    url = client.session.urlformat(
        "projects/{project_id}/forms/{form_id}/assignments",
        project_id=project_id,
        form_id=xml_form_id,
    )
    response = _call(
        f"list assignments of form {xml_form_id}",
        lambda: client.session.response_or_error("GET", url, logger=log),
    )
    return {a["actorId"] for a in response.json() if a["roleId"] == APP_USER_ROLE_ID}


def assign_form(
    client: Client, *, project_id: int, xml_form_id: str, actor_id: int
) -> None:
    service = FormAssignmentService(session=client.session)
    _call(
        f"assign form {xml_form_id}",
        lambda: service.assign(
            role_id=APP_USER_ROLE_ID,
            user_id=actor_id,
            form_id=xml_form_id,
            project_id=project_id,
        ),
    )


def published_versions(
    client: Client, *, project_id: int, xml_form_id: str
) -> list[str]:
    """Every version ever published for the form (pyodk 1.3 has no call)."""
    url = client.session.urlformat(
        "projects/{project_id}/forms/{form_id}/versions",
        project_id=project_id,
        form_id=xml_form_id,
    )
    response = _call(
        f"list versions of form {xml_form_id}",
        lambda: client.session.response_or_error("GET", url, logger=log),
    )
    return [v["version"] for v in response.json()]
