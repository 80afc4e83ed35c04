"""The simulator's state in one SQLite file: actors, projects, forms and their
versions, submissions and their versions, attachments, comments.

Each submission version keeps its OData root row pre-rendered (split around
``__system``) and its repeat rows, so serving OData is string joins rather than
XML parsing; that is what lets the simulator serve many thousand rows a second.
"""

import hashlib
import json
import secrets
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from defusedxml import ElementTree

from central_sim import clock
from central_sim.odata_rows import Schema, render_all
from central_sim.problems import Problem
from central_sim.submission_xml import (
    Arrival,
    ParsedSubmission,
    expected_attachments,
    parse_submission,
)
from central_sim.xform import (
    Field,
    FormDefinition,
    form_media,
    parse_xform,
    refuse_file_like_id,
    set_version,
)

SCHEMA = """
create table if not exists actors (
  id integer primary key, type text not null, display_name text, email text,
  password text, token text, project_id integer, created_at text not null,
  updated_at text, deleted_at text);
create table if not exists sessions (
  token text primary key, actor_id integer not null, csrf text,
  created_at text not null, expires_at text not null);
create table if not exists projects (
  id integer primary key, name text not null, description text,
  archived integer, created_at text not null,
  updated_at text, deleted_at text);
create table if not exists forms (
  id integer primary key, project_id integer not null, xml_form_id text not null,
  state text not null default 'open', current_def_id integer, draft_def_id integer,
  created_at text not null, updated_at text, unique (project_id, xml_form_id));
create table if not exists form_defs (
  id integer primary key, form_id integer not null, version text not null,
  name text, xml blob not null, hash text, sha text, sha256 text, key text,
  fields text not null, draft_token text, created_at text not null,
  published_at text);
-- Public keys of encrypted forms, one row per distinct key, as Central names them.
create table if not exists keys (
  id integer primary key, public text not null unique, created_at text not null);
create table if not exists form_attachments (
  form_def_id integer not null, name text not null, type text not null,
  content blob, content_type text, hash text, updated_at text,
  primary key (form_def_id, name));
create table if not exists assignments (
  actor_id integer not null, role_id integer not null, form_id integer not null,
  primary key (actor_id, role_id, form_id));
create table if not exists submissions (
  id integer primary key, form_id integer not null, instance_id text not null,
  submitter_id integer, device_id text, user_agent text, created_at text not null,
  updated_at text, review_state text, deleted_at text, form_version text,
  edits integer not null default 0, current_def_id integer,
  unique (form_id, instance_id));
create index if not exists submissions_order
  on submissions (form_id, created_at desc, id desc);
-- Live (not deleted) submissions in OData order: pages and counts read only
-- this index.
create index if not exists submissions_live
  on submissions (form_id, deleted_at, created_at, id);
create table if not exists submission_defs (
  id integer primary key, submission_id integer not null, form_id integer not null,
  instance_id text not null, form_def_id integer not null, submitter_id integer,
  device_id text, user_agent text, created_at text not null, instance_name text,
  xml blob not null, current integer not null, encrypted integer not null,
  attachments_present integer not null default 0,
  attachments_expected integer not null default 0,
  rendered_def_id integer, head text, tail text, head_x text, tail_x text);
create index if not exists submission_defs_instance
  on submission_defs (form_id, instance_id);
create index if not exists submission_defs_submission
  on submission_defs (submission_id);
create table if not exists repeat_rows (
  def_id integer not null, table_name text not null, position integer not null,
  row_id text not null, json text not null,
  primary key (def_id, table_name, position));
create table if not exists submission_attachments (
  def_id integer not null, name text not null, content blob, content_type text,
  primary key (def_id, name));
create table if not exists audits (
  id integer primary key, actor_id integer, action text not null, actee_id text,
  details text, logged_at text not null, submission_id integer);
create index if not exists audits_submission on audits (submission_id);
create table if not exists comments (
  id integer primary key, submission_id integer not null, actor_id integer not null,
  body text not null, created_at text not null);
"""

# Central's session lifetime.
SESSION_HOURS = 24
# Central gives app users a session that never expires.
FOREVER = "9999-12-31T23:59:59.000Z"
# Columns added after the first simulator files were written: (table, column, type).
_ADDED_COLUMNS = (
    ("actors", "last_login_at", "text"),
    ("projects", "actee_id", "text"),
    ("forms", "actee_id", "text"),
    ("form_defs", "key_id", "integer"),
)


def _digest(name: str, data: bytes) -> str:
    return hashlib.new(name, data).hexdigest()


