"""Fault injection for tests: chosen requests answer with a 5xx, arrive late,
hang past a client's timeout, or lose their connection mid-response.

This and the ``/_sim/faults`` endpoints are the simulator's one deliberate
surface that Central does not have; everything under ``/_sim`` is the
simulator's own."""

import asyncio
import itertools
import json
import logging
import re
import threading
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

KINDS = ("status", "latency", "timeout", "drop")


class DroppedConnection(Exception):
    """Raised mid-response so the server closes the connection."""


@dataclass(slots=True)
class Fault:
    id: int
    path_regex: str
    kind: str
    status: int = 503
    seconds: float | None = None
    times: int | None = 1
    method: str | None = None
    after_bytes: int | None = None
    pattern: re.Pattern = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(KINDS)}")
        self.pattern = re.compile(self.path_regex)

    def matches(self, method: str, target: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.pattern.search(target) is not None


class FaultInjector:
    """Thread-safe list of pending faults; the first match is used up first."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def add(
        self,
        path_regex: str,
        kind: str,
        *,
        status: int = 503,
        seconds: float | None = None,
        times: int | None = 1,
        method: str | None = None,
        after_bytes: int | None = None,
    ) -> Fault:
        """``times=None`` keeps the fault until ``clear()``."""
        fault = Fault(
            next(self._ids), path_regex, kind, status, seconds, times, method,
            after_bytes,
        )  # fmt: skip
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, method: str, target: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, target):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None


class FaultMiddleware:
    """ASGI middleware applying faults, and serving ``/_sim/faults``."""

    def __init__(self, app, injector: FaultInjector):
        self.app = app
        self.injector = injector

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope["path"] == "/_sim/faults":
            return await self._control(scope, receive, send)
        target = scope["path"]
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        fault = self.injector.take(scope["method"], target)
        if fault is None:
            return await self.app(scope, receive, send)
        log.info("simulated fault %s on %s %s", fault.kind, scope["method"], target)
        return await self._apply(fault, scope, receive, send)

    async def _apply(self, fault: Fault, scope, receive, send):
        if fault.kind == "status":
            body = json.dumps({"message": "Simulated fault.", "code": fault.status})
            return await _respond(send, fault.status, body.encode())
        if fault.kind == "latency":
            await asyncio.sleep(fault.seconds or 1.0)
            return await self.app(scope, receive, send)
        if fault.kind == "timeout":
            # Long enough that the client has given up; answering afterwards does
            # no harm and keeps the server's log free of errors.
            await asyncio.sleep(fault.seconds or 30.0)
            return await self.app(scope, receive, send)
        return await self.app(scope, receive, _dropping(send, fault.after_bytes or 0))

    async def _control(self, scope, receive, send):
        if scope["method"] == "DELETE":
            self.injector.clear()
            return await _respond(send, 204, b"")
        if scope["method"] != "POST":
            return await _respond(send, 405, b'{"message":"POST or DELETE"}')
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        try:
            spec = json.loads(body or b"{}")
            fault = self.injector.add(spec.pop("path_regex"), spec.pop("kind"), **spec)
        except (KeyError, TypeError, ValueError, re.error) as err:
            message = json.dumps({"message": f"bad fault: {err}"}).encode()
            return await _respond(send, 400, message)
        return await _respond(send, 201, json.dumps({"id": fault.id}).encode())


def _dropping(send, after_bytes: int):
    """A ``send`` that lets the headers and ``after_bytes`` of body through, then
    breaks the connection."""
    sent = 0

    async def wrapped(message):
        nonlocal sent
        if message["type"] != "http.response.body":
            return await send(message)
        chunk = message.get("body", b"")
        allowed = max(0, after_bytes - sent)
        if allowed:
            part = {"type": "http.response.body", "body": chunk[:allowed]}
            await send({**part, "more_body": True})
            sent += min(allowed, len(chunk))
        raise DroppedConnection(f"simulated drop after {sent} bytes")

    return wrapped


async def _respond(send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
