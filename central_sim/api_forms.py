"""Forms from XForm XML: create, drafts and their media, publish, list and get,
versions, fields, and the OpenRosa form list and manifest Collect reads."""

import mimetypes
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from central_sim import web
from central_sim.odata_rows import URI_SAFE
from central_sim.problems import Problem

FORM = "/v1/projects/{project_id}/forms/{xml_form_id}"
_EXCEL = (
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)


def form_json(form, form_def, *, draft: bool = False) -> dict:
    return {
        "projectId": form["project_id"],
        "xmlFormId": form["xml_form_id"],
        "state": form["state"],
        "enketoId": None,
        "enketoOnceId": None,
        "createdAt": form["created_at"],
        "updatedAt": form["updated_at"],
        "webformsEnabled": True,
        "keyId": form_def["key_id"] if form_def is not None else None,
        "version": form_def["version"] if form_def is not None else None,
        "hash": form_def["hash"] if form_def is not None else None,
        "sha": form_def["sha"] if form_def is not None else None,
        "sha256": form_def["sha256"] if form_def is not None else None,
        "draftToken": form_def["draft_token"] if draft and form_def else None,
        "publishedAt": form_def["published_at"] if form_def is not None else None,
        "name": form_def["name"] if form_def is not None else None,
    }


def _visible_def(store, form):
    def_id = form["current_def_id"] or form["draft_def_id"]
    return store.form_def(def_id) if def_id is not None else None


async def _xml_body(request: Request) -> bytes:
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type in _EXCEL:
        raise Problem(
            501.3,
            "This ODK Central has not been configured to allow XLSForm conversion. "
            "Please upload an XForms XML file (try XLSForm Online) or contact your "
            "server administrator.",
        )
    return await request.body()


async def create_form(request: Request):
    project_id = web.int_param(request, "project_id")
    web.require_admin(request)
    xml = await _xml_body(request)
    store = web.store(request)
    publish = web.is_true(request.query_params.get("publish"))
    form_id = store.create_form(project_id=project_id, xml=xml, publish=publish)
    form = store.one("select * from forms where id = ?", form_id)
    return web.json_response(
        form_json(form, _visible_def(store, form), draft=not publish)
    )


async def list_forms(request: Request):
    project_id = web.int_param(request, "project_id")
    web.require_admin(request)
    store = web.store(request)
    return web.json_response(
        [
            form_json(f, _visible_def(store, f), draft=f["current_def_id"] is None)
            for f in store.forms(project_id)
        ]
    )


async def get_form(request: Request):
    project_id = web.int_param(request, "project_id")
    store = web.store(request)
    form = store.form(project_id, request.path_params["xml_form_id"])
    _require_form_reader(request, form)
    return web.json_response(
        form_json(form, _visible_def(store, form), draft=form["current_def_id"] is None)
    )


async def get_draft(request: Request):
    project_id = web.int_param(request, "project_id")
    web.require_admin(request)
    form, draft = web.store(request).draft_form(
        project_id, request.path_params["xml_form_id"]
    )
    return web.json_response(form_json(form, draft, draft=True))


async def list_versions(request: Request):
    project_id = web.int_param(request, "project_id")
    web.require_admin(request)
    store = web.store(request)
    form = store.form(project_id, request.path_params["xml_form_id"])
    return web.json_response(
        [form_json(form, d) for d in store.published_versions(form["id"])]
    )


async def form_xml(request: Request):
    """The published version's XForm, or the draft's while there is none, as
    Central serves a form's "any version"."""
    project_id = web.int_param(request, "project_id")
    store = web.store(request)
    form, form_def = store.visible_form(project_id, request.path_params["xml_form_id"])
    _require_form_reader(request, form)
    return Response(bytes(form_def["xml"]), media_type=web.XML_UTF8)


async def version_xml(request: Request):
    """A published version's XForm, as Central keeps every version it published."""
    project_id = web.int_param(request, "project_id")
    store = web.store(request)
    form = store.form(project_id, request.path_params["xml_form_id"])
    _require_form_reader(request, form)
    form_def = store.def_for_version(form["id"], request.path_params["version"])
    if form_def is None:
        raise Problem.not_found()
    return Response(bytes(form_def["xml"]), media_type=web.XML_UTF8)


