"""The simulator as an ASGI app, as a blocking server, and in a background thread
for tests and the demo."""

import logging
import re
import socket
import threading
import time
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from central_sim import (
    api_core,
    api_export,
    api_forms,
    api_odata,
    api_submissions,
    web,
)
from central_sim.faults import FaultInjector, FaultMiddleware
from central_sim.problems import Problem
from central_sim.store import Store

log = logging.getLogger(__name__)

_KEY_PREFIX = re.compile(r"^/v1/key/([^/]+)(/.*)$")
_OPENROSA = re.compile(
    r"^/v1/projects/[^/]+/(formList|submission|forms/[^/]+/manifest)$"
)
_OPENROSA_ERROR = (
    '\n  <OpenRosaResponse xmlns="http://openrosa.org/http/response" items="0">\n'
    '    <message nature="error">{message}</message>\n'
    "  </OpenRosaResponse>"
)
_ODATA_XML_ERROR = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<error code="{code}">\n'
    "  <message>{message}</message>\n  <details>{details}</details>\n</error>"
)


def _is_openrosa(request: Request) -> bool:
    return _OPENROSA.match(request.url.path) is not None


def _is_odata_xml(request: Request) -> bool:
    return request.url.path.endswith(".svc/$metadata")


async def _problem(request: Request, problem: Problem) -> Response:
    """A refusal in the format of the route: OpenRosa XML (with its headers
    once the route itself was reached), OData's XML error for $metadata, JSON
    elsewhere and for what Central's middleware refuses before any route."""
    if problem.always_json:
        return Response(problem.body(), problem.status, media_type=web.JSON)
    if _is_openrosa(request):
        body = _OPENROSA_ERROR.format(message=web.mustache_escape(problem.message))
        headers = None if problem.before_route else web.OPENROSA_HEADERS
        return Response(body, problem.status, headers=headers, media_type=web.XML)
    if _is_odata_xml(request):
        # Central writes the details object through its template as text.
        details = "" if problem.details is None else "[object Object]"
        body = _ODATA_XML_ERROR.format(
            code=problem.code,
            message=web.mustache_escape(problem.message),
            details=details,
        )
        return Response(body, problem.status, media_type=web.XML)
    return Response(problem.body(), problem.status, media_type=web.JSON)


async def _not_found(request: Request, _exc) -> Response:
    return await _problem(request, Problem.not_found())


def _openrosa_version(request: Request) -> None:
    header = request.headers.get("x-openrosa-version")
    if header != "1.0":
        problem = Problem(
            400.6,
            "An expected header field (X-OpenRosa-Version) did not match the "
            "expected format.",
            {"field": "X-OpenRosa-Version"},
        )
        problem.before_route = True
        raise problem


def _endpoint(route: Route) -> Route:
    """The route behind Central's steps: the format's own checks (OpenRosa's
    version header, OData's query options), then authentication."""
    handler = route.endpoint
    odata = ".svc" in route.path
    xml = route.path.endswith("/$metadata")

    async def run(request: Request):
        if _is_openrosa(request):
            _openrosa_version(request)
        if odata:
            api_odata.preflight(request, xml=xml)
        web.authenticate(request)
        return await handler(request)

    return Route(route.path, run, methods=route.methods)


class _Prefixes:
    """``/v1/key/<token>/…`` is any API path authenticated as that app user."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            match = _KEY_PREFIX.match(scope["path"])
            if match:
                scope = dict(scope)
                scope["central_sim.original_path"] = scope["path"]
                scope["central_sim.key"] = match.group(1)
                scope["path"] = "/v1" + match.group(2)
                scope["raw_path"] = scope["path"].encode()
        return await self.app(scope, receive, send)


def create_app(
    *, db_path: str, email: str, password: str, faults: FaultInjector | None = None
):
    """The simulator with one administrator (``email``, ``password``)."""
    store = Store(db_path)
    store.ensure_admin(email=email, password=password)
    routes = [
        *api_core.routes,
        *api_odata.routes,
        *api_export.routes,
        *api_submissions.routes,
        *api_forms.routes,
    ]
    app = Starlette(
        routes=[_endpoint(route) for route in routes],
        exception_handlers={Problem: _problem, 404: _not_found, 405: _not_found},
    )
    app.state.store = store
    injector = faults or FaultInjector()
    wrapped = FaultMiddleware(_Prefixes(app), injector)
    wrapped.state = app.state
    wrapped.faults = injector
    wrapped.store = store
    return wrapped


def serve(
    *, port: int, email: str, password: str, db_path: str, host: str = "127.0.0.1"
) -> None:
    """Run the simulator until interrupted (``trogiup central-sim``)."""
    app = create_app(db_path=db_path, email=email, password=password)
    log.info(
        "ODK Central simulator (not a real Central) on http://%s:%s, data in %s",
        host,
        port,
        db_path,
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")


class RunningSimulator:
    """A simulator serving on a loopback port in a background thread."""

    def __init__(self, *, db_path: str, email: str, password: str, port: int = 0):
        self.email = email
        self.password = password
        self.faults = FaultInjector()
        self.app = create_app(
            db_path=db_path, email=email, password=password, faults=self.faults
        )
        self.store: Store = self.app.store
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", port))
        self.port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            self.app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"central-sim-{self.port}",
            daemon=True,
        )

    def start(self) -> "RunningSimulator":
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the Central simulator did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()
        self.store.close()

    def __enter__(self) -> "RunningSimulator":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def run_in_thread(
    *, db_path: str | Path, email: str, password: str, port: int = 0
) -> RunningSimulator:
    """A started simulator; stop it with ``.stop()`` or use it in a ``with``."""
    return RunningSimulator(
        db_path=str(db_path), email=email, password=password, port=port
    ).start()