class Store:
    """All reads and writes. One connection, serialised by a lock: the simulator
    is for one developer's tests and demo, not for concurrent load."""

    def __init__(self, db_path: str | Path):
        Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(db_path), check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("pragma journal_mode=wal")
        self.db.execute("pragma synchronous=normal")
        self.db.executescript(SCHEMA)
        self._add_columns()
        self.lock = threading.RLock()
        self._schemas: dict[int, Schema] = {}

    def _add_columns(self) -> None:
        for table, column, kind in _ADDED_COLUMNS:
            names = {r[1] for r in self.db.execute(f"pragma table_info({table})")}
            if column not in names:
                self.db.execute(f"alter table {table} add column {column} {kind}")

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        with self.lock, self.db:
            yield self.db

    def one(self, sql: str, *params) -> sqlite3.Row | None:
        with self.lock:
            return self.db.execute(sql, params).fetchone()

    def all(self, sql: str, *params) -> list[sqlite3.Row]:
        with self.lock:
            return self.db.execute(sql, params).fetchall()

    # Actors and sessions

    def ensure_admin(self, *, email: str, password: str) -> int:
        """The one administrator; its password follows the command line."""
        with self.tx() as db:
            row = db.execute(
                "select id from actors where type = 'user' and email = ?", (email,)
            ).fetchone()
            digest = _digest("sha256", password.encode())
            if row is not None:
                db.execute(
                    "update actors set password = ? where id = ?", (digest, row[0])
                )
                return row[0]
            cursor = db.execute(
                "insert into actors (type, display_name, email, password, created_at) "
                "values ('user', ?, ?, ?, ?)",
                (email, email, digest, clock.now()),
            )
            return cursor.lastrowid

    def user(self, *, email: str, password: str) -> sqlite3.Row:
        """The user with this email and password, or Central's 401.2."""
        digest = _digest("sha256", (password or "").encode())
        row = self.one(
            "select * from actors where type = 'user' and email = ? "
            "and deleted_at is null",
            email or "",
        )
        if row is None or not secrets.compare_digest(row["password"], digest):
            raise Problem.authentication_failed()
        return row

    def login(self, *, email: str, password: str) -> dict:
        row = self.user(email=email, password=password)
        token = _token()
        created = clock.now()
        moment = datetime.fromisoformat(created.replace("Z", "+00:00"))
        expires = clock.iso(moment + timedelta(hours=SESSION_HOURS))
        csrf = _token()
        with self.tx() as db:
            db.execute(
                "insert into sessions values (?, ?, ?, ?, ?)",
                (token, row["id"], csrf, created, expires),
            )
            # Central stamps the login in a statement of its own.
            db.execute(
                "update actors set last_login_at = ? where id = ?",
                (clock.now(), row["id"]),
            )
        return {
            "token": token,
            "csrf": csrf,
            "expiresAt": expires,
            "createdAt": created,
        }

    def actor_for_token(self, token: str) -> sqlite3.Row | None:
        row = self.one(
            "select a.* from sessions s join actors a on a.id = s.actor_id "
            "where s.token = ? and s.expires_at > ? and a.deleted_at is null",
            token,
            clock.wall(),
        )
        if row is not None:
            return row
        return self.one(
            "select * from actors where type = 'field_key' and token = ? "
            "and deleted_at is null",
            token,
        )

    def logout(self, token: str) -> bool:
        with self.tx() as db:
            return (
                db.execute("delete from sessions where token = ?", (token,)).rowcount
                > 0
            )

    def actor(self, actor_id: int) -> sqlite3.Row | None:
        return self.one("select * from actors where id = ?", actor_id)

    # Projects

    def create_project(self, *, name: str, description: str | None = None) -> int:
        with self.tx() as db:
            return db.execute(
                "insert into projects (name, description, created_at, actee_id) "
                "values (?, ?, ?, ?)",
                (name, description, clock.now(), str(uuid.uuid4())),
            ).lastrowid

    def project(self, project_id: int) -> sqlite3.Row:
        row = self.one(
            "select * from projects where id = ? and deleted_at is null", project_id
        )
        if row is None:
            raise Problem.not_found()
        return row

    def projects(self) -> list[sqlite3.Row]:
        return self.all(
            "select * from projects where deleted_at is null "
            "order by coalesce(archived, 0), name"
        )

    # Forms

    def form(self, project_id: int, xml_form_id: str) -> sqlite3.Row:
        self.project(project_id)
        row = self.one(
            "select * from forms where project_id = ? and xml_form_id = ?",
            project_id,
            xml_form_id,
        )
        if row is None:
            raise Problem.not_found()
        return row

    def form_def(self, def_id: int) -> sqlite3.Row:
        return self.one("select * from form_defs where id = ?", def_id)

    def published_form(self, project_id: int, xml_form_id: str) -> tuple:
        form = self.form(project_id, xml_form_id)
        if form["current_def_id"] is None:
            raise Problem.not_found()
        return form, self.form_def(form["current_def_id"])

    def visible_form(self, project_id: int, xml_form_id: str) -> tuple:
        """The form with its published version, or its draft when it has
        never been published."""
        form = self.form(project_id, xml_form_id)
        def_id = form["current_def_id"] or form["draft_def_id"]
        if def_id is None:
            raise Problem.not_found()
        return form, self.form_def(def_id)

    def draft_form(self, project_id: int, xml_form_id: str) -> tuple:
        form = self.form(project_id, xml_form_id)
        if form["draft_def_id"] is None:
            raise Problem.not_found()
        return form, self.form_def(form["draft_def_id"])

    def fields(self, def_id: int) -> list[Field]:
        return self.schema(def_id).fields

    def schema(self, def_id: int) -> Schema:
        schema = self._schemas.get(def_id)
        if schema is None:
            raw = json.loads(self.form_def(def_id)["fields"])
            schema = Schema([Field(**f) for f in raw])
            self._schemas[def_id] = schema
        return schema

    def _insert_def(self, db, form_id: int, definition: FormDefinition, xml: bytes):
        fields = [
            {
                "path": f.path,
                "name": f.name,
                "type": f.type,
                "order": f.order,
                "binary": f.binary,
                "select_multiple": f.select_multiple,
            }
            for f in definition.fields
        ]
        def_id = db.execute(
            "insert into form_defs (form_id, version, name, xml, hash, sha, sha256, "
            "key, key_id, fields, draft_token, created_at) "
            "values (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                form_id,
                definition.version,
                definition.name,
                xml,
                _digest("md5", xml),
                _digest("sha1", xml),
                _digest("sha256", xml),
                definition.public_key,
                self._ensure_key(db, definition.public_key),
                json.dumps(fields),
                _token(),
                clock.now(),
            ),
        ).lastrowid
        for name, kind in form_media(xml):
            db.execute(
                "insert into form_attachments (form_def_id, name, type) values (?,?,?)",
                (def_id, name, kind),
            )
        return def_id

    def _ensure_key(self, db, public: str | None) -> int | None:
        """The id of a form's public key; forms sharing a key share its id."""
        if public is None:
            return None
        db.execute(
            "insert into keys (public, created_at) values (?, ?) "
            "on conflict (public) do nothing",
            (public, clock.now()),
        )
        found = db.execute("select id from keys where public = ?", (public,))
        return found.fetchone()[0]

    def create_form(self, *, project_id: int, xml: bytes, publish: bool) -> int:
        self.project(project_id)
        definition = parse_xform(xml)
        refuse_file_like_id(definition.xml_form_id)
        with self.tx() as db:
            exists = db.execute(
                "select 1 from forms where project_id = ? and xml_form_id = ?",
                (project_id, definition.xml_form_id),
            ).fetchone()
            if exists:
                raise Problem.uniqueness(
                    ["projectId", "xmlFormId"],
                    [str(project_id), definition.xml_form_id],
                    "forms",
                )
            form_id = db.execute(
                "insert into forms (project_id, xml_form_id, created_at, actee_id) "
                "values (?, ?, ?, ?)",
                (project_id, definition.xml_form_id, clock.now(), str(uuid.uuid4())),
            ).lastrowid
            def_id = self._insert_def(db, form_id, definition, xml)
            db.execute(
                "update forms set draft_def_id = ? where id = ?", (def_id, form_id)
            )
            if publish:
                self._publish(db, form_id, def_id, with_create=True)
        return form_id

    def discard_draft(self, *, project_id: int, xml_form_id: str) -> None:
        form, draft = self.draft_form(project_id, xml_form_id)
        if form["current_def_id"] is None:
            raise Problem(
                409.7,
                "Could not delete draft, because the form has not been published. "
                "Either delete the whole form, or replace the draft.",
            )
        with self.tx() as db:
            db.execute(
                "update forms set draft_def_id = null, updated_at = ? where id = ?",
                (clock.now(), form["id"]),
            )
            self._drop_def(db, draft["id"])

    def create_draft(self, *, project_id: int, xml_form_id: str, xml: bytes | None):
        form = self.form(project_id, xml_form_id)
        if xml is None:
            if form["current_def_id"] is None:
                raise Problem.missing_parameter("xml")
            xml = bytes(self.form_def(form["current_def_id"])["xml"])
        definition = parse_xform(xml)
        if definition.xml_form_id != xml_form_id:
            raise Problem.unexpected_value(
                "xmlFormId",
                definition.xml_form_id,
                "does not match the form you are updating",
            )
        with self.tx() as db:
            previous = form["draft_def_id"] or form["current_def_id"]
            def_id = self._insert_def(db, form["id"], definition, xml)
            self._carry_attachments(db, previous, def_id)
            if form["draft_def_id"] and form["draft_def_id"] != form["current_def_id"]:
                self._drop_def(db, form["draft_def_id"])
            db.execute(
                "update forms set draft_def_id = ?, updated_at = ? where id = ?",
                (def_id, clock.now(), form["id"]),
            )

    def _carry_attachments(self, db, from_def: int | None, to_def: int) -> None:
        if from_def is None:
            return
        db.execute(
            "update form_attachments set content = (select p.content from "
            "form_attachments p where p.form_def_id = ? and p.name = "
            "form_attachments.name), content_type = (select p.content_type from "
            "form_attachments p where p.form_def_id = ? and p.name = "
            "form_attachments.name), hash = (select p.hash from form_attachments p "
            "where p.form_def_id = ? and p.name = form_attachments.name), "
            "updated_at = (select p.updated_at from form_attachments p where "
            "p.form_def_id = ? and p.name = form_attachments.name) "
            "where form_def_id = ?",
            (from_def, from_def, from_def, from_def, to_def),
        )

    def _drop_def(self, db, def_id: int) -> None:
        self._schemas.pop(def_id, None)
        db.execute("delete from form_attachments where form_def_id = ?", (def_id,))
        db.execute("delete from form_defs where id = ?", (def_id,))

    def publish_draft(self, *, project_id: int, xml_form_id: str, version: str | None):
        form, draft = self.draft_form(project_id, xml_form_id)
        with self.tx() as db:
            def_id = draft["id"]
            if version:
                xml = set_version(bytes(draft["xml"]), version)
                definition = parse_xform(xml)
                def_id = self._insert_def(db, form["id"], definition, xml)
                self._carry_attachments(db, draft["id"], def_id)
                self._drop_def(db, draft["id"])
                db.execute(
                    "update forms set draft_def_id = ? where id = ?",
                    (def_id, form["id"]),
                )
            self._publish(db, form["id"], def_id)
        self._schemas.pop(def_id, None)

    def _publish(self, db, form_id: int, def_id: int, with_create=False) -> None:
        """Publishing ``?publish=true`` at creation dates the version at the form's
        creation and leaves ``updatedAt`` empty, as Central does."""
        row = db.execute(
            "select f.project_id, f.xml_form_id, f.created_at, f.actee_id, d.version "
            "from form_defs d "
            "join forms f on f.id = d.form_id where d.id = ?",
            (def_id,),
        ).fetchone()
        clash = db.execute(
            "select 1 from form_defs where form_id = ? and version = ? "
            "and published_at is not null",
            (form_id, row["version"]),
        ).fetchone()
        if clash:
            raise Problem.version_conflict(row["xml_form_id"], row["version"])
        now = clock.now()
        db.execute(
            "update form_defs set published_at = ?, draft_token = null where id = ?",
            (row["created_at"] if with_create else now, def_id),
        )
        db.execute(
            "update forms set current_def_id = ?, draft_def_id = null, updated_at = ? "
            "where id = ?",
            (def_id, None if with_create else now, form_id),
        )
        self._enketo_token(db, form_id, row["actee_id"], now)

    def _enketo_token(self, db, form_id: int, actee_id: str, now: str) -> None:
        """Central makes a short-lived "Enketo sync token" actor with the form
        viewer role (7) each time it publishes, even with no Enketo to use it;
        it shows in the form's assignments."""
        actor_id = db.execute(
            "insert into actors (type, display_name, created_at) "
            "values ('singleUse', ?, ?)",
            (f"Enketo sync token for {actee_id}", now),
        ).lastrowid
        db.execute("insert into assignments values (?, 7, ?)", (actor_id, form_id))

    def forms(self, project_id: int) -> list[sqlite3.Row]:
        self.project(project_id)
        return self.all(
            "select * from forms where project_id = ? order by xml_form_id", project_id
        )

    def published_versions(self, form_id: int) -> list[sqlite3.Row]:
        return self.all(
            "select * from form_defs where form_id = ? and published_at is not null "
            "order by published_at desc, id desc",
            form_id,
        )

    def def_for_version(self, form_id: int, version: str) -> sqlite3.Row | None:
        return self.one(
            "select * from form_defs where form_id = ? and version = ? and "
            "published_at is not null order by id desc limit 1",
            form_id,
            version,
        )

    def form_attachments(self, def_id: int) -> list[sqlite3.Row]:
        return self.all(
            "select * from form_attachments where form_def_id = ? order by name",
            def_id,
        )

    def set_form_attachment(self, *, def_id: int, name: str, content: bytes, kind: str):
        row = self.one(
            "select 1 from form_attachments where form_def_id = ? and name = ?",
            def_id,
            name,
        )
        if row is None:
            raise Problem.not_found()
        with self.tx() as db:
            db.execute(
                "update form_attachments set content = ?, content_type = ?, hash = ?, "
                "updated_at = ? where form_def_id = ? and name = ?",
                (content, kind, _digest("md5", content), clock.now(), def_id, name),
            )
        return self.one(
            "select * from form_attachments where form_def_id = ? and name = ?",
            def_id,
            name,
        )

    # App users and assignments

    def create_app_user(self, *, project_id: int, display_name: str) -> dict:
        """The new app user's id and its never-expiring session."""
        self.project(project_id)
        with self.tx() as db:
            token, now = _token(), clock.now()
            actor_id = db.execute(
                "insert into actors (type, display_name, token, project_id, "
                "created_at) values ('field_key', ?, ?, ?, ?)",
                (display_name, token, project_id, now),
            ).lastrowid
            csrf, created = _token(), clock.now()
            db.execute(
                "insert into sessions values (?, ?, ?, ?, ?)",
                (token, actor_id, csrf, created, FOREVER),
            )
        # Central answers with the session's fields over the actor's, createdAt
        # included: a moment after the app user's own.
        return {
            "id": actor_id,
            "csrf": csrf,
            "expiresAt": FOREVER,
            "createdAt": created,
        }

    def app_users(self, project_id: int) -> list[sqlite3.Row]:
        self.project(project_id)
        return self.all(
            "select * from actors where type = 'field_key' and project_id = ? "
            "and deleted_at is null order by created_at desc, id desc",
            project_id,
        )

    def delete_app_user(self, *, project_id: int, actor_id: int) -> None:
        with self.tx() as db:
            changed = db.execute(
                "update actors set deleted_at = ?, token = null where id = ? and "
                "type = 'field_key' and project_id = ? and deleted_at is null",
                (clock.now(), actor_id, project_id),
            ).rowcount
            if not changed:
                raise Problem.not_found()
            db.execute("delete from sessions where actor_id = ?", (actor_id,))
            db.execute("delete from assignments where actor_id = ?", (actor_id,))

    def assign(self, *, form_id: int, role_id: int, actor_id: int) -> None:
        """Any role Central has may be assigned on a form, but only the
        app-user role (2) grants anything here: an app user given another role
        can do what an app user can, where on Central it could do more. The
        password reset token's role (3) Central keeps to itself."""
        if role_id == PASSWORD_RESET_ROLE:
            raise Problem.insufficient_rights()
        if role_id not in CENTRAL_ROLES or self.actor(actor_id) is None:
            raise Problem.not_found()
        with self.tx() as db:
            db.execute(
                "insert or ignore into assignments values (?, ?, ?)",
                (actor_id, role_id, form_id),
            )

    def assignments(self, form_id: int) -> list[sqlite3.Row]:
        return self.all(
            "select * from assignments where form_id = ? order by actor_id, role_id",
            form_id,
        )

    def is_assigned(self, *, actor_id: int, form_id: int) -> bool:
        return (
            self.one(
                "select 1 from assignments where actor_id = ? and form_id = ? "
                "and role_id = 2",
                actor_id,
                form_id,
            )
            is not None
        )

    # Submissions

    def submission(self, form_id: int, instance_id: str, *, deleted=False):
        row = self.find_submission(form_id, instance_id, deleted=deleted)
        if row is None:
            raise Problem.not_found()
        return row

    def find_submission(
        self, form_id: int, instance_id: str, *, deleted=False
    ) -> sqlite3.Row | None:
        """The submission with this logical instanceID, if there is one: the
        live one, or with ``deleted`` the one in the trash."""
        return self.one(
            "select * from submissions where form_id = ? and instance_id = ? and "
            "(deleted_at is not null) = ?",
            form_id,
            instance_id,
            deleted,
        )

    def any_def(self, form_id: int, instance_id: str) -> sqlite3.Row | None:
        return self.one(
            "select d.*, s.deleted_at as submission_deleted_at from submission_defs d "
            "join submissions s on s.id = d.submission_id "
            "where d.form_id = ? and d.instance_id = ?",
            form_id,
            instance_id,
        )

    def current_def(self, submission_id: int) -> sqlite3.Row:
        return self.one(
            "select * from submission_defs where submission_id = ? and current = 1",
            submission_id,
        )

    def defs(self, submission_id: int) -> list[sqlite3.Row]:
        return self.all(
            "select * from submission_defs where submission_id = ? order by id desc",
            submission_id,
        )

    def create_submission(
        self, *, form, form_def, parsed: ParsedSubmission, arrival: Arrival
    ) -> int:
        with self.tx() as db:
            clash = db.execute(
                "select 1 from submissions where form_id = ? and instance_id = ?",
                (form["id"], parsed.instance_id),
            ).fetchone()
            if clash is not None:
                raise Problem.uniqueness(
                    ["formId", "instanceId", "draft"],
                    [str(form["id"]), parsed.instance_id, "f"],
                    "submissions",
                )
            self._refuse_used_instance_id(db, form["id"], parsed.instance_id)
            return self._insert_submission(db, form, form_def, parsed, arrival)

    def _refuse_used_instance_id(self, db, form_id: int, instance_id: str) -> None:
        """Central's database refuses an instanceID that any version of the
        form's submissions already has (its trigger's "ODK06"), as 409.3 with
        the field and value as plain strings."""
        used = db.execute(
            "select 1 from submission_defs where form_id = ? and instance_id = ?",
            (form_id, instance_id),
        ).fetchone()
        if used is not None:
            raise Problem(
                409.3,
                f"A resource already exists with instanceID value(s) of {instance_id}.",
                {"fields": "instanceID", "values": instance_id},
            )

    def _insert_submission(self, db, form, form_def, parsed, arrival) -> int:
        arrival.at = arrival.at or clock.now()
        submission_id = db.execute(
            "insert into submissions (form_id, instance_id, submitter_id, device_id, "
            "user_agent, created_at, form_version) values (?,?,?,?,?,?,?)",
            (
                form["id"],
                parsed.instance_id,
                arrival.actor_id,
                arrival.device_id,
                arrival.user_agent,
                arrival.at,
                form_def["version"],
            ),
        ).lastrowid
        version = (submission_id, parsed.instance_id)
        def_id = self._insert_version(db, version, form, form_def, parsed, arrival, {})
        db.execute(
            "update submissions set current_def_id = ? where id = ?",
            (def_id, submission_id),
        )
        details = {
            "instanceId": parsed.instance_id,
            "submissionId": submission_id,
            "submissionDefId": def_id,
        }
        self._audit(db, arrival.actor_id, "submission.create", form["id"], details)
        return submission_id

    def _insert_version(
        self, db, version, form, form_def, parsed, arrival: Arrival, carried
    ) -> int:
        """A new current version of submission ``version`` = (id, logical
        instance id); ``carried`` holds the previous version's attachments."""
        submission_id, logical_id = version
        expected = expected_attachments(parsed, self.schema(form_def["id"]).fields)
        def_id = db.execute(
            "insert into submission_defs (submission_id, form_id, instance_id, "
            "form_def_id, submitter_id, device_id, user_agent, created_at, "
            "instance_name, xml, current, encrypted, attachments_expected) "
            "values (?,?,?,?,?,?,?,?,?,?,1,?,?)",
            (
                submission_id,
                form["id"],
                parsed.instance_id,
                form_def["id"],
                arrival.actor_id,
                arrival.device_id,
                arrival.user_agent,
                arrival.at,
                parsed.instance_name,
                parsed.xml,
                int(parsed.encrypted),
                len(expected),
            ),
        ).lastrowid
        for name in expected:
            content = arrival.files.get(name) or carried.get(name)
            db.execute(
                "insert into submission_attachments values (?, ?, ?, ?)",
                (def_id, name, *(content or (None, None))),
            )
        self._count_present(db, def_id)
        # OData shows every submission through the fields of the form's current
        # published version, whatever version it was submitted to.
        render_def = form["current_def_id"] or form_def["id"]
        self._render(db, def_id, render_def, parsed.root, logical_id, parsed.encrypted)
        return def_id

    def _render(self, db, def_id, render_def, xml, logical_id, encrypted) -> None:
        """Pre-render the OData root row and repeat rows of one version; ``xml``
        is the submission, parsed or not."""
        if isinstance(xml, bytes):
            xml = ElementTree.fromstring(xml)
        rendered = render_all(
            self.schema(render_def), xml, logical_id, encrypted=encrypted
        )
        db.execute(
            "update submission_defs set rendered_def_id = ?, head = ?, tail = ?, "
            "head_x = ?, tail_x = ? where id = ?",
            (
                render_def,
                rendered.head,
                rendered.tail,
                None if rendered.head_x == rendered.head else rendered.head_x,
                None if rendered.tail_x == rendered.tail else rendered.tail_x,
                def_id,
            ),
        )
        db.execute("delete from repeat_rows where def_id = ?", (def_id,))
        rows = [
            (def_id, table, position, row_id, text)
            for table, table_rows in rendered.tables.items()
            for position, (row_id, text) in enumerate(table_rows)
        ]
        if rows:
            db.executemany("insert into repeat_rows values (?, ?, ?, ?, ?)", rows)

    def rerender(self, def_id: int, render_def: int, row) -> dict | None:
        """Bring one version's pre-rendered rows up to the current form version;
        returns ``row`` (a mapping) with the new head and tail."""
        with self.tx() as db:
            found = db.execute(
                "select d.xml, d.encrypted, s.instance_id from submission_defs d "
                "join submissions s on s.id = d.submission_id where d.id = ?",
                (def_id,),
            ).fetchone()
            self._render(
                db,
                def_id,
                render_def,
                bytes(found["xml"]),
                found["instance_id"],
                bool(found["encrypted"]),
            )
            if row is None:
                return None
            fresh = db.execute(
                "select rendered_def_id, head, tail, head_x, tail_x from "
                "submission_defs where id = ?",
                (def_id,),
            ).fetchone()
        return {**dict(row), **dict(fresh)}

    def _count_present(self, db, def_id: int) -> None:
        db.execute(
            "update submission_defs set attachments_present = (select count(*) from "
            "submission_attachments where def_id = ? and content is not null) "
            "where id = ?",
            (def_id, def_id),
        )

    def add_attachments(self, *, def_id: int, files: dict[str, tuple[bytes, str]]):
        """Attachments resent with an identical submission; unexpected names are
        ignored, as Central ignores them."""
        with self.tx() as db:
            for name, (content, kind) in files.items():
                db.execute(
                    "update submission_attachments set content = ?, content_type = ? "
                    "where def_id = ? and name = ?",
                    (content, kind, def_id, name),
                )
            self._count_present(db, def_id)

    def set_attachment(self, *, def_id: int, name: str, content: bytes, kind: str):
        row = self.one(
            "select 1 from submission_attachments where def_id = ? and name = ?",
            def_id,
            name,
        )
        if row is None:
            raise Problem.not_found()
        self.add_attachments(def_id=def_id, files={name: (content, kind)})

    def submission_attachments(self, def_id: int) -> list[sqlite3.Row]:
        return self.all(
            "select * from submission_attachments where def_id = ? order by name",
            def_id,
        )

    def edit_submission(
        self, *, form, form_def, submission, parsed: ParsedSubmission, arrival: Arrival
    ) -> int:
        arrival.at = arrival.at or clock.now()
        with self.tx() as db:
            self._refuse_used_instance_id(db, form["id"], parsed.instance_id)
            carried = self._present_attachments(db, submission["current_def_id"])
            db.execute(
                "update submission_defs set current = 0 where submission_id = ?",
                (submission["id"],),
            )
            version = (submission["id"], submission["instance_id"])
            def_id = self._insert_version(
                db, version, form, form_def, parsed, arrival, carried
            )
            db.execute(
                "update submissions set current_def_id = ?, edits = edits + 1, "
                "review_state = 'edited', updated_at = ? where id = ?",
                (def_id, arrival.at, submission["id"]),
            )
            details = {
                "instanceId": parsed.instance_id,
                "submissionId": submission["id"],
                "submissionDefId": def_id,
            }
            action = "submission.update.version"
            self._audit(db, arrival.actor_id, action, form["id"], details)
            return def_id

    def _present_attachments(self, db, def_id: int) -> dict:
        return {
            r["name"]: (r["content"], r["content_type"])
            for r in db.execute(
                "select * from submission_attachments where def_id = ? and "
                "content is not null",
                (def_id,),
            )
        }

    def set_review_state(
        self, submission_id: int, review_state: str | None, *, actor_id=None
    ) -> None:
        """Review as ``actor_id``, by default the administrator."""
        actor_id = actor_id or self._admin_id()
        with self.tx() as db:
            db.execute(
                "update submissions set review_state = ?, updated_at = ? where id = ?",
                (review_state, clock.now(), submission_id),
            )
            row = db.execute(
                "select current_def_id, form_id from submissions where id = ?",
                (submission_id,),
            ).fetchone()
            details = {
                "reviewState": review_state,
                "submissionId": submission_id,
                "submissionDefId": row["current_def_id"],
            }
            self._audit(db, actor_id, "submission.update", row["form_id"], details)

    def _audit(self, db, actor_id, action: str, form_id: int, details) -> None:
        """An audit entry on a form; submission entries are found again by the
        submission id in their details, as Central finds them."""
        actee = db.execute(
            "select actee_id from forms where id = ?", (form_id,)
        ).fetchone()[0]
        submission_id = details.get("submissionId") if details else None
        db.execute(
            "insert into audits (actor_id, action, actee_id, details, logged_at, "
            "submission_id) values (?, ?, ?, ?, ?, ?)",
            (
                actor_id,
                action,
                actee,
                None if details is None else json.dumps(details),
                clock.now(),
                submission_id,
            ),
        )

    def audits(self, *, submission_id: int) -> list[dict]:
        """A submission's audit entries, newest first, in Central's shape."""
        rows = self.all(
            "select * from audits where submission_id = ? "
            "order by logged_at desc, id desc",
            submission_id,
        )
        return [
            {
                "actorId": r["actor_id"],
                "action": r["action"],
                "acteeId": r["actee_id"],
                "details": None if r["details"] is None else json.loads(r["details"]),
                "loggedAt": r["logged_at"],
                "notes": None,
            }
            for r in rows
        ]

    def delete_submission(self, submission_id: int) -> None:
        with self.tx() as db:
            db.execute(
                "update submissions set deleted_at = ? where id = ?",
                (clock.now(), submission_id),
            )

    def restore_submission(self, submission_id: int) -> None:
        with self.tx() as db:
            db.execute(
                "update submissions set deleted_at = null where id = ?",
                (submission_id,),
            )

    def add_comment(self, *, submission_id: int, actor_id: int, body: str) -> dict:
        now = clock.now()
        with self.tx() as db:
            db.execute(
                "insert into comments (submission_id, actor_id, body, created_at) "
                "values (?, ?, ?, ?)",
                (submission_id, actor_id, body, now),
            )
        return {"body": body, "actorId": actor_id, "createdAt": now}

    def comments(self, submission_id: int) -> list[dict]:
        return [
            {"body": r["body"], "actorId": r["actor_id"], "createdAt": r["created_at"]}
            for r in self.all(
                "select * from comments where submission_id = ? "
                "order by created_at desc, id desc",
                submission_id,
            )
        ]

    # Seeding

    def bulk_submit(
        self,
        project_id: int,
        xml_form_id: str,
        xml_documents: Iterable[str | bytes],
        *,
        submitter_id: int | None = None,
        device_id: str | None = None,
        created_at: datetime | None = None,
    ) -> int:
        """Insert many submissions to a published form in one transaction, as the
        administrator unless ``submitter_id`` is given; far faster than HTTP.
        ``created_at`` backdates every submission (demo data only). Each document
        is checked as Central checks a REST submission (form id, version,
        duplicates). Returns how many were inserted."""
        form = self.form(project_id, xml_form_id)
        if form["current_def_id"] is None:
            raise Problem.not_found()
        actor_id = submitter_id or self._admin_id()
        defs: dict[str, sqlite3.Row] = {}
        stamp = clock.iso(created_at) if created_at else None
        count = 0
        with self.tx() as db:
            for document in xml_documents:
                xml = document.encode() if isinstance(document, str) else document
                parsed = parse_submission(xml)
                if parsed.xml_form_id != xml_form_id:
                    raise _form_id_mismatch(parsed.xml_form_id)
                form_def = defs.get(parsed.version)
                if form_def is None:
                    form_def = self.def_for_version(form["id"], parsed.version)
                    if form_def is None:
                        raise Problem.form_version_not_found(parsed.version)
                    defs[parsed.version] = form_def
                arrival = Arrival(actor_id, device_id, at=stamp or clock.wall())
                self._insert_submission(db, form, form_def, parsed, arrival)
                count += 1
        return count

    def _admin_id(self) -> int:
        return self.one("select min(id) from actors where type = 'user'")[0]


# Central's roles at 4f5943d (GET /v1/roles): admin, app-user, password reset
# token, project manager, project viewer, form viewer, data collector, public
# link.
CENTRAL_ROLES = {1, 2, 3, 5, 6, 7, 8, 9}
PASSWORD_RESET_ROLE = 3


def _token() -> str:
    """64 characters, as Central writes its session tokens: base64 of 48
    random bytes with ``/`` as ``!`` and ``+`` as ``$``."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!$"
    return "".join(secrets.choice(alphabet) for _ in range(64))


def _form_id_mismatch(xml_form_id: str) -> Problem:
    return Problem.unexpected_value(
        "form id", xml_form_id, "did not match the form ID in the URL"
    )