async def draft_xml(request: Request):
    project_id = web.int_param(request, "project_id")
    web.require_admin(request)
    _, form_def = web.store(request).draft_form(
        project_id, request.path_params["xml_form_id"]
    )
    return Response(bytes(form_def["xml"]), media_type=web.XML_UTF8)


def _require_form_reader(request: Request, form) -> None:
    found = web.require_actor(request)
    if found["type"] != "user":
        web.require_submitter(request, form)


async def form_fields(request: Request):
    project_id = web.int_param(request, "project_id")
    store = web.store(request)
    form, form_def = store.visible_form(project_id, request.path_params["xml_form_id"])
    _require_form_reader(request, form)
    odata = web.is_true(request.query_params.get("odata"))
    return web.json_response(
        [f.for_api(odata=odata) for f in store.fields(form_def["id"])]
    )


async def create_draft(request: Request):
    project_id = web.int_param(request, "project_id")
    web.require_admin(request)
    body = await _xml_body(request)
    web.store(request).create_draft(
        project_id=project_id,
        xml_form_id=request.path_params["xml_form_id"],
        xml=body or None,
    )
    return web.success()


async def discard_draft(request: Request):
    project_id = web.int_param(request, "project_id")
    web.require_admin(request)
    web.store(request).discard_draft(
        project_id=project_id, xml_form_id=request.path_params["xml_form_id"]
    )
    return web.success()


async def publish_draft(request: Request):
    project_id = web.int_param(request, "project_id")
    web.require_admin(request)
    web.store(request).publish_draft(
        project_id=project_id,
        xml_form_id=request.path_params["xml_form_id"],
        version=request.query_params.get("version") or None,
    )
    return web.success()


def attachment_json(row) -> dict:
    data = {
        "name": row["name"],
        "type": row["type"],
        "hash": row["hash"],
        "exists": row["content"] is not None,
        "blobExists": row["content"] is not None,
        "datasetExists": False,
    }
    if row["updated_at"] is not None:
        data["updatedAt"] = row["updated_at"]
    if row["content"] is not None:
        data["size"] = len(row["content"])
    return data


async def draft_attachments(request: Request):
    project_id = web.int_param(request, "project_id")
    web.require_admin(request)
    store = web.store(request)
    _, draft = store.draft_form(project_id, request.path_params["xml_form_id"])
    return web.json_response(
        [attachment_json(a) for a in store.form_attachments(draft["id"])]
    )


async def upload_draft_attachment(request: Request):
    project_id = web.int_param(request, "project_id")
    web.require_admin(request)
    store = web.store(request)
    _, draft = store.draft_form(project_id, request.path_params["xml_form_id"])
    name = request.path_params["name"]
    kind = request.headers.get("content-type") or _mimetype(name)
    row = store.set_form_attachment(
        def_id=draft["id"], name=name, content=await request.body(), kind=kind
    )
    return web.json_response(attachment_json(row))


def _mimetype(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


async def form_attachments(request: Request):
    project_id = web.int_param(request, "project_id")
    web.require_admin(request)
    store = web.store(request)
    _, form_def = store.visible_form(project_id, request.path_params["xml_form_id"])
    return web.json_response(
        [attachment_json(a) for a in store.form_attachments(form_def["id"])]
    )


async def form_attachment(request: Request):
    project_id = web.int_param(request, "project_id")
    store = web.store(request)
    form, form_def = store.visible_form(project_id, request.path_params["xml_form_id"])
    _require_form_reader(request, form)
    name = request.path_params["name"]
    row = next(
        (a for a in store.form_attachments(form_def["id"]) if a["name"] == name), None
    )
    if row is None or row["content"] is None:
        raise Problem.not_found()
    return Response(
        bytes(row["content"]),
        media_type=row["content_type"],
        headers={"Content-Disposition": web.content_disposition(name)},
    )


async def manifest(request: Request):
    project_id = web.int_param(request, "project_id")
    store = web.store(request)
    form, form_def = store.visible_form(project_id, request.path_params["xml_form_id"])
    _require_form_reader(request, form)
    base = (
        web.domain(request)
        + web.original_url(request).split("?")[0].rsplit("/manifest", 1)[0]
    )
    files = "".join(
        "\n    <mediaFile>\n"
        f"      <filename>{web.xml_escape(a['name'])}</filename>\n"
        f"      <hash>md5:{a['hash']}</hash>\n"
        f"      <downloadUrl>{base}/attachments/{quote(a['name'], safe=URI_SAFE)}"
        "</downloadUrl>\n    </mediaFile>"
        for a in store.form_attachments(form_def["id"])
        if a["content"] is not None
    )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '  <manifest xmlns="http://openrosa.org/xforms/xformsManifest">'
        f"{files}\n  </manifest>"
    )
    return web.openrosa(body)


