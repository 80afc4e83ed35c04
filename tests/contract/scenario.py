"""One fixed conversation with ODK Central, replayed against any server.

``run_scenario`` drives a server through what trogiup and pyodk rely on and
returns every request with its status and normalized response. Recorded once
from a real Central (tests/contract/record.py), the same list is what the
simulator must reproduce (tests/contract/test_contract.py).
"""

import base64
import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from tests.contract import xforms
from tests.contract.normalize import Normalizer, edmx_outline
from tests.contract.xforms import (
    MEDIA_FILE,
    MEDIA_FORM_ID,
    UUID_A,
    UUID_A2,
    UUID_B,
    UUID_B2,
    UUID_BAD,
    UUID_C,
    UUID_D,
    UUID_E,
    XML_FORM_ID,
    submission,
)

USER_AGENT = "trogiup-contract/1"
DEVICE_ID = "collect:contract-1"
APP_USER_NAME = "contract-device"
# pyodk assigns app users to forms by this role id, never by the role's name.
APP_USER_ROLE = 2
PROJECT_NAME = "Contract"
RECORDED_HEADERS = (
    "content-type",
    "content-disposition",
    "location",
    "x-openrosa-version",
)
EPOCH = "2000-01-01T00:00:00.000Z"
OPENROSA = {"X-OpenRosa-Version": "1.0"}


