"""Every call to Central that sync makes: OData pages, the deleted list, forms and
their XForms, submission XML and attachments.

OData goes through pyodk (``client.submissions.get_table`` for a first page, the
pyodk session for ``@odata.nextLink``); the REST calls pyodk 1.3 lacks go through
the same session. Retries live here and only here: pyodk mounts a urllib3
``Retry`` (3 tries, backoff factor 2) on https only, so its adapters are replaced
by ones that do not retry, and this module retries every call the same way, with
a policy callers can shorten (tests) or lengthen (a distant Central).

Failures become ``CentralError`` carrying the URL, the status and a short body.
The body is only ever Central's problem code and message, never the content of
a data response, so no answer from a submission reaches an error or a log.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
from pyodk._utils.session import Adapter
from pyodk.client import Client
from pyodk.errors import PyODKError
from requests.adapters import Retry

from server.errors import CentralError

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
TRANSIENT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
# Central's default page is unbounded; 5,000 rows is where a real Central's
# paged reading cost stayed within 10% of one unpaged call (observed-behaviour.md).
DEFAULT_PAGE_SIZE = 5000

_retrying = threading.local()


class _QuietWhileRetrying(logging.Filter):
    """pyodk 1.3 logs each failed request at ERROR, with its body, before raising.
    Inside this module a failure is retried and, if it persists, reported once as
    a CentralError, so those records would be false alarms or duplicates."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_retrying, "active", False)


