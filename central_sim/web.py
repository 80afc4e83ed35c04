"""What every route shares: Central's JSON, who is asking, and the checks on what
they may do. An administrator may do anything; an app user only what Central
grants the "app-user" role on forms assigned to it."""

import base64
import re
import sqlite3
from urllib.parse import quote, quote_plus

from starlette.requests import Request
from starlette.responses import Response

from central_sim.odata_rows import dumps
from central_sim.problems import Problem
from central_sim.store import Store

JSON = "application/json; charset=utf-8"
XML = "text/xml; charset=utf-8"
OPENROSA_HEADERS = {
    "Content-Language": "en",
    "X-OpenRosa-Version": "1.0",
    "X-OpenRosa-Accept-Content-Length": "100000000",
}


def json_response(data, status: int = 200, headers: dict | None = None) -> Response:
    return Response(dumps(data), status, headers=headers, media_type=JSON)


def success() -> Response:
    return json_response({"success": True})


def store(request: Request) -> Store:
    return request.app.state.store


def domain(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def original_url(request: Request) -> str:
    """Path and query as the client sent them, like Express's originalUrl."""
    raw = request.scope.get("central_sim.original_path") or request.url.path
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{raw}?{query}" if query else raw


def actor(request: Request) -> sqlite3.Row | None:
    """The authenticated actor, or None for an anonymous request: every route
    is authenticated before it runs (``server._endpoint``)."""
    return request.scope["central_sim.actor"]


def authenticate(request: Request) -> None:
    """Who is asking, settled before the route runs as by Central's auth step;
    a refusal here is marked so OpenRosa routes answer it without their
    headers, as Central does."""
    try:
        request.scope["central_sim.actor"] = _credentials(request)
    except Problem as problem:
        problem.before_route = True
        raise


_TOKEN = re.compile(r"[A-Za-z0-9!$]{64}")
_BASIC = re.compile(r"^([^:]+):(.+)$")


def _credentials(request: Request) -> sqlite3.Row | None:
    key = request.scope.get("central_sim.key")
    if key is not None:
        return _app_user_key(request, key)
    header = request.headers.get("authorization")
    if not header:
        return None
    if header.startswith("Bearer "):
        found = store(request).actor_for_token(header[len("Bearer ") :])
        if found is None:
            raise Problem.authentication_failed()
        return found
    if header.startswith("Basic "):
        return _basic(request, header[len("Basic ") :])
    raise Problem.authentication_failed()


def _app_user_key(request: Request, key: str) -> sqlite3.Row:
    """A malformed key is 401; a well-formed one without a live app user
    behind it is 403, which Central prefers so clients do not ask for a
    password."""
    if not _TOKEN.fullmatch(key):
        raise Problem.authentication_failed()
    found = store(request).actor_for_token(key)
    if found is None or found["type"] != "field_key":
        raise Problem.insufficient_rights()
    return found


def _basic(request: Request, credentials: str) -> sqlite3.Row:
    """Only over HTTPS, or behind a proxy that says so; no session is made."""
    secure = request.headers.get("x-forwarded-proto") == "https"
    if request.url.scheme != "https" and not secure:
        raise Problem.https_only()
    try:
        plain = base64.b64decode(credentials).decode()
    except ValueError as err:
        raise Problem.authentication_failed() from err
    match = _BASIC.match(plain)
    if match is None:
        raise Problem.authentication_failed()
    return store(request).user(email=match.group(1), password=match.group(2))


def require_actor(request: Request) -> sqlite3.Row:
    found = actor(request)
    if found is None:
        raise Problem.authentication_failed()
    return found


def require_admin(request: Request) -> sqlite3.Row:
    found = require_actor(request)
    if found["type"] != "user":
        raise Problem.insufficient_rights()
    return found


def require_submitter(request: Request, form: sqlite3.Row) -> sqlite3.Row:
    found = require_actor(request)
    if found["type"] == "user":
        return found
    if not store(request).is_assigned(actor_id=found["id"], form_id=form["id"]):
        raise Problem.insufficient_rights()
    return found


def int_param(request: Request, name: str) -> int:
    """A numeric id from the path; anything else is what PostgreSQL says of
    it, passed on by Central as 400.11."""
    value = request.path_params[name]
    if not re.fullmatch(r"\s*[+-]?\d+\s*", value):
        raise Problem.invalid_type(value, "type integer")
    return int(value)


def is_true(value: str | None) -> bool:
    """Central's flag test: only the word true, in any case."""
    return value is not None and value.lower() == "true"


def search_params_string(pairs: list[tuple[str, str]]) -> str:
    """``URLSearchParams.toString()``: form encoding that keeps ``*`` and escapes
    ``~``, which is how Central writes the query of a next link."""
    return "&".join(f"{_form_encode(k)}={_form_encode(v)}" for k, v in pairs)


def _form_encode(text: str) -> str:
    return quote_plus(text, safe="*").replace("~", "%7E")


XML_UTF8 = "application/xml; charset=utf-8"


def content_disposition(filename: str, kind: str = "attachment") -> str:
    """Central's download header: a plain name and an RFC 5987 one; ``kind`` is
    ``inline`` for what a browser may show in place."""
    plain = filename.replace('"', "")
    return (
        f'{kind}; filename="{plain}"; '
        f"filename*=UTF-8''{quote(filename, safe=URI_COMPONENT_SAFE)}"
    )


URI_COMPONENT_SAFE = "-_.!~*'()"


def openrosa(body: str, status: int = 200) -> Response:
    return Response(body, status, headers=OPENROSA_HEADERS, media_type=XML)


def mustache_escape(text: str) -> str:
    """What Central's message templates (mustache) make of a message."""
    return "".join(_MUSTACHE.get(c, c) for c in text)


_MUSTACHE = {
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
    "/": "&#x2F;", "`": "&#x60;", "=": "&#x3D;",
}  # fmt: skip


def xml_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )
