"""Submissions over REST (XML body) and over OpenRosa (multipart), edits through
``deprecatedID``, review, comments, delete and restore, versions, attachments."""

import re
from urllib.parse import quote, unquote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from central_sim import web
from central_sim.api_core import actor_json, json_body
from central_sim.odata_rows import URI_SAFE
from central_sim.problems import Problem
from central_sim.submission_xml import Arrival, ParsedSubmission, parse_submission

FORM = "/v1/projects/{project_id}/forms/{xml_form_id}"
SUBMISSION = f"{FORM}/submissions/{{instance_id}}"
REVIEW_STATES = {"hasIssues", "edited", "approved", "rejected"}
_OPENROSA_CREATED = (
    '\n  <OpenRosaResponse xmlns="http://openrosa.org/http/response" items="0">\n'
    '    <message nature="">full submission upload was successful!</message>\n'
    "  </OpenRosaResponse>"
)


def _extended(request: Request) -> bool:
    return web.is_true(request.headers.get("x-extended-metadata"))


def version_json(store, def_row, *, extended: bool, own: bool = False) -> dict:
    """A version as part of its submission, or on its own (``own``), where the
    extended form also names the form version it was made with."""
    data = {
        "submitterId": def_row["submitter_id"],
        "createdAt": def_row["created_at"],
        "instanceName": def_row["instance_name"],
        "instanceId": def_row["instance_id"],
        "current": bool(def_row["current"]),
        "deviceId": def_row["device_id"],
        "userAgent": def_row["user_agent"],
    }
    if extended:
        data["submitter"] = _submitter(store, def_row["submitter_id"])
    if extended and own:
        form_def = store.form_def(def_row["form_def_id"])
        data["formVersion"] = form_def["version"]
    return data


def _submitter(store, actor_id: int | None):
    row = store.actor(actor_id) if actor_id is not None else None
    return actor_json(row) if row is not None else None