async def form_list(request: Request):
    """The forms the caller may fill in; none for an app user of another
    project, whom Central answers with an empty list."""
    project_id = web.int_param(request, "project_id")
    found = web.require_actor(request)
    store = web.store(request)
    base = (
        web.domain(request)
        + web.original_url(request).split("?")[0].rsplit("/formList", 1)[0]
    )
    wanted = request.query_params.get("formID")
    entries = []
    for form in store.forms(project_id):
        if form["current_def_id"] is None:
            continue
        if wanted is not None and form["xml_form_id"] != wanted:
            continue
        if found["type"] != "user" and not store.is_assigned(
            actor_id=found["id"], form_id=form["id"]
        ):
            continue
        entries.append(_form_list_entry(store, form, base))
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '  <xforms xmlns="http://openrosa.org/xforms/xformsList">'
        f"{''.join(entries)}\n  </xforms>"
    )
    return web.openrosa(body)


def _form_list_entry(store, form, base: str) -> str:
    form_def = store.form_def(form["current_def_id"])
    xml_form_id = web.xml_escape(form["xml_form_id"])
    name = web.xml_escape(form_def["name"] or form["xml_form_id"])
    url_id = quote(form["xml_form_id"], safe=URI_SAFE)
    has_media = any(
        a["content"] is not None for a in store.form_attachments(form_def["id"])
    )
    manifest_url = (
        f"\n      <manifestUrl>{base}/forms/{url_id}/manifest</manifestUrl>"
        if has_media
        else ""
    )
    return (
        "\n    <xform>\n"
        f"      <formID>{xml_form_id}</formID>\n"
        f"      <name>{name}</name>\n"
        f"      <version>{web.xml_escape(form_def['version'])}</version>\n"
        f"      <hash>md5:{form_def['hash']}</hash>\n"
        f"      <downloadUrl>{base}/forms/{url_id}.xml</downloadUrl>"
        f"{manifest_url}\n    </xform>"
    )


routes = [
    Route("/v1/projects/{project_id}/forms", list_forms, methods=["GET"]),
    Route("/v1/projects/{project_id}/forms", create_form, methods=["POST"]),
    Route("/v1/projects/{project_id}/formList", form_list, methods=["GET"]),
    Route("/v1/projects/{project_id}/forms/{xml_form_id}.xml", form_xml),
    Route(FORM, get_form, methods=["GET"]),
    Route(f"{FORM}/versions", list_versions, methods=["GET"]),
    Route(f"{FORM}/versions/{{version}}.xml", version_xml, methods=["GET"]),
    Route(f"{FORM}/fields", form_fields, methods=["GET"]),
    Route(f"{FORM}/manifest", manifest, methods=["GET"]),
    Route(f"{FORM}/attachments", form_attachments, methods=["GET"]),
    Route(f"{FORM}/attachments/{{name}}", form_attachment, methods=["GET"]),
    Route(f"{FORM}/draft", get_draft, methods=["GET"]),
    Route(f"{FORM}/draft", create_draft, methods=["POST"]),
    Route(f"{FORM}/draft", discard_draft, methods=["DELETE"]),
    Route(f"{FORM}/draft.xml", draft_xml, methods=["GET"]),
    Route(f"{FORM}/draft/publish", publish_draft, methods=["POST"]),
    Route(f"{FORM}/draft/attachments", draft_attachments, methods=["GET"]),
    Route(
        f"{FORM}/draft/attachments/{{name}}",
        upload_draft_attachment,
        methods=["POST"],
    ),
]