@dataclass
class Exchange:
    name: str
    method: str
    path: str
    status: int
    headers: dict[str, str]
    body: Any

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Conversation:
    """The state one replay carries from step to step."""

    client: httpx.Client
    norm: Normalizer
    exchanges: list[Exchange] = field(default_factory=list)
    token: str = ""
    project: int = 0
    key: str = ""
    key_actor: int = 0
    # Only when recording from a real Central: a replay against the simulator
    # must see a dropped connection, not a quiet second try.
    retry_reads: bool = False

    @property
    def form(self) -> str:
        return f"/v1/projects/{self.project}/forms/{XML_FORM_ID}"

    @property
    def svc(self) -> str:
        return f"{self.form}.svc"

    @property
    def key_root(self) -> str:
        return f"/v1/key/{self.key}/projects/{self.project}"

    def call(
        self,
        name: str,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        auth: bool = True,
        body_as: str = "auto",
        id_kind: str | None = None,
        shown: str | None = None,
        names: Callable[[httpx.Response], None] | None = None,
        keep: Callable[[Any], Any] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """One request, recorded. ``keep`` narrows a JSON body to the part this
        conversation made, for lists a shared server fills from other runs."""
        headers = dict(kwargs.pop("headers", None) or {})
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        response = self._send(method, path, params=params, headers=headers, **kwargs)
        if names and response.is_success:
            names(response)
        self.exchanges.append(
            Exchange(
                name=name,
                method=method,
                path=self.norm.text(shown or _shown_path(path, params)),
                status=response.status_code,
                headers=self._headers(response),
                body=self._body(response, body_as, id_kind, keep),
            )
        )
        return response

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.client.request(method, path, **kwargs)
        except httpx.TransportError:
            # Central (4f5943d) can drop a kept-alive connection after a
            # refused OData stream; a read is sent again, on a new connection.
            if not self.retry_reads or method not in ("GET", "HEAD"):
                raise
            return self.client.request(method, path, **kwargs)

    def _headers(self, response: httpx.Response) -> dict[str, str]:
        return {
            name: self.norm.text(response.headers[name])
            for name in RECORDED_HEADERS
            if name in response.headers
        }

    def _body(self, response: httpx.Response, body_as: str, id_kind, keep):
        if not response.content:
            return None
        kind = response.headers.get("content-type", "").split(";")[0].strip()
        if body_as == "edmx":
            return edmx_outline(response.text)
        if kind == "application/json":
            body = response.json()
            if keep is not None and response.is_success:
                body = keep(body)
            return self.norm.json(body, id_kind=id_kind)
        if kind == "application/zip":
            return self.norm.zip_files(response.content)
        if kind == "text/csv":
            return self.norm.csv_rows(response.content.decode("utf-8-sig"))
        if kind.startswith(("text/", "application/xml")):
            return self.norm.text(response.text)
        digest = hashlib.sha256(response.content).hexdigest()[:16]
        return f"<{len(response.content)} bytes sha256:{digest}>"


def _shown_path(path: str, params: dict[str, str] | None) -> str:
    if not params:
        return path
    return path + "?" + "&".join(f"{key}={value}" for key, value in params.items())


Step = Callable[[Conversation, str, str], None]


def run_scenario(
    base_url: str,
    email: str,
    password: str,
    *,
    steps: list[Step] | None = None,
    keep_going: bool = False,
    retry_reads: bool = False,
) -> list[Exchange]:
    """Replay the whole conversation against the server at ``base_url``.

    With ``keep_going`` a step that raises (say, a body without the id the
    next step needs) is recorded as an exchange with status 0 and the error,
    and the remaining steps still run, so one report shows every difference.
    ``retry_reads`` sends a GET or HEAD again after a dropped connection, which
    only recording from a real Central needs (see ``Conversation._send``).
    """
    with httpx.Client(
        base_url=base_url.rstrip("/"),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
        timeout=60,
    ) as client:
        # Bearer tokens only, as pyodk: Central also sets a session cookie,
        # which would otherwise ride along on the anonymous requests below.
        client.event_hooks["response"].append(lambda _: client.cookies.clear())
        talk = Conversation(
            client=client, norm=Normalizer(base_url), retry_reads=retry_reads
        )
        for step in STEPS if steps is None else steps:
            try:
                step(talk, email, password)
            # Whatever a server got wrong shows as a difference, not a crash.
            except Exception as err:
                if not keep_going:
                    raise
                talk.exchanges.append(_failed_step(step.__name__, err))
        return talk.exchanges


def _failed_step(step: str, err: Exception) -> Exchange:
    return Exchange(
        name=f"{step}:stopped",
        method="",
        path="",
        status=0,
        headers={},
        body=f"{type(err).__name__}: {err}",
    )


def sessions(talk: Conversation, email: str, password: str) -> None:
    talk.call(
        "session_wrong_password",
        "POST",
        "/v1/sessions",
        json={"email": email, "password": password + "-wrong"},
    )
    response = talk.call(
        "session_create",
        "POST",
        "/v1/sessions",
        json={"email": email, "password": password},
    )
    talk.token = response.json()["token"]
    talk.call(
        "bad_bearer_token",
        "GET",
        "/v1/users/current",
        auth=False,
        headers={"Authorization": "Bearer not-a-real-token"},
    )
    talk.call(
        "basic_auth_over_http",
        "GET",
        "/v1/users/current",
        auth=False,
        headers={"Authorization": _basic(email, password)},
    )
    me = talk.client.get(
        "/v1/users/current", headers={"Authorization": f"Bearer {talk.token}"}
    ).json()
    talk.norm.name("actor", me["id"], "admin")
    talk.call("users_current", "GET", "/v1/users/current", id_kind="actor")


def _basic(email: str, password: str) -> str:
    raw = base64.b64encode(f"{email}:{password}".encode()).decode()
    return f"Basic {raw}"


def projects_and_forms(talk: Conversation, email: str, password: str) -> None:
    response = talk.call(
        "project_create",
        "POST",
        "/v1/projects",
        json={"name": PROJECT_NAME},
        id_kind="project",
        names=_name_project(talk),
    )
    talk.project = response.json()["id"]
    talk.call("project_get", "GET", f"/v1/projects/{talk.project}", id_kind="project")
    xml = {"content": xforms.FORM_XML, "headers": {"Content-Type": "application/xml"}}
    talk.call("form_create_draft", "POST", f"/v1/projects/{talk.project}/forms", **xml)
    talk.call(
        "form_create_same_id",
        "POST",
        f"/v1/projects/{talk.project}/forms",
        **xml,
    )
    talk.call("form_draft_get", "GET", f"{talk.form}/draft")
    talk.call(
        "form_publish_v1",
        "POST",
        f"{talk.form}/draft/publish",
        params={"version": "v1"},
    )
    talk.call("form_get", "GET", talk.form)
    talk.call("form_xml", "GET", f"{talk.form}.xml")
    talk.call("form_list", "GET", f"/v1/projects/{talk.project}/forms")
    talk.call("form_new_draft", "POST", f"{talk.form}/draft")
    replacement = xforms.FORM_XML.replace('version="draft1"', 'version="draft2"')
    talk.call(
        "form_draft_replace",
        "POST",
        f"{talk.form}/draft",
        content=replacement,
        headers={"Content-Type": "application/xml"},
    )
    talk.call("form_draft_get_replaced", "GET", f"{talk.form}/draft")
    talk.call(
        "form_publish_existing_version",
        "POST",
        f"{talk.form}/draft/publish",
        params={"version": "v1"},
    )
    talk.call("form_draft_discard", "DELETE", f"{talk.form}/draft")
    talk.call(
        "form_fields_odata", "GET", f"{talk.form}/fields", params={"odata": "true"}
    )
    talk.call("form_versions", "GET", f"{talk.form}/versions")


def _name_project(talk: Conversation):
    def names(response: httpx.Response) -> None:
        talk.norm.name("project", response.json()["id"], "project")
        # Named rather than numbered, so the form's actee is actee#1 whether
        # or not a server shows the project's.
        talk.norm.name("actee", response.json().get("acteeId"), "project_actee")

    return names


def project_with_published_form(talk: Conversation, name: str, xml: str) -> None:
    """A project, and a form created and published in one call
    (`?publish=true`); the project becomes the conversation's."""
    response = talk.call(
        "project_create",
        "POST",
        "/v1/projects",
        json={"name": name},
        id_kind="project",
        names=_name_project(talk),
    )
    talk.project = response.json()["id"]
    talk.call(
        "form_create_published",
        "POST",
        f"/v1/projects/{talk.project}/forms",
        params={"publish": "true"},
        content=xml,
        headers={"Content-Type": "application/xml"},
    )


def projects_and_forms_minimal(talk: Conversation, email: str, password: str) -> None:
    """A project and the case form published in one call."""
    project_with_published_form(
        talk,
        f"{PROJECT_NAME} extra",
        xforms.FORM_XML.replace('version="draft1"', 'version="v1"'),
    )


def app_users(talk: Conversation, email: str, password: str) -> None:
    project = f"/v1/projects/{talk.project}"
    response = talk.call(
        "app_user_create",
        "POST",
        f"{project}/app-users",
        json={"displayName": APP_USER_NAME},
        id_kind="actor",
        names=lambda made: talk.norm.name("actor", made.json()["id"], "app_user"),
    )
    app_user = response.json()
    talk.key = app_user["token"]
    talk.key_actor = app_user["id"]
    talk.norm.secret(talk.key, "app_user_token")
    talk.call(
        "app_user_assign_form",
        "POST",
        f"{talk.form}/assignments/{APP_USER_ROLE}/{app_user['id']}",
        shown=f"{talk.form}/assignments/{APP_USER_ROLE}/<app_user>",
    )
    talk.call("app_user_list", "GET", f"{project}/app-users", id_kind="actor")
    talk.call(
        "form_assignments",
        "GET",
        f"{talk.form}/assignments",
    )
    talk.call(
        "app_user_formlist",
        "GET",
        f"{talk.key_root}/formList",
        auth=False,
        headers=OPENROSA,
    )
    talk.call(
        "app_user_odata_forbidden",
        "GET",
        f"/v1/key/{talk.key}{talk.svc.removeprefix('/v1')}/Submissions",
        auth=False,
    )


def form_media(talk: Conversation, email: str, password: str) -> None:
    project = f"/v1/projects/{talk.project}"
    media = f"{project}/forms/{MEDIA_FORM_ID}"
    talk.call(
        "media_form_create",
        "POST",
        f"{project}/forms",
        content=xforms.MEDIA_FORM_XML,
        headers={"Content-Type": "application/xml"},
    )
    talk.call("media_draft_attachments", "GET", f"{media}/draft/attachments")
    talk.call(
        "media_draft_attachment_upload",
        "POST",
        f"{media}/draft/attachments/{MEDIA_FILE}",
        content=xforms.MEDIA_CSV,
        headers={"Content-Type": "text/csv"},
    )
    talk.call("media_draft_attachments_uploaded", "GET", f"{media}/draft/attachments")
    talk.call("media_publish_own_version", "POST", f"{media}/draft/publish")
    talk.call("media_attachments", "GET", f"{media}/attachments")
    talk.call("media_attachment_get", "GET", f"{media}/attachments/{MEDIA_FILE}")
    app_user = talk.key_actor
    talk.call(
        "media_assign_app_user",
        "POST",
        f"{media}/assignments/{APP_USER_ROLE}/{app_user}",
        shown=f"{media}/assignments/{APP_USER_ROLE}/<app_user>",
    )
    talk.call(
        "media_formlist",
        "GET",
        f"{talk.key_root}/formList",
        auth=False,
        headers=OPENROSA,
    )
    talk.call(
        "media_manifest",
        "GET",
        f"{talk.key_root}/forms/{MEDIA_FORM_ID}/manifest",
        auth=False,
        headers=OPENROSA,
    )


def rest_submissions(talk: Conversation, email: str, password: str) -> None:
    xml_headers = {"Content-Type": "application/xml"}
    post = {"params": {"deviceID": DEVICE_ID}, "headers": xml_headers}
    visits_a = (("2026-11-02", "first"), ("2026-11-09", "second"))
    talk.call(
        "rest_submit_a",
        "POST",
        f"{talk.form}/submissions",
        content=submission(UUID_A, age="7", visits=visits_a),
        **post,
    )
    talk.call(
        "rest_submit_b",
        "POST",
        f"{talk.form}/submissions",
        content=submission(UUID_B, district="884", age="12", needs="health"),
        **post,
    )
    talk.call(
        "rest_submit_identical_again",
        "POST",
        f"{talk.form}/submissions",
        content=submission(UUID_A, age="7", visits=visits_a),
        **post,
    )
    talk.call(
        "rest_submit_malformed_xml",
        "POST",
        f"{talk.form}/submissions",
        content="this is not xml",
        **post,
    )
    talk.call(
        "rest_submit_wrong_form_id",
        "POST",
        f"{talk.form}/submissions",
        content=submission(UUID_BAD, form_id="another_form"),
        **post,
    )


def openrosa_submissions(talk: Conversation, email: str, password: str) -> None:
    url = f"{talk.key_root}/submission"
    params = {"deviceID": DEVICE_ID}

    def send(name: str, xml: str) -> None:
        talk.call(
            name,
            "POST",
            url,
            auth=False,
            params=params,
            headers=OPENROSA,
            files={"xml_submission_file": ("submission.xml", xml, "text/xml")},
        )

    talk.call("openrosa_head", "HEAD", url, auth=False, headers=OPENROSA)
    visits_c = (("2026-11-03", "c1"), ("2026-11-10", "c2"), ("2026-11-17", "c3"))
    xml_c = submission(UUID_C, age="5", weight="18", visits=visits_c)
    send("openrosa_submit_c", xml_c)
    send("openrosa_resend_identical", xml_c)
    send("openrosa_same_instance_other_xml", submission(UUID_C, age="6"))
    send("openrosa_submit_d", submission(UUID_D, age="9", visits=()))
    send(
        "openrosa_submit_e_empty",
        submission(UUID_E, needs="", location="", visits=(), with_child=False),
    )
    send("openrosa_malformed_xml", "this is not xml")
    send("openrosa_unknown_form", submission(UUID_BAD, form_id="no_such_form"))
    send("openrosa_unknown_version", submission(UUID_BAD, version="v9"))
    edit = submission(
        UUID_A2,
        age="8",
        visits=(("2026-11-02", "first"), ("2026-11-16", "third")),
        deprecated_id=UUID_A,
    )
    send("openrosa_edit_a", edit)


def rest_edit_and_review(talk: Conversation, email: str, password: str) -> None:
    talk.call(
        "rest_put_edit_b",
        "PUT",
        f"{talk.form}/submissions/{UUID_B}",
        content=submission(
            UUID_B2, district="884", age="13", needs="health", deprecated_id=UUID_B
        ),
        headers={"Content-Type": "application/xml"},
    )
    talk.call(
        "rest_get_by_new_instance_id", "GET", f"{talk.form}/submissions/{UUID_A2}"
    )
    for name, instance_id, state in (
        ("review_approved", UUID_B, "approved"),
        ("review_has_issues", UUID_C, "hasIssues"),
        ("review_bogus_state", UUID_D, "bogus"),
    ):
        talk.call(
            name,
            "PATCH",
            f"{talk.form}/submissions/{instance_id}",
            json={"reviewState": state},
        )
    comments = f"{talk.form}/submissions/{UUID_C}/comments"
    talk.call("comment_create", "POST", comments, json={"body": "Check the GPS"})
    talk.call("comment_list", "GET", comments)


def odata_documents(talk: Conversation, email: str, password: str) -> None:
    talk.call("odata_service_document", "GET", talk.svc)
    talk.call("odata_metadata", "GET", f"{talk.svc}/$metadata", body_as="edmx")
    talk.call("odata_submissions_all", "GET", f"{talk.svc}/Submissions")
    talk.call("odata_single_entity", "GET", f"{talk.svc}/Submissions('{UUID_A}')")
    talk.call(
        "odata_navigation_link", "GET", f"{talk.svc}/Submissions('{UUID_C}')/visit"
    )


def follow_pages(talk: Conversation, name: str, path: str, params: dict) -> None:
    response = talk.call(f"{name}_page_1", "GET", path, params=params)
    page = 1
    while response.status_code == 200 and "@odata.nextLink" in response.json():
        page += 1
        link = urlsplit(response.json()["@odata.nextLink"])
        next_path = unquote(link.path) + "?" + unquote(link.query)
        response = talk.call(f"{name}_page_{page}", "GET", link.path + "?" + link.query)
        talk.exchanges[-1].path = talk.norm.text(next_path)


def odata_paging(talk: Conversation, email: str, password: str) -> None:
    table = f"{talk.svc}/Submissions"
    follow_pages(talk, "odata_top2_count", table, {"$top": "2", "$count": "true"})
    talk.call(
        "odata_skip_top",
        "GET",
        table,
        params={"$skip": "1", "$top": "2", "$select": "__id"},
    )
    # Central offers a nextLink here too, though $skip reached the end: its
    # count of remaining rows ignores $skip. The link leads to an empty page.
    follow_pages(
        talk,
        "odata_skip_only",
        table,
        {"$skip": "3", "$count": "true", "$select": "__id"},
    )
    follow_pages(
        talk,
        "odata_repeat_top2",
        f"{table}.visit",
        {"$top": "2", "$count": "true"},
    )
    talk.call("odata_repeat_all", "GET", f"{table}.visit")


def odata_queries(talk: Conversation, email: str, password: str) -> None:
    table = f"{talk.svc}/Submissions"
    rows = talk.client.get(
        table,
        params={"$orderby": "__system/submissionDate asc"},
        headers={"Authorization": f"Bearer {talk.token}"},
    ).json()["value"]
    dates = {row["__id"]: row["__system"]["submissionDate"] for row in rows}
    after_c = dates[UUID_C]
    since = f"__system/submissionDate gt {after_c}"
    queries = [
        ("odata_filter_submission_date", {"$filter": since, "$count": "true"}),
        (
            "odata_filter_incremental",
            {
                "$filter": f"{since} or __system/updatedAt gt {after_c}",
                "$select": "__id,__system/updatedAt,__system/reviewState",
            },
        ),
    ]
    for name, params in queries + FIXED_QUERIES:
        talk.call(name, "GET", table, params=params)
    talk.call(
        "odata_repeat_filter",
        "GET",
        f"{table}.visit",
        params={"$filter": f"__system/submissionDate gt {EPOCH}"},
    )


# Queries whose answer does not depend on when the rows arrived.
FIXED_QUERIES = [
    (
        "odata_filter_submission_date_epoch",
        {"$filter": f"__system/submissionDate lt {EPOCH}", "$count": "true"},
    ),
    (
        "odata_filter_updated_at_null",
        {"$filter": "__system/updatedAt eq null", "$select": "__id"},
    ),
    (
        "odata_filter_review_approved",
        {
            "$filter": "__system/reviewState eq 'approved'",
            "$select": "__id,__system/reviewState",
        },
    ),
    (
        "odata_filter_review_null",
        {"$filter": "__system/reviewState eq null", "$select": "__id"},
    ),
    ("odata_filter_form_field", {"$filter": "child/age gt 5"}),
    (
        "odata_orderby_date_asc",
        {"$orderby": "__system/submissionDate asc", "$select": "__id"},
    ),
    ("odata_orderby_id", {"$orderby": "__id", "$select": "__id"}),
    (
        "odata_select_fields",
        {"$select": "__id,district,child/age,needs,__system/submitterId"},
    ),
    ("odata_select_group", {"$select": "child,meta"}),
    ("odata_wkt", {"$wkt": "true", "$select": "__id,location"}),
    ("odata_expand_star", {"$expand": "*"}),
    ("odata_expand_star_top1", {"$expand": "*", "$top": "1"}),
    ("odata_expand_named", {"$expand": "visit"}),
    ("odata_format_xml", {"$format": "xml"}),
    ("odata_format_json", {"$format": "json", "$select": "__id"}),
]


def delete_and_restore(talk: Conversation, email: str, password: str) -> None:
    table = f"{talk.svc}/Submissions"
    listing = {"$select": "__id,__system/deletedAt", "$count": "true"}
    deleted = {"$filter": "__system/deletedAt ne null", **listing}
    talk.call("submission_delete", "DELETE", f"{talk.form}/submissions/{UUID_E}")
    talk.call("odata_after_delete", "GET", table, params=listing)
    talk.call("odata_deleted_filter", "GET", table, params=deleted)
    talk.call("rest_get_deleted", "GET", f"{talk.form}/submissions/{UUID_E}")
    talk.call("submission_restore", "POST", f"{talk.form}/submissions/{UUID_E}/restore")
    talk.call("odata_after_restore", "GET", table, params=listing)
    talk.call("odata_deleted_filter_after_restore", "GET", table, params=deleted)


def rest_reads(talk: Conversation, email: str, password: str) -> None:
    extended = {"X-Extended-Metadata": "true"}
    submissions = f"{talk.form}/submissions"
    talk.call("rest_list", "GET", submissions)
    talk.call("rest_list_extended", "GET", submissions, headers=extended)
    talk.call("rest_get", "GET", f"{submissions}/{UUID_C}")
    talk.call("rest_get_extended", "GET", f"{submissions}/{UUID_A}", headers=extended)
    talk.call("rest_get_unknown", "GET", f"{submissions}/{UUID_BAD}")
    talk.call("rest_get_xml", "GET", f"{submissions}/{UUID_D}.xml")
    talk.call("rest_versions_edited", "GET", f"{submissions}/{UUID_A}/versions")


def exports_and_audits(talk: Conversation, email: str, password: str) -> None:
    submissions = f"{talk.form}/submissions"
    talk.call("csv_zip", "GET", f"{submissions}.csv.zip")
    talk.call("csv_root", "GET", f"{submissions}.csv")
    talk.call(
        "csv_root_filtered",
        "GET",
        f"{submissions}.csv",
        params={"$filter": "__system/reviewState eq 'approved'"},
    )
    talk.call("audits_submission_a", "GET", f"{submissions}/{UUID_A}/audits")
    talk.call("audits_submission_c", "GET", f"{submissions}/{UUID_C}/audits")


STEPS = [
    sessions,
    projects_and_forms,
    app_users,
    form_media,
    rest_submissions,
    openrosa_submissions,
    rest_edit_and_review,
    odata_documents,
    odata_paging,
    odata_queries,
    delete_and_restore,
    rest_reads,
    exports_and_audits,
]
