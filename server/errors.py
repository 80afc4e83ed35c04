"""The catalogue of errors a user can see. Each has a stable code; each message
says where, what is wrong and how to fix it. Services raise these; the API maps
them to HTTP in one handler and the CLI prints them and exits non-zero."""

import traceback
from pathlib import Path

_PACKAGE_ROOT = Path(__file__).resolve().parents[1]


class TrogiupError(Exception):
    """Base of every error meant for a user. ``code`` is stable and documented."""

    code = "trogiup.error"
    http_status = 500

    def __init__(self, message: str, **context: object) -> None:
        super().__init__(message)
        self.message = message
        self.context = context

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, **self.context}


class NotFound(TrogiupError):
    code = "trogiup.not_found"
    http_status = 404


class InvalidInput(TrogiupError):
    code = "trogiup.invalid_input"
    http_status = 400


class Conflict(TrogiupError):
    code = "trogiup.conflict"
    http_status = 409


class ConfigurationError(TrogiupError):
    code = "trogiup.configuration"
    http_status = 500


class CentralError(TrogiupError):
    """Central answered with an error, or could not be reached after retries.

    Carries the URL, the status (``None`` when no answer came) and a short body,
    so the message says which request failed and what Central said.
    """

    code = "central.request_failed"
    http_status = 502

    def __init__(
        self, message: str, *, url: str, status: int | None, body: str = ""
    ) -> None:
        super().__init__(message, url=url, status=status, body=body[:500])
        self.url = url
        self.status = status
        self.body = body[:500]


class FormBuildError(TrogiupError):
    """An XLSForm could not be turned into a valid XForm. The message names the
    form, the sheet and the row, says what is wrong and how to fix it."""

    code = "forms.build_failed"
    http_status = 422

    def __init__(
        self, message: str, *, form: str, sheet: str | None, row: int | None
    ) -> None:
        where = f"form {form}" + (f", sheet '{sheet}'" if sheet else "")
        where += f", row {row}" if row else ""
        super().__init__(f"{where}: {message}", form=form, sheet=sheet, row=row)
        self.form = form
        self.sheet = sheet
        self.row = row


class FormsBuildFailed(TrogiupError):
    """Every problem found in a build, one per line, each a ``FormBuildError``
    naming its form, sheet and row. A build checks every form before it fails,
    so one run shows the designer everything there is to fix."""

    code = "forms.build_failed"
    http_status = 422

    def __init__(self, problems: list[FormBuildError]) -> None:
        forms = sorted({p.form for p in problems})
        lines = "\n".join(f"  {p.message}" for p in problems)
        super().__init__(
            f"{len(problems)} problem(s) in form(s) {', '.join(forms)}:\n{lines}",
            problems=[p.to_dict() for p in problems],
        )
        self.problems = problems


def safe_summary(err: BaseException) -> str:
    """What may be stored or shown of any error: a TrogiupError's message, which
    is written to carry no value; for anything else only its type, SQLSTATE
    and where it was raised, because a driver's or a converter's message can
    quote a row (a name in a failed insert)."""
    if isinstance(err, TrogiupError):
        return err.message
    cause, state = error_kind(err)
    summary = type(err).__name__
    if cause is not err:
        summary += f" ({type(cause).__name__})"
    if state:
        summary += f", SQLSTATE {state}"
    place = _place(err)
    return f"{summary} at {place}" if place else summary


def error_kind(err: BaseException) -> tuple[BaseException, str | None]:
    """The error the database driver raised (a SQLAlchemy wrapper's ``orig``,
    else ``err`` itself) and its SQLSTATE, None without one: what may be said
    of a database error, whose message can quote a row."""
    cause = getattr(err, "orig", None) or err
    return cause, getattr(cause, "sqlstate", None)


def _place(err: BaseException) -> str | None:
    """The innermost frame in trogiup's own code, else the innermost of all."""
    frames = traceback.extract_tb(err.__traceback__)
    if not frames:
        return None
    ours = [f for f in frames if _is_ours(f.filename)]
    frame = (ours or frames)[-1]
    name = Path(frame.filename)
    if _is_ours(frame.filename):
        name = name.resolve().relative_to(_PACKAGE_ROOT)
    return f"{name}:{frame.lineno} in {frame.name}"


def _is_ours(filename: str) -> bool:
    path = Path(filename).resolve()
    return path.is_relative_to(_PACKAGE_ROOT) and ".venv" not in path.parts