# Filters on a logger see only that logger's own records, so each pyodk module
# that logs failures gets one.
for _name in ("pyodk._endpoints.submissions", "pyodk._endpoints.auth"):
    logging.getLogger(_name).addFilter(_QuietWhileRetrying())


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failed call is tried again: ``attempts`` in
    all, waiting ``first_wait`` seconds, doubling up to ``max_wait``."""

    attempts: int = 5
    first_wait: float = 1.0
    max_wait: float = 30.0

    def wait(self, failures: int) -> float:
        return min(self.first_wait * 2 ** (failures - 1), self.max_wait)


@dataclass(frozen=True)
class ODataPage:
    rows: list[dict[str, Any]]
    next_link: str | None
    count: int | None = None


class _Retryable(Exception):
    """A failure worth another try; ``error`` is what to raise if none is left."""

    def __init__(self, error: CentralError) -> None:
        super().__init__(error.message)
        self.error = error


def short_body(response: requests.Response) -> str:
    """Central's problem code and message, or the start of a non-JSON error page.
    Never the body of a successful response: that would be submission data."""
    if response.status_code < 400:
        return ""
    try:
        problem = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(problem, dict) and "message" in problem:
        return f"{problem.get('code', '')} {problem['message']}".strip()[:300]
    return ""


class CentralSubmissions:
    """One project's submissions on Central, through an open pyodk client.

    ``timeout`` bounds each request; the retry layer of the client's session is
    replaced (see the module docstring).
    """

    def __init__(
        self,
        client: Client,
        *,
        project_id: int,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.session = client.session
        self.project_id = project_id
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        adapter = Adapter(
            timeout=timeout,
            max_retries=Retry(total=0, read=False, redirect=5),
            blocksize=self.session.blocksize,
        )
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    # Forms

    def forms(self) -> list[dict[str, Any]]:
        """Every form of the project: ``xmlFormId``, ``name``, ``version``, state."""
        return self._json(self._path("projects/{p}/forms", p=self.project_id))

    def form_versions(self, xml_form_id: str) -> list[dict[str, Any]]:
        """Every published version of the form (``version``, ``publishedAt``),
        the current one included."""
        return self._json(
            self._path(
                "projects/{p}/forms/{f}/versions", p=self.project_id, f=xml_form_id
            )
        )

    def form_xml(self, xml_form_id: str, version: str | None = None) -> str:
        """The XForm of a published version, or of the current one (``None``).
        Central names a version's XForm ``/versions/{v}.xml``; an empty version
        string cannot be put in that path, so it is read as the current form."""
        if version:
            url = self._path(
                "projects/{p}/forms/{f}/versions/{v}.xml",
                p=self.project_id,
                f=xml_form_id,
                v=version,
            )
        else:
            url = self._path(
                "projects/{p}/forms/{f}.xml", p=self.project_id, f=xml_form_id
            )
        return self._get(url).text

    # OData

    def odata_pages(
        self,
        xml_form_id: str,
        *,
        filter: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        count: bool = False,
    ) -> Iterator[ODataPage]:
        """The Submissions table page by page, repeats inline (``$expand=*``).

        Repeat tables are never paged: on Central each page of one costs about a
        full scan. Paging follows ``@odata.nextLink`` (a ``$skiptoken`` keyed on
        the last instance), so rows added while paging do not shift the pages.
        Central refuses ``$orderby`` with ``$skiptoken`` (501.1), hence Central's
        own order, newest first."""
        page = self._first_page(xml_form_id, filter, page_size, count)
        yield page
        while page.next_link:
            page = _as_page(self._json(page.next_link))
            yield page

    def deleted_pages(
        self, xml_form_id: str, *, page_size: int = DEFAULT_PAGE_SIZE
    ) -> Iterator[ODataPage]:
        """Soft-deleted submissions: they leave the default table and come back
        only when a filter names ``__system/deletedAt``."""
        return self.odata_pages(
            xml_form_id, filter="__system/deletedAt ne null", page_size=page_size
        )

    def rows_by_id(
        self,
        xml_form_id: str,
        submission_ids: list[str],
        *,
        deleted: bool = False,
        chunk: int = 50,
    ) -> list[dict[str, Any]]:
        """The rows of the given submissions that Central has: those not deleted,
        or with ``deleted`` those in the deleted list."""
        rows: list[dict[str, Any]] = []
        for start in range(0, len(submission_ids), chunk):
            ids = submission_ids[start : start + chunk]
            condition = " or ".join(f"__id eq {odata_string(i)}" for i in ids)
            if deleted:
                condition = f"__system/deletedAt ne null and ({condition})"
            for page in self.odata_pages(xml_form_id, filter=condition):
                rows.extend(page.rows)
        return rows

    # One submission

    def submission_xml(
        self, xml_form_id: str, submission_id: str, instance_id: str | None = None
    ) -> str:
        """The XML of a submission's current version, or of ``instance_id``."""
        return self._get(
            self._version_path(xml_form_id, submission_id, instance_id, ".xml")
        ).text

    def attachments(
        self, xml_form_id: str, submission_id: str, instance_id: str | None = None
    ) -> list[dict[str, Any]]:
        """``[{"name": ..., "exists": bool}]`` for a submission version."""
        url = self._version_path(
            xml_form_id, submission_id, instance_id, "/attachments"
        )
        return self._json(url)

    def attachment(
        self,
        xml_form_id: str,
        submission_id: str,
        name: str,
        instance_id: str | None = None,
    ) -> tuple[bytes, str | None]:
        """An attachment's content and content type. pyodk 1.3 cannot fetch these."""
        url = self._version_path(
            xml_form_id, submission_id, instance_id, "/attachments"
        )
        url += "/" + self.session.urlquote(name)
        response = self._get(url)
        return response.content, response.headers.get("Content-Type")

    # Plumbing

    def _path(self, template: str, **values: object) -> str:
        return self.session.urlformat(template, **values)

    def _version_path(
        self, xml_form_id: str, submission_id: str, instance_id: str | None, tail: str
    ) -> str:
        base = self._path(
            "projects/{p}/forms/{f}/submissions/{s}",
            p=self.project_id,
            f=xml_form_id,
            s=submission_id,
        )
        if instance_id and instance_id != submission_id:
            base += self._path("/versions/{v}", v=instance_id)
        return base + tail

    def _first_page(
        self, xml_form_id: str, filter: str | None, page_size: int, count: bool
    ) -> ODataPage:
        def get_table() -> dict[str, Any]:
            return self.client.submissions.get_table(
                form_id=xml_form_id,
                project_id=self.project_id,
                filter=filter,
                expand="*",
                top=page_size,
                count=count or None,
            )

        url = self.session.urljoin(
            self._path(
                "projects/{p}/forms/{f}.svc/Submissions",
                p=self.project_id,
                f=xml_form_id,
            )
        )
        document = self._with_retries(url, lambda: _pyodk_json(get_table, url))
        return _as_page(document)

    def _get(self, url: str) -> requests.Response:
        return self._call(self.session.get, url)

    def _json(self, url: str) -> Any:
        return self._with_retries(
            self.session.urljoin(url),
            lambda: _json_of(self._send(self.session.get, url)),
        )

    def _call(
        self, method: Callable[..., requests.Response], url: str
    ) -> requests.Response:
        return self._with_retries(
            self.session.urljoin(url), lambda: self._send(method, url)
        )

    def _send(
        self, method: Callable[..., requests.Response], url: str
    ) -> requests.Response:
        full_url = self.session.urljoin(url)
        try:
            response = method(url, timeout=self.timeout)
            # Reading the body here turns a connection dropped mid-body into a
            # retryable failure instead of a truncated page.
            response.content  # noqa: B018
        except TRANSIENT_ERRORS as err:
            raise _Retryable(_unreachable(full_url, err)) from err
        _raise_for_status(full_url, response)
        return response

    def _with_retries(self, url: str, call: Callable[[], Any]) -> Any:
        failures = 0
        while True:
            _retrying.active = True
            try:
                return call()
            except _Retryable as failure:
                failures += 1
                if failures >= self.retry.attempts:
                    error = failure.error
                    raise CentralError(
                        f"{error.message} (gave up after {failures} attempts)",
                        url=error.url,
                        status=error.status,
                        body=error.body,
                    ) from failure.__cause__
                wait = self.retry.wait(failures)
                logger.warning(
                    "Central call failed (%s), retry %s of %s in %.2fs: %s",
                    failure.error.status or "no answer",
                    failures,
                    self.retry.attempts - 1,
                    wait,
                    url,
                )
            finally:
                _retrying.active = False
            self._sleep(wait)


