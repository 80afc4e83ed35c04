"""Provision ODK Collect for communes: one app user per commune, the commune
forms assigned to it, and a settings QR code that Collect scans.

The QR code carries ODK Collect's settings payload (docs.getodk.org,
"Settings QR codes"): a JSON object with ``general``, ``admin`` and ``project``
sections, zlib-compressed, then base64. ``general.server_url`` is Central's
URL with the app user's key, ``/v1/key/<token>/projects/<projectId>``, as
Central's own app-user QR codes do, so the code is itself the credential: the
PNG files are written readable by their owner only, and the token is never
logged."""

import base64
import json
import logging
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

import segno
from pyodk.client import Client

from server.central import forms as central_forms
from server.errors import ConfigurationError, InvalidInput
from server.forms.units import Commune

log = logging.getLogger(__name__)

# Commune devices fill the child and commune forms. The trafficking review is
# recorded by district and provincial staff and police, with access limited to
# named people (forms_draft.md, section D), so no commune device receives it.
COMMUNE_FORMS = ("ag_child_case", "ag_commune_drugfree")
_COMMUNE_CODE = re.compile(r"\d{5}")


@dataclass(frozen=True)
class ProvisionedCommune:
    commune_code: str
    # The app user's name in Central, which may be an older commune name.
    display_name: str
    actor_id: int
    created: bool
    assigned: tuple[str, ...]
    qr_png: Path
    # The unit list names the commune otherwise than the app user is named.
    renamed: bool


def select_communes(
    communes: list[Commune], *, district: str | None, commune: str | None
) -> list[Commune]:
    """The communes of ``district``, or the one ``commune`` (which must lie in
    ``district`` when both are given)."""
    if not district and not commune:
        raise InvalidInput("give --district CODE or --commune CODE")
    chosen = [
        c
        for c in communes
        if (not district or c.district_code == district)
        and (not commune or c.code == commune)
    ]
    if not chosen:
        raise InvalidInput(
            f"no commune matches district {district or '(any)'} and commune "
            f"{commune or '(any)'} in the 2016-2020 unit list",
            district=district,
            commune=commune,
        )
    return chosen


def display_name(commune: Commune) -> str:
    return f"{commune.code} {commune.name}"


def commune_code(app_user_name: str) -> str | None:
    """The commune an app user was created for: the code its display name
    starts with (None for app users named otherwise, e.g. by hand)."""
    code = app_user_name.split(" ", 1)[0]
    return code if _COMMUNE_CODE.fullmatch(code) else None


def provision(
    client: Client,
    *,
    project_id: int,
    central_url: str,
    communes: list[Commune],
    out_dir: Path,
) -> list[ProvisionedCommune]:
    _require_deployed(client, project_id=project_id)
    project = central_forms.project_name(client, project_id=project_id)
    existing = _by_commune(central_forms.app_users(client, project_id=project_id))
    assigned = {
        f: central_forms.assigned_app_users(
            client, project_id=project_id, xml_form_id=f
        )
        for f in COMMUNE_FORMS
    }
    _private_dir(out_dir)
    context = _Context(client, project_id, central_url, project, existing, assigned)
    return [_provision_one(context, commune, out_dir) for commune in communes]


@dataclass
class _Context:
    client: Client
    project_id: int
    central_url: str
    project_name: str
    # commune code -> app user, and form -> actor ids assigned; both kept up
    # to date as users are created and assigned.
    existing: dict
    assigned: dict[str, set[int]]


