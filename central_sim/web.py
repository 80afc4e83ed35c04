"""What every route shares: Central's JSON, who is asking, and the checks on what
they may do. An administrator may do anything; an app user only what Central
grants the "app-user" role on forms assigned to it."""

import base64
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
    """The authenticated actor, or None for an anonymous request."""
    if "central_sim.actor" in request.scope:
        return request.scope["central_sim.actor"]
    found = _authenticate(request)
    request.scope["central_sim.actor"] = found
    return found


def _authenticate(request: Request) -> sqlite3.Row | None:
    key = request.scope.get("central_sim.key")
    if key is not None:
        found = store(request).actor_for_token(key)
        if found is None or found["type"] != "field_key":
            raise Problem.authentication_failed()
        return found
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer":
        found = store(request).actor_for_token(credentials.strip())
        if found is None:
            raise Problem.authentication_failed()
        return found
    if scheme.lower() == "basic":
        if request.url.scheme != "https":
            raise Problem.https_only()
        email, _, password = base64.b64decode(credentials).decode().partition(":")
        store(request).login(email=email, password=password)
        return store(request).one("select * from actors where email = ?", email)
    raise Problem.authentication_failed()


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


def require_project_reader(request: Request, project_id: int) -> sqlite3.Row:
    """Administrators, and app users of that project (for form lists)."""
    found = require_actor(request)
    if found["type"] == "field_key" and found["project_id"] != project_id:
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
    try:
        return int(request.path_params[name])
    except ValueError as err:
        raise Problem.not_found() from err


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


def xml_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )
