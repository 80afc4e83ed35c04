"""The Central calls sync makes, against a scripted transport: retries, paging
and error wrapping, without waiting for real backoff."""

import json
from collections import deque

import pytest
import requests
from pyodk._utils.config import CentralConfig, Config
from pyodk.client import Client
from requests.adapters import BaseAdapter

from server.central.submissions import CentralSubmissions, RetryPolicy
from server.errors import CentralError

BASE = "http://central.test"


class ScriptedAdapter(BaseAdapter):
    """Answers each request with the next scripted step: a (status, body) pair,
    or an exception to raise as if the connection failed."""

    def __init__(self, steps):
        super().__init__()
        self.steps = deque(steps)
        self.urls: list[str] = []

    def send(self, request, **kwargs):
        self.urls.append(request.url)
        step = self.steps.popleft()
        if isinstance(step, Exception):
            raise step
        status, body = step
        response = requests.Response()
        response.status_code = status
        response.url = request.url
        response.request = request
        if isinstance(body, bytes):
            response._content = body
        else:
            response._content = json.dumps(body).encode()
            response.headers["Content-Type"] = "application/json"
        return response

    def close(self):
        pass


@pytest.fixture
def waits():
    return []


def central(steps, waits, attempts=3):
    config = Config(
        central=CentralConfig(base_url=BASE, username="u@example.org", password="pw")
    )
    client = Client(config=config)
    client.session.headers["Authorization"] = "Bearer test"
    api = CentralSubmissions(
        client,
        project_id=1,
        timeout=5,
        retry=RetryPolicy(attempts=attempts, first_wait=0.01, max_wait=0.04),
        sleep=waits.append,
    )
    adapter = ScriptedAdapter(steps)
    # The longest mounted prefix wins, so this one takes over from the module's.
    client.session.mount(BASE + "/", adapter)
    return api, adapter


def page(ids, next_link=None):
    body = {"value": [{"__id": i} for i in ids]}
    if next_link:
        body["@odata.nextLink"] = next_link
    return (200, body)


def test_odata_pages__follow_next_link__until_the_last_page(waits):
    nxt = f"{BASE}/v1/projects/1/forms/f.svc/Submissions?%24top=2&%24skiptoken=01x"
    api, adapter = central([page(["a", "b"], nxt), page(["c"])], waits)

    pages = list(api.odata_pages("f", page_size=2))

    assert [[r["__id"] for r in p.rows] for p in pages] == [["a", "b"], ["c"]]
    assert "%24expand=%2A" in adapter.urls[0] and "%24top=2" in adapter.urls[0]
    assert adapter.urls[1] == nxt


def test_odata_pages__5xx_then_success__retries_with_growing_waits(waits):
    api, adapter = central([(503, {}), (502, {}), page(["a"])], waits)

    pages = list(api.odata_pages("f"))

    assert pages[0].rows == [{"__id": "a"}]
    assert waits == [0.01, 0.02]
    assert len(adapter.urls) == 3


def test_next_link__dropped_connection__is_retried(waits):
    nxt = f"{BASE}/v1/projects/1/forms/f.svc/Submissions?%24skiptoken=01x"
    dropped = requests.exceptions.ChunkedEncodingError("connection broken")
    api, adapter = central([page(["a"], nxt), dropped, page(["b"])], waits)

    rows = [r["__id"] for p in api.odata_pages("f") for r in p.rows]

    assert rows == ["a", "b"]
    assert adapter.urls[1] == adapter.urls[2] == nxt


def test_odata_pages__cut_short_body__is_retried(waits):
    api, _ = central([(200, b'{"value": [{"__id": "a"'), page(["a"])], waits)

    assert next(api.odata_pages("f")).rows == [{"__id": "a"}]
    assert len(waits) == 1


def test_odata_pages__timeout__is_retried(waits):
    api, _ = central([requests.exceptions.ReadTimeout("slow"), page(["a"])], waits)

    assert next(api.odata_pages("f")).rows == [{"__id": "a"}]


def test_persistent_5xx__raises_central_error_with_url_status_and_message(waits):
    problem = {"code": 500.1, "message": "Internal Server Error", "details": {}}
    api, adapter = central([(500, problem)] * 3, waits)

    with pytest.raises(CentralError) as caught:
        list(api.odata_pages("f"))

    error = caught.value
    assert error.status == 500
    assert error.url.startswith(f"{BASE}/v1/projects/1/forms/f.svc/Submissions")
    assert error.body == "500.1 Internal Server Error"
    assert "gave up after 3 attempts" in error.message
    assert len(adapter.urls) == 3


def test_client_error__is_not_retried(waits):
    problem = {
        "code": 404.1,
        "message": "Could not find the resource you were looking for.",
    }
    api, adapter = central([(404, problem)], waits)

    with pytest.raises(CentralError) as caught:
        api.form_xml("missing", "v9")

    assert caught.value.status == 404
    assert adapter.urls == [f"{BASE}/v1/projects/1/forms/missing/versions/v9.xml"]
    assert waits == []


def test_no_answer_at_all__raises_central_error_without_status(waits):
    refused = requests.exceptions.ConnectionError("refused")
    api, _ = central([refused] * 3, waits)

    with pytest.raises(CentralError) as caught:
        api.forms()

    assert caught.value.status is None
    assert "ConnectionError" in caught.value.message


def test_error_body__never_quotes_a_data_answer(waits):
    api, _ = central([(200, b'{"value": [{"name": "Nguy')] * 3, waits)

    with pytest.raises(CentralError) as caught:
        list(api.odata_pages("f"))

    assert "Nguy" not in str(caught.value.to_dict())


def test_attachment__of_an_edited_version__uses_the_versions_path(waits):
    api, adapter = central([(200, b"\x89PNG")], waits)

    content, _ = api.attachment("f", "uuid:1", "photo 1.jpg", instance_id="uuid:2")

    assert content == b"\x89PNG"
    assert adapter.urls == [
        f"{BASE}/v1/projects/1/forms/f/submissions/uuid%3A1/versions/uuid%3A2"
        "/attachments/photo%201.jpg"
    ]


def test_rows_by_id__asks_in_chunks_with_quoted_ids(waits):
    api, adapter = central([page(["a"]), page(["c"])], waits)

    rows = api.rows_by_id("f", ["a", "b'c", "d"], chunk=2)

    assert [r["__id"] for r in rows] == ["a", "c"]
    first = requests.utils.unquote(adapter.urls[0]).replace("+", " ")
    assert "$filter=__id eq 'a' or __id eq 'b''c'" in first


def test_next_link__cut_short_body__is_retried(waits):
    nxt = f"{BASE}/v1/projects/1/forms/f.svc/Submissions?%24skiptoken=01x"
    cut = (200, b'{"value": [{"__id": "b"')
    api, adapter = central([page(["a"], nxt), cut, page(["b"])], waits)

    rows = [r["__id"] for p in api.odata_pages("f") for r in p.rows]

    assert rows == ["a", "b"]
    assert adapter.urls[1] == adapter.urls[2] == nxt


def test_submission_xml__of_an_edited_version__uses_the_versions_path(waits):
    api, adapter = central([(200, b"<data id='f'/>")], waits)

    xml = api.submission_xml("f", "uuid:1", instance_id="uuid:2")

    assert xml == "<data id='f'/>"
    assert adapter.urls == [
        f"{BASE}/v1/projects/1/forms/f/submissions/uuid%3A1/versions/uuid%3A2.xml"
    ]