def odata_string(value: str) -> str:
    """An OData string literal: single quotes, doubled inside."""
    return "'" + value.replace("'", "''") + "'"


def odata_timestamp(moment: datetime) -> str:
    """A timestamp as Central's ``$filter`` reads it: UTC, milliseconds, ``Z``."""
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _pyodk_json(get_table: Callable[[], dict[str, Any]], url: str) -> dict[str, Any]:
    """Run a pyodk call, sorting its failures into retryable or final ones."""
    try:
        return get_table()
    except PyODKError as err:
        response = err.args[1] if len(err.args) > 1 else None
        if not isinstance(response, requests.Response):
            raise CentralError(
                f"Central call failed: {url}", url=url, status=None
            ) from err
        _raise_for_status(url, response)
        raise
    except TRANSIENT_ERRORS as err:
        raise _Retryable(_unreachable(url, err)) from err
    except ValueError as err:
        raise _Retryable(_truncated(url, err)) from err


def _json_of(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError as err:
        raise _Retryable(_truncated(response.url, err)) from err


def _as_page(document: dict[str, Any]) -> ODataPage:
    return ODataPage(
        rows=document.get("value", []),
        next_link=document.get("@odata.nextLink"),
        count=document.get("@odata.count"),
    )


def _raise_for_status(url: str, response: requests.Response) -> None:
    if response.status_code < 400:
        return
    error = CentralError(
        f"Central answered {response.status_code} to GET {url}",
        url=url,
        status=response.status_code,
        body=short_body(response),
    )
    if response.status_code in RETRY_STATUSES:
        raise _Retryable(error)
    raise error


def _unreachable(url: str, err: Exception) -> CentralError:
    return CentralError(
        f"Central did not answer GET {url}: {type(err).__name__}",
        url=url,
        status=None,
    )


def _truncated(url: str, err: Exception) -> CentralError:
    # A connection closed before the end of a body without a length leaves JSON
    # that does not parse; the message says so without quoting the body.
    return CentralError(
        f"Central's answer to GET {url} was cut short ({type(err).__name__})",
        url=url,
        status=200,
    )