def submission_json(store, row, *, extended=False, with_version=True) -> dict:
    """GET and PUT shape; ``created_json`` and ``reviewed_json`` give the two
    narrower shapes Central answers a POST and a PATCH with."""
    data = {
        "instanceId": row["instance_id"],
        "submitterId": row["submitter_id"],
        "deviceId": row["device_id"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "reviewState": row["review_state"],
        "userAgent": row["user_agent"],
        "deletedAt": row["deleted_at"],
    }
    if extended:
        data["submitter"] = _submitter(store, row["submitter_id"])
    if with_version:
        current = store.current_def(row["id"])
        data["currentVersion"] = version_json(store, current, extended=extended)
    return data


def created_json(store, row) -> dict:
    data = submission_json(store, row)
    del data["reviewState"], data["deletedAt"]
    return data


def reviewed_json(store, row) -> dict:
    data = submission_json(store, row, with_version=False)
    del data["userAgent"]
    return data


def _form(request: Request):
    project_id = web.int_param(request, "project_id")
    return web.store(request).form(project_id, request.path_params["xml_form_id"])


def _submission(request: Request, *, deleted: bool = False):
    form = _form(request)
    web.require_admin(request)
    row = web.store(request).submission(
        form["id"], request.path_params["instance_id"], deleted=deleted
    )
    return form, row


def _arrival(request: Request, actor, files: dict | None = None) -> Arrival:
    return Arrival(
        actor_id=actor["id"],
        device_id=request.query_params.get("deviceID"),
        user_agent=request.headers.get("user-agent"),
        files=files or {},
    )


def _form_def_for(store, form, version: str):
    form_def = store.def_for_version(form["id"], version)
    if form_def is None:
        raise Problem.form_version_not_found(version)
    return form_def


def _mismatch(xml_form_id: str) -> Problem:
    return Problem.unexpected_value(
        "form id", xml_form_id, "did not match the form ID in the URL"
    )


async def list_submissions(request: Request):
    form = _form(request)
    web.require_admin(request)
    store = web.store(request)
    rows = store.all(
        "select * from submissions where form_id = ? and deleted_at is null "
        "order by created_at desc, id desc",
        form["id"],
    )
    extended = _extended(request)
    return web.json_response(
        [submission_json(store, r, extended=extended) for r in rows]
    )


async def create_submission(request: Request):
    store = web.store(request)
    parsed = parse_submission(await request.body())
    form = _form(request)
    form_def = _form_def_for(store, form, parsed.version)
    found = web.require_submitter(request, form)
    if parsed.xml_form_id != form["xml_form_id"]:
        raise _mismatch(parsed.xml_form_id)
    submission_id = store.create_submission(
        form=form, form_def=form_def, parsed=parsed, arrival=_arrival(request, found)
    )
    row = store.one("select * from submissions where id = ?", submission_id)
    return web.json_response(created_json(store, row))


async def get_submission(request: Request):
    row, redirect = _current(request)
    if redirect is not None:
        return redirect
    store = web.store(request)
    return web.json_response(submission_json(store, row, extended=_extended(request)))


def _current(request: Request):
    """(submission, None) for the submission the path names, or (None, the
    redirect) when the path names one of its later versions instead."""
    form = _form(request)
    web.require_admin(request)
    instance_id = request.path_params["instance_id"]
    row = web.store(request).find_submission(form["id"], instance_id)
    if row is None:
        return None, _version_redirect(request, form, instance_id)
    return row, None


def _version_redirect(request: Request, form, instance_id: str) -> Response:
    """A submission asked for by a later version's instanceID: Central sends
    the same request on to that version under the logical submission."""
    store = web.store(request)
    version = store.any_def(form["id"], instance_id)
    if version is None or version["submission_deleted_at"] is not None:
        raise Problem.not_found()
    root = store.one(
        "select instance_id from submissions where id = ?", version["submission_id"]
    )[0]
    target = _version_url(web.original_url(request), instance_id, root)
    return Response(
        f"Moved Permanently. Redirecting to {target}",
        301,
        headers={"Location": target},
        media_type="text/plain",
    )


def _version_url(url: str, instance_id: str, root: str) -> str:
    """``…/submissions/<version>/rest`` as ``…/submissions/<root>/versions/
    <version>/rest``: the root encoded, the rest as the client wrote it."""
    path, mark, query = url.partition("?")
    parts = path.split("/")
    for at in range(6, len(parts) - 1):
        segment = unquote(parts[at + 1].removesuffix(".xml"))
        if parts[at] == "submissions" and segment == instance_id:
            encoded = quote(root, safe=URI_SAFE)
            parts[at + 1 : at + 1] = [encoded, "versions"]
            break
    return "/".join(parts) + mark + query


async def submission_xml(request: Request):
    row, redirect = _current(request)
    if redirect is not None:
        return redirect
    current = web.store(request).current_def(row["id"])
    return Response(bytes(current["xml"]), media_type=web.XML_UTF8)


async def review(request: Request):
    _, row = _submission(request)
    body = await json_body(request)
    store = web.store(request)
    if "reviewState" not in body:
        # Nothing to change: Central answers with an empty object.
        return web.json_response({})
    state = body["reviewState"]
    if state is not None and state not in REVIEW_STATES:
        raise Problem.unexpected_value("state", state, "not a recognized state name")
    actor_id = web.require_actor(request)["id"]
    store.set_review_state(row["id"], state, actor_id=actor_id)
    row = store.one("select * from submissions where id = ?", row["id"])
    return web.json_response(reviewed_json(store, row))


async def put_submission(request: Request):
    form, row = _submission(request)
    store = web.store(request)
    parsed = parse_submission(await request.body())
    if parsed.xml_form_id != form["xml_form_id"]:
        raise _mismatch(parsed.xml_form_id)
    if parsed.deprecated_id is None:
        raise Problem.expected_deprecation()
    current = store.current_def(row["id"])
    if current["instance_id"] != parsed.deprecated_id:
        raise Problem.deprecating_old(parsed.deprecated_id)
    form_def = _form_def_for(store, form, parsed.version)
    store.edit_submission(
        form=form,
        form_def=form_def,
        submission=row,
        parsed=parsed,
        arrival=_arrival(request, web.require_actor(request)),
    )
    row = store.one("select * from submissions where id = ?", row["id"])
    return web.json_response(submission_json(store, row))


async def delete_submission(request: Request):
    _, row = _submission(request)
    web.store(request).delete_submission(row["id"])
    return web.success()


async def restore_submission(request: Request):
    _, row = _submission(request, deleted=True)
    web.store(request).restore_submission(row["id"])
    return web.success()


async def list_versions(request: Request):
    _, row = _submission(request)
    store = web.store(request)
    extended = _extended(request)
    return web.json_response(
        [
            version_json(store, d, extended=extended, own=True)
            for d in store.defs(row["id"])
        ]
    )


def _version(request: Request):
    _, row = _submission(request)
    version = next(
        (
            d
            for d in web.store(request).defs(row["id"])
            if d["instance_id"] == request.path_params["version_id"]
        ),
        None,
    )
    if version is None:
        raise Problem.not_found()
    return version


async def get_version(request: Request):
    version = _version(request)
    return web.json_response(
        version_json(web.store(request), version, extended=_extended(request), own=True)
    )


async def version_xml(request: Request):
    return Response(bytes(_version(request)["xml"]), media_type=web.XML_UTF8)


async def list_audits(request: Request):
    _, row = _submission(request)
    return web.json_response(web.store(request).audits(submission_id=row["id"]))


async def list_comments(request: Request):
    _, row = _submission(request)
    return web.json_response(web.store(request).comments(row["id"]))


async def add_comment(request: Request):
    _, row = _submission(request)
    body = await json_body(request)
    text = body.get("body")
    if text is None:
        raise Problem.missing_parameter("body")
    comment = web.store(request).add_comment(
        submission_id=row["id"], actor_id=web.require_actor(request)["id"], body=text
    )
    return web.json_response(comment)


def _attachments_json(store, def_id: int) -> list[dict]:
    return [
        {"name": a["name"], "exists": a["content"] is not None}
        for a in store.submission_attachments(def_id)
    ]


def _attachment_response(store, def_id: int, name: str) -> Response:
    found = next(
        (
            a
            for a in store.submission_attachments(def_id)
            if a["name"] == name and a["content"] is not None
        ),
        None,
    )
    if found is None:
        raise Problem.not_found()
    kind = found["content_type"] or "application/octet-stream"
    # Central lets a browser show JPEG, PNG and GIF in place; the rest downloads.
    disposition = "inline" if kind in _INLINE_TYPES else "attachment"
    return Response(
        bytes(found["content"]),
        media_type=kind,
        headers={"Content-Disposition": web.content_disposition(name, disposition)},
    )


_INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif"})


async def list_attachments(request: Request):
    row, redirect = _current(request)
    if redirect is not None:
        return redirect
    return web.json_response(
        _attachments_json(web.store(request), row["current_def_id"])
    )


async def get_attachment(request: Request):
    row, redirect = _current(request)
    if redirect is not None:
        return redirect
    return _attachment_response(
        web.store(request), row["current_def_id"], request.path_params["name"]
    )


async def version_attachments(request: Request):
    return web.json_response(
        _attachments_json(web.store(request), _version(request)["id"])
    )


async def version_attachment(request: Request):
    return _attachment_response(
        web.store(request), _version(request)["id"], request.path_params["name"]
    )


async def upload_attachment(request: Request):
    _, row = _submission(request)
    name = request.path_params["name"]
    kind = request.headers.get("content-type") or "application/octet-stream"
    web.store(request).set_attachment(
        def_id=row["current_def_id"], name=name, content=await request.body(), kind=kind
    )
    return web.success()


# OpenRosa


async def openrosa_head(request: Request):
    web.store(request).project(web.int_param(request, "project_id"))
    return Response(status_code=204, headers=web.OPENROSA_HEADERS)


async def openrosa_submit(request: Request):
    project_id = web.int_param(request, "project_id")
    store = web.store(request)
    xml, files = await _multipart(request)
    parsed = parse_submission(xml)
    found = web.require_actor(request)
    form = store.form(project_id, parsed.xml_form_id)
    form_def = _form_def_for(store, form, parsed.version)
    if found["type"] != "user" and not store.is_assigned(
        actor_id=found["id"], form_id=form["id"]
    ):
        # Central answers an OpenRosa client without rights as unauthenticated.
        raise Problem.authentication_failed()
    context = {
        "store": store,
        "form": form,
        "form_def": form_def,
        "arrival": _arrival(request, found, files),
    }
    if parsed.deprecated_id is not None:
        _openrosa_edit(parsed, context)
    else:
        _openrosa_new(parsed, context)
    return web.openrosa(_OPENROSA_CREATED, 201)


def _openrosa_new(parsed: ParsedSubmission, context: dict) -> None:
    store, form = context["store"], context["form"]
    extant = store.any_def(form["id"], parsed.instance_id)
    if extant is None:
        store.create_submission(
            form=form,
            form_def=context["form_def"],
            parsed=parsed,
            arrival=context["arrival"],
        )
        return
    if extant["submission_deleted_at"] is not None:
        raise Problem.duplicate_deleted()
    if not extant["current"]:
        # Central (4f5943d) passes the wrong key to this message, so it reads
        # "(undefined)" where the instanceID should be.
        raise Problem.deprecating_old("undefined")
    if bytes(extant["xml"]) != parsed.xml:
        raise Problem.xml_conflict()
    store.add_attachments(def_id=extant["id"], files=context["arrival"].files)


def _openrosa_edit(parsed: ParsedSubmission, context: dict) -> None:
    store, form = context["store"], context["form"]
    deprecated = store.any_def(form["id"], parsed.deprecated_id)
    if deprecated is None:
        raise Problem.deprecated_id_not_found(parsed.deprecated_id)
    if not deprecated["current"]:
        usurper = store.any_def(form["id"], parsed.instance_id)
        if usurper is None or not usurper["current"]:
            raise Problem.deprecating_old(parsed.deprecated_id)
        if bytes(usurper["xml"]) != parsed.xml:
            raise Problem.xml_conflict()
        store.add_attachments(def_id=usurper["id"], files=context["arrival"].files)
        return
    submission = store.one(
        "select * from submissions where id = ?", deprecated["submission_id"]
    )
    store.edit_submission(
        form=form,
        form_def=context["form_def"],
        submission=submission,
        parsed=parsed,
        arrival=context["arrival"],
    )


async def _multipart(request: Request) -> tuple[bytes, dict]:
    await _refuse_unfinished(request)
    try:
        async with request.form(max_files=10000, max_fields=10000) as form:
            return await _read_parts(form)
    except Problem:
        raise
    except Exception as err:  # any parser failure is Central's 400.39
        raise Problem.unparseable_multipart() from err


async def _refuse_unfinished(request: Request) -> None:
    """A multipart body that stops before its closing boundary, which Central's
    parser (busboy) reports as the end of the form coming too soon."""
    kind = request.headers.get("content-type", "")
    boundary = re.search(r'boundary="?([^";]+)"?', kind)
    if not kind.startswith("multipart/") or boundary is None:
        return
    if f"--{boundary.group(1)}--".encode() not in await request.body():
        raise Problem.unparseable_multipart()


async def _read_parts(form) -> tuple[bytes, dict]:
    xml, files = None, {}
    for key, value in form.multi_items():
        if not hasattr(value, "read"):
            continue
        content = await value.read()
        if key == "xml_submission_file" and xml is None:
            xml = content
        else:
            files[value.filename or key] = (
                content,
                value.content_type or "application/octet-stream",
            )
    if xml is None:
        raise Problem.missing_multipart_field("xml_submission_file")
    return xml, files


routes = [
    Route("/v1/projects/{project_id}/submission", openrosa_head, methods=["GET"]),
    Route("/v1/projects/{project_id}/submission", openrosa_submit, methods=["POST"]),
    Route(f"{FORM}/submissions", list_submissions, methods=["GET"]),
    Route(f"{FORM}/submissions", create_submission, methods=["POST"]),
    Route(f"{SUBMISSION}.xml", submission_xml, methods=["GET"]),
    Route(SUBMISSION, get_submission, methods=["GET"]),
    Route(SUBMISSION, review, methods=["PATCH"]),
    Route(SUBMISSION, put_submission, methods=["PUT"]),
    Route(SUBMISSION, delete_submission, methods=["DELETE"]),
    Route(f"{SUBMISSION}/restore", restore_submission, methods=["POST"]),
    Route(f"{SUBMISSION}/versions", list_versions, methods=["GET"]),
    Route(f"{SUBMISSION}/versions/{{version_id}}.xml", version_xml, methods=["GET"]),
    Route(f"{SUBMISSION}/versions/{{version_id}}", get_version, methods=["GET"]),
    Route(
        f"{SUBMISSION}/versions/{{version_id}}/attachments",
        version_attachments,
        methods=["GET"],
    ),
    Route(
        f"{SUBMISSION}/versions/{{version_id}}/attachments/{{name}}",
        version_attachment,
        methods=["GET"],
    ),
    Route(f"{SUBMISSION}/comments", list_comments, methods=["GET"]),
    Route(f"{SUBMISSION}/audits", list_audits, methods=["GET"]),
    Route(f"{SUBMISSION}/comments", add_comment, methods=["POST"]),
    Route(f"{SUBMISSION}/attachments", list_attachments, methods=["GET"]),
    Route(f"{SUBMISSION}/attachments/{{name}}", get_attachment, methods=["GET"]),
    Route(f"{SUBMISSION}/attachments/{{name}}", upload_attachment, methods=["POST"]),
]
