"""The conversation's own rules, apart from any server."""

import httpx
import pytest

from tests.contract.normalize import Normalizer
from tests.contract.scenario import Conversation

BASE = "http://central.test"


def _dropping_once(sent: list[str]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.method)
        if len(sent) == 1:
            raise httpx.RemoteProtocolError("dropped", request=request)
        return httpx.Response(200, json={})

    return httpx.MockTransport(handler)


def _talk(sent: list[str], *, retry_reads: bool) -> Conversation:
    client = httpx.Client(base_url=BASE, transport=_dropping_once(sent))
    return Conversation(client=client, norm=Normalizer(BASE), retry_reads=retry_reads)


def test_call__dropped_read_on_replay__raises_without_a_second_try():
    sent: list[str] = []
    with pytest.raises(httpx.TransportError):
        _talk(sent, retry_reads=False).call("read", "GET", "/v1/projects")
    assert sent == ["GET"]


def test_call__dropped_read_while_recording__is_sent_again():
    sent: list[str] = []
    response = _talk(sent, retry_reads=True).call("read", "GET", "/v1/projects")
    assert response.status_code == 200
    assert sent == ["GET", "GET"]


def test_call__dropped_write_while_recording__raises_without_a_second_try():
    sent: list[str] = []
    with pytest.raises(httpx.TransportError):
        _talk(sent, retry_reads=True).call("write", "POST", "/v1/projects")
    assert sent == ["POST"]