def _provision_one(
    ctx: _Context, commune: Commune, out_dir: Path
) -> ProvisionedCommune:
    user, created = _app_user(ctx.client, ctx.project_id, commune, ctx.existing)
    new_forms = _assign(ctx.client, ctx.project_id, user.id, ctx.assigned)
    payload = collect_settings(
        central_url=ctx.central_url,
        token=user.token,
        project_id=ctx.project_id,
        project_name=f"{ctx.project_name}: {commune.name}",
        username=commune.code,
    )
    png = write_qr(payload, out_dir / f"{commune.code}.png")
    log.info(
        "app user %s for commune %s (%s), forms newly assigned: %s",
        user.id,
        commune.code,
        "created" if created else "reused",
        ",".join(new_forms) or "none",
    )
    # Reported by the caller (the CLI prints a note), not logged here too.
    renamed = user.displayName != display_name(commune)
    return ProvisionedCommune(
        commune.code, user.displayName, user.id, created, new_forms, png, renamed
    )


def _require_deployed(client: Client, *, project_id: int) -> None:
    for xml_form_id in COMMUNE_FORMS:
        form = central_forms.get_form(
            client, project_id=project_id, xml_form_id=xml_form_id
        )
        if form is None or form.publishedAt is None:
            raise ConfigurationError(
                f"form {xml_form_id} is not published in project {project_id}: run "
                "'trogiup forms deploy' first"
            )


def _by_commune(users: list) -> dict:
    """Commune code -> its app user. Matched by code, not by the whole name, so
    that renaming a commune in the unit list reuses its app user rather than
    creating a second one while the first keeps access. Of several app users
    for one code (made by hand, or before matching by code), the oldest."""
    found: dict = {}
    for user in sorted(users, key=lambda u: u.id):
        code = commune_code(user.displayName)
        if code is None:
            continue
        if code in found:
            log.warning(
                "commune %s has app users %s and %s; reusing %s (revoke the other "
                "in Central if it is not in use)",
                code,
                found[code].id,
                user.id,
                found[code].id,
            )
            continue
        found[code] = user
    return found


def _app_user(client: Client, project_id: int, commune: Commune, existing: dict):
    # Central (checked up to central-backend v2026.3) has no call to rename an
    # app user: PATCH /projects/:id/app-users/:id sets actor properties only.
    # An app user found by its code therefore keeps the name it was made with.
    if commune.code in existing:
        return existing[commune.code], False
    user = central_forms.create_app_user(
        client, project_id=project_id, display_name=display_name(commune)
    )
    existing[commune.code] = user
    return user, True


def _assign(
    client: Client, project_id: int, actor_id: int, assigned: dict[str, set[int]]
) -> tuple[str, ...]:
    new = []
    for xml_form_id, actors in assigned.items():
        if actor_id not in actors:
            central_forms.assign_form(
                client,
                project_id=project_id,
                xml_form_id=xml_form_id,
                actor_id=actor_id,
            )
            actors.add(actor_id)
            new.append(xml_form_id)
    return tuple(new)


def collect_settings(
    *, central_url: str, token: str, project_id: int, project_name: str, username: str
) -> str:
    """The QR payload: base64 of the zlib-compressed settings JSON."""
    settings = {
        "general": {
            "server_url": f"{central_url.rstrip('/')}/v1/key/{token}/projects/"
            f"{project_id}",
            # Devices mirror the published versions, as Central's own codes ask.
            "form_update_mode": "match_exactly",
            "autosend": "wifi_and_cellular",
            # Fills the forms' ``username`` metadata: the commune code.
            "metadata_username": username,
        },
        # Collect needs the key even when no protected setting is changed.
        "admin": {},
        "project": {"name": project_name, "icon": "T", "color": "#1F4E78"},
    }
    packed = zlib.compress(json.dumps(settings, ensure_ascii=False).encode("utf-8"))
    return base64.b64encode(packed).decode("ascii")


def read_collect_settings(payload: str) -> dict:
    """The settings JSON back from a QR payload (for checks and support)."""
    return json.loads(zlib.decompress(base64.b64decode(payload)).decode("utf-8"))


def write_qr(payload: str, path: Path) -> Path:
    qr = segno.make(payload, micro=False, error="m")
    qr.save(str(path), scale=5, border=4)
    os.chmod(path, 0o600)
    return path


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
