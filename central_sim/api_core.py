"""Sessions, the current user, projects, app users and form assignments."""

import json

from starlette.requests import Request
from starlette.routing import Route

from central_sim import web
from central_sim.problems import Problem


async def json_body(request: Request) -> dict:
    """The JSON object sent; Central's 400.1 when it is not JSON."""
    raw = await request.body()
    try:
        data = json.loads(raw or b"{}")
    except ValueError as err:
        raise Problem.unparseable("json", len(raw)) from err
    return data if isinstance(data, dict) else {}


async def create_session(request: Request):
    body = await json_body(request)
    email, password = body.get("email"), body.get("password")
    if _blank(email) or _blank(password):
        raise Problem(
            400.3,
            "Required parameters missing. Expected (email, password), got "
            f"(email: {_inspect(email)}, password: {_inspect(password)}).",
            {"expected": ["email", "password"], "got": _present(body)},
        )
    if not isinstance(email, str) or not isinstance(password, str):
        raise Problem.authentication_failed()
    return web.json_response(web.store(request).login(email=email, password=password))


def _blank(value) -> bool:
    """Central's isBlank: absent or empty; a space is a (wrong) email."""
    return value is None or value == ""


def _inspect(value) -> str:
    """A value as Node's util.inspect prints it in Central's messages."""
    if value is None:
        return "undefined"
    if isinstance(value, str):
        return "'" + value.replace("'", "\\'") + "'"
    return json.dumps(value)


def _present(body: dict) -> dict:
    return {k: body[k] for k in ("email", "password") if body.get(k) is not None}


async def delete_session(request: Request):
    web.require_actor(request)
    given = request.path_params["token"]
    if given == "current":
        own = request.headers.get("authorization", "").partition(" ")[2].strip()
        if not web.store(request).logout(own):
            raise Problem.not_found()
        return web.success()
    # Central answers 403 for an unknown token, so tokens cannot be probed.
    if not web.store(request).logout(given):
        raise Problem.insufficient_rights()
    return web.success()


