"""The OData feed: service document, $metadata, the Submissions table and repeat
tables, and single records, with Central's paging, counting and refusals.

Central pages the Submissions table in the database (a cursor on createdAt and
id carried in ``$skiptoken``) and repeat tables in application code (a cursor
on the repeat row id); both are reproduced here, quirks included: with ``$skip``
a next link is written whenever the filtered total exceeds the page."""

import base64
import json
import re
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from central_sim import web
from central_sim.edmx import edmx
from central_sim.odata_filter import compile_filter, compile_orderby
from central_sim.odata_rows import Options, dumps, submission_rows
from central_sim.problems import Problem
from central_sim.xform import repeat_tables

SVC = "/v1/projects/{project_id}/forms/{xml_form_id}.svc"
_SUPPORTED = {
    "$format", "$count", "$skip", "$top", "$filter", "$wkt", "$expand", "$select",
    "$skiptoken", "$orderby", "$search",
}  # fmt: skip
_JSON_TYPE = re.compile(r"(^|,)(application/json|json)($|;|,)", re.IGNORECASE)
_XML_TYPE = re.compile(
    r"(^|,)(application/(atom(svc)?\+)?xml|atom|xml)($|;|,)", re.IGNORECASE
)
_RECORD = re.compile(r"^([^(]+)\('((?:uuid:)?[a-z0-9-]+)'\)$", re.IGNORECASE)
_SYSTEM_KEYS = (
    "submissionDate", "updatedAt", "submitterId", "submitterName",
    "attachmentsPresent", "attachmentsExpected", "status", "reviewState",
    "deviceId", "edits", "formVersion", "deletedAt",
)  # fmt: skip
_ROW_COLUMNS = (
    "s.id, s.instance_id, s.created_at, s.updated_at, s.submitter_id, "
    "a.display_name, d.attachments_present, d.attachments_expected, d.encrypted, "
    "s.review_state, s.device_id, s.edits, s.form_version, s.deleted_at, "
    "d.id as def_id, d.rendered_def_id, d.head, d.tail, d.head_x, d.tail_x"
)
_FROM = (
    "from submissions s join submission_defs d on d.id = s.current_def_id "
    "left join actors a on a.id = s.submitter_id"
)


def preflight(request: Request, *, xml: bool = False) -> None:
    """Central's OData preprocessor, run before authentication: format,
    supported options, $expand (server.py calls it for every OData route)."""
    query = dict(request.query_params)
    wanted = query.get("$format") or request.headers.get("accept", "")
    if _XML_TYPE.search(wanted) and not xml:
        raise Problem.unacceptable_format(["application/json", "json"], wanted)
    if _JSON_TYPE.search(wanted) and xml:
        raise Problem.unacceptable_format(["application/xml", "atom"], wanted)
    for key in query:
        if key not in _SUPPORTED:
            raise Problem.not_implemented(key)
    if query.get("$expand") and query["$expand"] != "*":
        raise Problem.unsupported_expand(query["$expand"])
    if query.get("$expand") and query.get("$select"):
        raise Problem(
            501.11, "This server doesn't support $select query parameter with $expand."
        )


def _query(request: Request) -> dict[str, str]:
    return dict(request.query_params)


def _odata_form(request: Request):
    """The published form, for an administrator: app users may not read data."""
    project_id = web.int_param(request, "project_id")
    found = web.require_actor(request)
    store = web.store(request)
    form, form_def = store.published_form(
        project_id, request.path_params["xml_form_id"]
    )
    if found["type"] != "user":
        raise Problem.insufficient_rights()
    return form, form_def


def _service_root(request: Request) -> str:
    url = web.original_url(request)
    return url[: url.index(".svc") + 4]


def _headers() -> dict[str, str]:
    return {"OData-Version": "4.0"}


async def service_document(request: Request):
    _, form_def = _odata_form(request)
    fields = web.store(request).fields(form_def["id"])
    path = web.original_url(request).split("?")[0]
    tables = repeat_tables(fields)
    body = {
        "@odata.context": f"{web.domain(request)}{path}/$metadata",
        "value": [{"name": "Submissions", "kind": "EntitySet", "url": "Submissions"}]
        + [{"name": t, "kind": "EntitySet", "url": t} for t in tables],
    }
    return Response(
        dumps(body),
        headers=_headers(),
        media_type="application/json; charset=utf-8; odata.metadata=minimal",
    )


