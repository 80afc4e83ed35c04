"""``submissions.csv.zip`` and ``submissions.csv``, with the OData ``$filter``
subset."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from central_sim import csv_export, web
from central_sim.odata_filter import compile_filter

FORM = "/v1/projects/{project_id}/forms/{xml_form_id}"
_COLUMNS = (
    "s.id, s.instance_id, s.created_at, s.submitter_id, a.display_name, "
    "d.attachments_present, d.attachments_expected, d.encrypted, s.review_state, "
    "s.device_id, s.edits, s.form_version, d.xml, d.id as def_id, fd.key_id"
)


def _export(request: Request, *, root_only: bool):
    project_id = web.int_param(request, "project_id")
    web.require_admin(request)
    store = web.store(request)
    form, form_def = store.published_form(
        project_id, request.path_params["xml_form_id"]
    )
    where = compile_filter(request.query_params.get("$filter"))
    submissions = store.all(
        # The condition comes from the whitelist in odata_filter.
        f"select {_COLUMNS} from submissions s "  # noqa: S608
        "join submission_defs d on d.id = s.current_def_id "
        "join form_defs fd on fd.id = d.form_def_id "
        "left join actors a on a.id = s.submitter_id "
        f"where s.form_id = ? and {where.sql} order by s.created_at desc, s.id desc",
        form["id"],
        *where.params,
    )
    tables = csv_export.build_tables(
        store.fields(form_def["id"]), submissions, root_only=root_only
    )
    return form, tables, submissions


async def csv_zip(request: Request):
    """With media unless ``attachments=false``; then Central names the file
    ``<form>.csv.zip`` rather than ``<form>.zip``."""
    form, tables, submissions = _export(request, root_only=False)
    with_media = (request.query_params.get("attachments") or "").lower() != "false"
    media = _media(web.store(request), submissions) if with_media else []
    name = csv_export.sanitize_filename(form["xml_form_id"])
    filename = f"{name}.zip" if with_media else f"{name}.csv.zip"
    return Response(
        csv_export.zip_export(form["xml_form_id"], tables, media),
        media_type="application/zip",
        headers={"Content-Disposition": web.content_disposition(filename)},
    )


def _media(store, submissions) -> list[tuple[str, bytes]]:
    """The files Central puts under ``media/``: never an envelope's encrypted
    XML, and nothing of an encrypted form, whose files only a passphrase (which
    the simulator does not take) would decrypt."""
    media = []
    for submission in submissions:
        if submission["key_id"] is not None:
            continue
        media.extend(
            (a["name"], bytes(a["content"]))
            for a in store.submission_attachments(submission["def_id"])
            if a["content"] is not None
        )
    return media


async def csv_root(request: Request):
    form, tables, _ = _export(request, root_only=True)
    name = csv_export.sanitize_filename(form["xml_form_id"])
    return Response(
        csv_export.render(tables[0]),
        media_type="text/csv",
        headers={"Content-Disposition": web.content_disposition(f"{name}.csv")},
    )


routes = [
    Route(f"{FORM}/submissions.csv.zip", csv_zip, methods=["GET"]),
    Route(f"{FORM}/submissions.csv", csv_root, methods=["GET"]),
]