def actor_json(row) -> dict:
    return {
        "id": row["id"],
        "type": row["type"],
        "displayName": row["display_name"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "deletedAt": row["deleted_at"],
    }


async def current_user(request: Request):
    row = web.require_actor(request)
    if row["type"] != "user":
        # Central looks the actor up among users and finds no app user there.
        raise Problem.not_found()
    data = {"email": row["email"], "lastLoginAt": row["last_login_at"]}
    return web.json_response({**data, **actor_json(row)})


def _archived(row) -> bool | None:
    return None if row["archived"] is None else bool(row["archived"])


def project_json(row) -> dict:
    return {
        "id": row["id"],
        "name": row["name"],
        "description": row["description"],
        "archived": _archived(row),
        "keyId": None,
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "deletedAt": row["deleted_at"],
    }


async def list_projects(request: Request):
    """Each project with the verbs the caller holds on it, which for the one
    administrator are all of Central's own."""
    web.require_admin(request)
    rows = web.store(request).projects()
    return web.json_response(
        [{**project_json(r), "verbs": list(ADMIN_VERBS)} for r in rows]
    )


# What Central (4f5943d) lists for an administrator, sorted as it sorts them.
ADMIN_VERBS = (
    "actor_property.list", "actor_property.update", "analytics.read",
    "assignment.create", "assignment.delete", "assignment.list", "audit.read",
    "backup.run", "config.read", "config.set", "dataset.create", "dataset.delete",
    "dataset.list", "dataset.read", "dataset.update", "entity.create",
    "entity.delete", "entity.list", "entity.read", "entity.restore",
    "entity.update", "field_key.create", "field_key.delete", "field_key.list",
    "field_key.update", "form.create", "form.delete", "form.list", "form.read",
    "form.restore", "form.update", "project.create", "project.delete",
    "project.read", "project.update", "public_link.create", "public_link.delete",
    "public_link.list", "public_link.read", "public_link.update", "role.create",
    "role.delete", "role.update", "session.end", "submission.create",
    "submission.delete", "submission.list", "submission.read",
    "submission.restore", "submission.update", "user.create", "user.delete",
    "user.list", "user.password.invalidate", "user.read", "user.update",
)  # fmt: skip


async def create_project(request: Request):
    web.require_admin(request)
    body = await json_body(request)
    name = body.get("name")
    if name is None:
        raise Problem.missing_parameter("name")
    if not isinstance(name, str):
        name = json.dumps(name)  # as PostgreSQL stores a JSON value as text
    store = web.store(request)
    project_id = store.create_project(name=name, description=body.get("description"))
    row = store.project(project_id)
    # Central answers a creation with the stored row, in its column order.
    return web.json_response(
        {
            "id": row["id"],
            "name": row["name"],
            "acteeId": row["actee_id"],
            "createdAt": row["created_at"],
            "updatedAt": row["updated_at"],
            "deletedAt": row["deleted_at"],
            "archived": _archived(row),
            "keyId": None,
            "description": row["description"],
        }
    )


async def get_project(request: Request):
    project_id = web.int_param(request, "project_id")
    web.require_admin(request)
    return web.json_response(project_json(web.store(request).project(project_id)))


def app_user_json(row) -> dict:
    return {
        "projectId": row["project_id"],
        **actor_json(row),
        "token": row["token"],
    }


async def list_app_users(request: Request):
    project_id = web.int_param(request, "project_id")
    web.require_admin(request)
    rows = web.store(request).app_users(project_id)
    return web.json_response([app_user_json(r) for r in rows])


async def create_app_user(request: Request):
    project_id = web.int_param(request, "project_id")
    web.require_admin(request)
    body = await json_body(request)
    name = body.get("displayName")
    if not isinstance(name, str) or not name:
        raise Problem.missing_parameter("displayName")
    store = web.store(request)
    created = store.create_app_user(project_id=project_id, display_name=name)
    body = app_user_json(store.actor(created["id"]))
    body["createdAt"] = created["createdAt"]
    session = {"csrf": created["csrf"], "expiresAt": created["expiresAt"]}
    return web.json_response({**body, **session})


async def delete_app_user(request: Request):
    project_id = web.int_param(request, "project_id")
    web.require_admin(request)
    actor_id = web.int_param(request, "actor_id")
    web.store(request).delete_app_user(project_id=project_id, actor_id=actor_id)
    return web.success()


async def assign(request: Request):
    project_id = web.int_param(request, "project_id")
    web.require_admin(request)
    store = web.store(request)
    form = store.form(project_id, request.path_params["xml_form_id"])
    store.assign(
        form_id=form["id"],
        role_id=web.int_param(request, "role_id"),
        actor_id=web.int_param(request, "actor_id"),
    )
    return web.success()


async def list_assignments(request: Request):
    project_id = web.int_param(request, "project_id")
    web.require_admin(request)
    store = web.store(request)
    form = store.form(project_id, request.path_params["xml_form_id"])
    rows = store.assignments(form["id"])
    return web.json_response(
        [{"actorId": r["actor_id"], "roleId": r["role_id"]} for r in rows]
    )


routes = [
    Route("/v1/sessions", create_session, methods=["POST"]),
    Route("/v1/sessions/{token}", delete_session, methods=["DELETE"]),
    Route("/v1/users/current", current_user, methods=["GET"]),
    Route("/v1/projects", list_projects, methods=["GET"]),
    Route("/v1/projects", create_project, methods=["POST"]),
    Route("/v1/projects/{project_id}", get_project, methods=["GET"]),
    Route("/v1/projects/{project_id}/app-users", list_app_users, methods=["GET"]),
    Route("/v1/projects/{project_id}/app-users", create_app_user, methods=["POST"]),
    Route(
        "/v1/projects/{project_id}/app-users/{actor_id}",
        delete_app_user,
        methods=["DELETE"],
    ),
    Route(
        "/v1/projects/{project_id}/forms/{xml_form_id}/assignments",
        list_assignments,
        methods=["GET"],
    ),
    Route(
        "/v1/projects/{project_id}/forms/{xml_form_id}/assignments/{role_id}/"
        "{actor_id}",
        assign,
        methods=["POST"],
    ),
]