async def metadata(request: Request):
    form, form_def = _odata_form(request)
    fields = web.store(request).fields(form_def["id"])
    return Response(
        edmx(form["xml_form_id"], fields),
        headers=_headers(),
        media_type=web.XML_UTF8,
    )


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    match = re.match(r"^\s*([+-]?\d+)", value)
    return int(match.group(1)) if match else None


def _skiptoken(query) -> dict | list | None:
    """The request's ``$skiptoken``, read; None without one."""
    return parse_skiptoken(query["$skiptoken"]) if query.get("$skiptoken") else None


def _skip(query, number=_int) -> int | None:
    """``$skip``, which a ``$skiptoken`` (even a null one) overrides."""
    return None if query.get("$skiptoken") else number(query.get("$skip"))


def parse_skiptoken(token: str) -> dict | list | None:
    """Central's reading: ``01``, then base64 of JSON that is an object or an
    array; a JSON null reads as no token at all. Anything else is 400.35."""
    if not token.startswith("01"):
        raise Problem.invalid_skiptoken()
    try:
        data = json.loads(_lenient_base64(token[2:]).decode())
    except ValueError as err:
        raise Problem.invalid_skiptoken() from err
    if data is not None and not isinstance(data, dict | list):
        raise Problem.invalid_skiptoken()
    return data


def _lenient_base64(text: str) -> bytes:
    """Base64 read as Node reads it: either alphabet, stray characters and
    missing padding ignored."""
    kept = re.sub(r"[^A-Za-z0-9+/]", "", text.replace("-", "+").replace("_", "/"))
    return base64.b64decode(kept + "=" * (-len(kept) % 4))


def _token_key(token, key: str):
    return token.get(key) if isinstance(token, dict) else None


def _bigint(value: str | None) -> int | None:
    """``$top`` or ``$skip`` on the Submissions table, which Central hands to
    PostgreSQL as parsed by JavaScript's parseInt: no number is PostgreSQL's
    complaint about "NaN", a negative one fails the query."""
    if value is None:
        return None
    number = _int(value)
    if number is None:
        raise Problem.invalid_type("NaN", "type bigint")
    if number < 0:
        raise Problem.server_error()
    return number


def skiptoken(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    return "01" + base64.b64encode(raw).decode()


def next_url(request: Request, token: dict) -> str:
    """The request URL without ``$skip`` and with ``$skiptoken`` set, the way
    Central rewrites it through URLSearchParams."""
    path, _, query = web.original_url(request).partition("?")
    pairs = [
        (k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "$skip"
    ]
    value = skiptoken(token)
    at = next((i for i, (k, _) in enumerate(pairs) if k == "$skiptoken"), None)
    if at is None:
        pairs.append(("$skiptoken", value))
    else:
        pairs[at] = ("$skiptoken", value)
        pairs = [p for i, p in enumerate(pairs) if p[0] != "$skiptoken" or i == at]
    return f"{web.domain(request)}{path}?{web.search_params_string(pairs)}"


def _footer(request, table: str, next_link: str | None, count: int | None) -> str:
    context = f"{web.domain(request)}{_service_root(request)}/$metadata#{table}"
    parts = [f'"@odata.context":{dumps(context)}']
    if next_link:
        parts.append(f'"@odata.nextLink":{dumps(next_link)}')
    if count is not None:
        parts.append(f'"@odata.count":{count}')
    return ",".join(parts) + "}"


def _page(request, rows: list[str], table, next_link, count) -> Response:
    head = '{"value":[' + ",".join(rows) + "],"
    body = head + _footer(request, table, next_link, count)
    return Response(
        body.encode(), headers=_headers(), media_type="application/json; charset=utf-8"
    )


def system_json(row) -> str:
    encrypted = bool(row["encrypted"])
    status = None
    if encrypted:
        status = (
            "notDecrypted" if row["attachments_present"] else "missingEncryptedFormData"
        )
    submitter = row["submitter_id"]
    return dumps(
        {
            "submissionDate": row["created_at"],
            "updatedAt": row["updated_at"],
            "submitterId": None if submitter is None else str(submitter),
            "submitterName": row["display_name"] or None,
            "attachmentsPresent": row["attachments_present"],
            "attachmentsExpected": row["attachments_expected"],
            "status": status,
            "reviewState": row["review_state"],
            "deviceId": row["device_id"],
            "edits": row["edits"],
            "formVersion": row["form_version"],
            "deletedAt": row["deleted_at"],
        }
    )


def _system_dict(row) -> dict:
    return json.loads(system_json(row))


class _Selection:
    """What ``$select`` asks for: form fields narrow the schema, ``__`` names
    choose which identifiers and system properties stay."""

    def __init__(self, select: str | None, schema, table: str):
        self.active = bool(select) and select != "*"
        self.schema = schema
        self.metadata: set[str] = set()
        if not self.active:
            return
        names = [p.strip() for p in select.split(",")]
        allowed = _metadata_names(schema, table)
        self.metadata = {n for n in names if n in allowed}
        self.schema = _narrow(schema, [n for n in names if n not in allowed], table)

    def system(self, full: dict) -> dict | None:
        if not self.active or "__system" in self.metadata:
            return full
        chosen = {k: v for k, v in full.items() if f"__system/{k}" in self.metadata}
        return chosen if any(m.startswith("__system/") for m in self.metadata) else None

    def trim(self, row: dict) -> dict:
        if not self.active:
            return row
        return {
            k: v
            for k, v in row.items()
            if not (k.startswith("__") and k != "__system" and k not in self.metadata)
        }


_SYSTEM_NAMES = frozenset({"__system", *(f"__system/{key}" for key in _SYSTEM_KEYS)})


def _metadata_names(schema, table: str) -> frozenset[str]:
    """What ``$select`` may name besides form fields: ``__id``, the parent key
    of a repeat table, and on the Submissions table ``__system`` and its
    properties. Any other name must be a field, or it is 400.23."""
    if table == "Submissions":
        return frozenset({"__id"}) | _SYSTEM_NAMES
    parts = table.split(".")[1:]
    parent, path = "__Submissions", ""
    for part in parts[:-1]:
        path += f"/{part}"
        field = next((f for f in schema.fields if _odata_path(f.path) == path), None)
        if field is not None and field.type == "repeat":
            parent = "__Submissions" + path.replace("/", "-")
    return frozenset({"__id", f"{parent}-id"})


def _odata_path(path: str) -> str:
    from central_sim.xform import sanitize_odata

    return "/".join(sanitize_odata(p) for p in path.split("/"))


def _narrow(schema, names: list[str], table: str):
    from central_sim.odata_rows import Schema
    from central_sim.xform import sanitize_odata

    by_path = {
        "/".join(sanitize_odata(p) for p in f.path.split("/")): f for f in schema.fields
    }
    base = ""
    keep: set[str] = set()
    if table != "Submissions":
        for part in table.split(".")[1:]:
            base += f"/{part}"
            if base not in by_path:
                raise Problem.not_found()
            keep.add(by_path[base].path)
    for name in names:
        field = by_path.get(f"{base}/{name}")
        if field is None:
            raise Problem(
                400.23, f"Could not find a property named '{name}'", {"property": name}
            )
        keep.add(field.path)
        parent = field.path.rsplit("/", 1)[0]
        while parent and parent not in keep:
            parent_field = schema.by_path[parent]
            if parent_field.type == "repeat":
                raise Problem(
                    400.24,
                    f"The given OData select property '{name}' uses features not "
                    "supported by this server.",
                    {"property": name},
                )
            keep.add(parent)
            parent = parent.rsplit("/", 1)[0]
        if field.type == "structure":
            keep.update(
                f.path
                for f in schema.fields
                if f.path.startswith(field.path + "/") and f.type != "repeat"
            )
    return Schema([f for f in schema.fields if f.path in keep])


async def dispatch(request: Request):
    path = request.path_params["path"]
    if "/" in path or "(" in path:
        return await record(request)
    return await table(request, path)


async def table(request: Request, name: str):
    query = _query(request)
    form, form_def = _odata_form(request)
    store = web.store(request)
    schema = store.schema(form_def["id"])
    if name != "Submissions" and name not in repeat_tables(schema.fields):
        raise Problem.not_found()
    if name == "Submissions":
        token = _skiptoken(query)
        if query.get("$orderby") and query.get("$skiptoken"):
            raise Problem.not_implemented("using $orderby and $skiptoken together")
        return _submissions_table(request, query, form, form_def, token)
    return _repeat_table(request, query, form, form_def, name)


def _order(query) -> str:
    if query.get("$orderby"):
        return compile_orderby(query["$orderby"])
    return "order by s.created_at desc, s.id desc"


def _submissions_table(request, query, form, form_def, token) -> Response:
    store = web.store(request)
    count_wanted = web.is_true(query.get("$count"))
    where = compile_filter(query.get("$filter"))
    # Refused before any row is written, not half way through the stream.
    selection = _Selection(
        query.get("$select"), store.schema(form_def["id"]), "Submissions"
    )
    limit = _bigint(query.get("$top"))
    skip = _skip(query, _bigint)
    # The filter only reads the submissions table, so nothing needs the joins.
    base_sql = f"from submissions s where s.form_id = ? and {where.sql}"
    params = [form["id"], *where.params]
    if limit == 0:
        count = None
        if count_wanted:
            count = store.one(f"select count(*) {base_sql}", *params)[0]
        return _page(request, [], "Submissions", None, count)

    cursor_sql, cursor_params = _cursor(store, form, token)
    offset = skip or 0
    sql = f"select s.id, s.instance_id {base_sql}{cursor_sql} {_order(query)}"
    sql += f" limit {limit if limit is not None else -1} offset {offset}"
    window = store.all(sql, *params, *cursor_params)

    if limit is not None or offset or query.get("$skiptoken"):
        total = store.one(f"select count(*) {base_sql}", *params)[0]
        remaining = store.one(
            f"select count(*) {base_sql}{cursor_sql}", *params, *cursor_params
        )[0]
    else:
        total, remaining = len(window), 0
    link = None
    if remaining - len(window) > 0:
        # Even an empty page (a $skip past the end) links on, with a null cursor
        # whose page is empty: Central's quirk, kept.
        last = window[-1]["instance_id"] if window else None
        link = next_url(request, {"instanceId": last})
    rows = _rows_of(request, query, form_def, selection, [r["id"] for r in window])
    count = total if count_wanted else None
    return _stream(request, rows, "Submissions", link, count)


# Rows rendered per database read when streaming a large table.
_BATCH = 2000


def _rows_of(request, query, form_def, selection, ids: list[int]):
    """The rendered rows of these submissions, in this order, read in batches
    so a whole table never sits in memory at once."""
    store = web.store(request)
    for start in range(0, len(ids), _BATCH):
        batch = ids[start : start + _BATCH]
        marks = ",".join("?" * len(batch))
        found = {
            r["id"]: r
            for r in store.all(
                f"select {_ROW_COLUMNS} {_FROM} where s.id in ({marks})", *batch
            )
        }
        ordered = [found[i] for i in batch if i in found]
        yield from _render_roots(request, query, form_def, selection, ordered)


def _stream(request, rows, table: str, next_link, count) -> Response:
    """Central streams its tables; so does the simulator, in chunks of rows."""

    def chunks():
        yield '{"value":['
        batch, first = [], True
        for row in rows:
            batch.append(row)
            if len(batch) == _BATCH:
                yield ("" if first else ",") + ",".join(batch)
                batch, first = [], False
        if batch:
            yield ("" if first else ",") + ",".join(batch)
        yield "]," + _footer(request, table, next_link, count)

    return StreamingResponse(
        (c.encode() for c in chunks()),
        headers=_headers(),
        media_type="application/json; charset=utf-8",
    )


def _cursor(store, form, token) -> tuple[str, list]:
    if token is None or _token_key(token, "repeatId") is not None:
        return "", []
    if not isinstance(token, dict) or "instanceId" not in token:
        # Central (4f5943d) binds the missing instanceId and the query fails.
        raise Problem.server_error()
    row = store.one(
        "select id, created_at from submissions where form_id = ? and instance_id = ?",
        form["id"],
        token["instanceId"],
    )
    if row is None:
        return " and 0", []
    # A row-value comparison lets SQLite seek the (created_at, id) index.
    return " and (s.created_at, s.id) < (?, ?)", [row["created_at"], row["id"]]


def _render_roots(request, query, form_def, selection, rows) -> list[str]:
    store = web.store(request)
    expand = query.get("$expand") == "*"
    fast = not query.get("$select") and not web.is_true(query.get("$wkt"))
    out = []
    for row in rows:
        if row["rendered_def_id"] != form_def["id"]:
            row = store.rerender(row["def_id"], form_def["id"], row)
        if fast:
            head = (row["head_x"] or row["head"]) if expand else row["head"]
            tail = (row["tail_x"] or row["tail"]) if expand else row["tail"]
            out.append(head + system_json(row) + tail)
        else:
            out.append(_slow_root(request, query, selection, row))
    return out


def _slow_root(request, query, selection, row) -> str:
    store = web.store(request)
    xml = store.one("select xml from submission_defs where id = ?", row["def_id"])[0]
    rows = submission_rows(
        selection.schema,
        "Submissions",
        bytes(xml),
        row["instance_id"],
        selection.system(_system_dict(row)),
        options=Options(
            expand=query.get("$expand") == "*", wkt=web.is_true(query.get("$wkt"))
        ),
        encrypted=bool(row["encrypted"]),
    )
    return dumps(selection.trim(rows[0]))


def _repeat_table(request, query, form, form_def, name: str) -> Response:
    """Central pages repeat tables in application code: every row of the table
    is walked, the cursor is the last row id sent, and the count is all rows."""
    where = compile_filter(query.get("$filter"), subtable=True)
    token = _skiptoken(query)
    limit = _int(query.get("$top"))
    limit = None if limit is None else max(0, limit)
    _refresh(request, query, form, form_def, where)
    fast = not query.get("$select") and not web.is_true(query.get("$wkt"))
    if fast and query.get("$expand") != "*":
        ids = [r[0] for r in _stored_repeat_rows(request, query, form, name, where)]
    else:
        rows = _parsed_repeat_rows(request, query, form, form_def, name, where)
        ids = [row_id for row_id, _ in rows]

    start = _start(ids, token, query)
    if limit == 0:
        # Central counts every row as left over when asked for none.
        page, remaining = [], len(ids)
    else:
        page = ids[start:] if limit is None else ids[start : start + limit]
        remaining = 0 if limit is None else max(0, len(ids) - start - limit)
    if fast and query.get("$expand") != "*":
        texts = _stored_repeat_rows(
            request, query, form, name, where, start=start, size=len(page)
        )
        texts = [text for _, text in texts]
    else:
        texts = [text for _, text in rows[start : start + len(page)]]

    last_id = page[-1] if page else None
    link = next_url(request, {"repeatId": last_id}) if remaining > 0 else None
    count = len(ids) if web.is_true(query.get("$count")) else None
    return _page(request, texts, name, link, count)


def _start(ids: list[str], token, query) -> int:
    if token is None:
        return max(0, _skip(query) or 0)
    try:
        return ids.index(_token_key(token, "repeatId")) + 1
    except ValueError as err:
        raise Problem.repeat_id_not_found() from err


def _refresh(request, query, form, form_def, where) -> None:
    """Re-render rows stored for an older version of the form."""
    store = web.store(request)
    stale = store.all(
        # The condition comes from the whitelist in odata_filter.
        f"select d.id as def_id {_FROM} where s.form_id = ? and {where.sql} "
        "and d.rendered_def_id is not ?",
        form["id"],
        *where.params,
        form_def["id"],
    )
    for row in stale:
        store.rerender(row["def_id"], form_def["id"], None)


def _stored_repeat_rows(request, query, form, name, where, start=0, size=None):
    """(row id, row JSON) of a repeat table in Central's order; only the ids
    unless a ``size`` is given."""
    column = "r.json" if size is not None else "null"
    sql = (
        # The condition and order come from the whitelist in odata_filter.
        f"select r.row_id, {column} from submissions s "  # noqa: S608
        "join submission_defs d on d.id = s.current_def_id "
        "join repeat_rows r on r.def_id = d.id and r.table_name = ? "
        "left join actors a on a.id = s.submitter_id "
        f"where s.form_id = ? and {where.sql} {_order(query)}, r.position"
    )
    if size is not None:
        sql += f" limit {int(size)} offset {int(start)}"
    return web.store(request).all(sql, name, form["id"], *where.params)


def _parsed_repeat_rows(request, query, form, form_def, name, where):
    """(row id, row JSON) parsed from the XML, for $select, $wkt and $expand."""
    store = web.store(request)
    subs = store.all(
        # The condition and order come from the whitelist in odata_filter.
        f"select s.instance_id, d.xml {_FROM} where s.form_id = ? and "
        f"{where.sql} and d.encrypted = 0 {_order(query)}",
        form["id"],
        *where.params,
    )
    selection = _Selection(query.get("$select"), store.schema(form_def["id"]), name)
    options = Options(
        expand=query.get("$expand") == "*", wkt=web.is_true(query.get("$wkt"))
    )
    out = []
    for sub in subs:
        for row in submission_rows(
            selection.schema,
            name,
            bytes(sub["xml"]),
            sub["instance_id"],
            None,
            options=options,
        ):
            out.append((row["__id"], dumps(selection.trim(row))))
    return out


async def record(request: Request):
    """``Submissions('<instanceId>')`` and the repeat paths below it."""
    query = _query(request)
    form, form_def = _odata_form(request)
    store = web.store(request)
    segments = [unquote(p) for p in request.path_params["path"].split("/")]
    context = []
    for segment in segments:
        match = _RECORD.match(segment)
        context.append((match.group(1), match.group(2)) if match else (segment, None))
    if context[0][0] != "Submissions" or context[0][1] is None:
        raise Problem.not_found()
    name = ".".join(part for part, _ in context)
    schema = store.schema(form_def["id"])
    if name != "Submissions" and name not in repeat_tables(schema.fields):
        raise Problem.not_found()
    row = store.one(
        f"select {_ROW_COLUMNS}, d.xml {_FROM} where s.form_id = ? and "
        "s.instance_id = ? and s.deleted_at is null",
        form["id"],
        context[0][1],
    )
    if row is None:
        raise Problem.not_found()
    selection = _Selection(query.get("$select"), schema, name)
    rows = submission_rows(
        selection.schema,
        name,
        bytes(row["xml"]),
        row["instance_id"],
        selection.system(_system_dict(row)),
        options=Options(
            expand=query.get("$expand") == "*", wkt=web.is_true(query.get("$wkt"))
        ),
        encrypted=bool(row["encrypted"]),
    )
    last = max(i for i, (_, key) in enumerate(context) if key is not None)
    if last > 0:
        key = "__" + "-".join(part for part, _ in context[: last + 1]) + "-id"
        rows = [r for r in rows if r.get(key) == context[last][1]]
    return _record_page(request, query, name, rows, selection, row["instance_id"])


def _record_page(request, query, name, rows, selection, instance_id) -> Response:
    limit = _int(query.get("$top"))
    limit = len(rows) if limit is None else max(0, limit)
    token = _skiptoken(query)
    offset = max(0, _skip(query) or 0)
    if token is not None:
        repeat_id = _token_key(token, "repeatId")
        if not repeat_id:
            raise Problem.invalid_skiptoken()
        offset = next((i for i, r in enumerate(rows) if r["__id"] == repeat_id), -1) + 1
        if offset == 0:
            raise Problem.repeat_id_not_found()
    pared = rows[offset : offset + limit]
    link = None
    if pared and len(rows) - (offset + limit) > 0:
        token = (
            {"instanceId": instance_id}
            if name == "Submissions"
            else {"repeatId": pared[-1]["__id"]}
        )
        link = next_url(request, token)
    count = len(rows) if web.is_true(query.get("$count")) else None
    return _page(request, [dumps(selection.trim(r)) for r in pared], name, link, count)


routes = [
    Route(SVC, service_document, methods=["GET"]),
    Route(f"{SVC}/$metadata", metadata, methods=["GET"]),
    Route(f"{SVC}/{{path:path}}", dispatch, methods=["GET"]),
]
