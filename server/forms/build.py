"""XLSForm -> XForm with pyxform, checked by ODK Validate, stamped with a
version derived from its content, written with its media files.

The version is a hash of the XForm and its media, so building an unchanged
form gives the same version and deploying it again changes nothing."""

import hashlib
import logging
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pyxform.errors import PyXFormError
from pyxform.validators.error_cleaner import ErrorCleaner
from pyxform.validators.odk_validate import ODK_VALIDATE_PATH
from pyxform.xls2xform import convert

from server.errors import ConfigurationError, FormBuildError, FormsBuildFailed
from server.forms import checks, units
from server.forms.xlsx import form_id, read_sheet, xlsforms

log = logging.getLogger(__name__)

# ODK Validate takes about a second per form; far longer means a stuck JVM.
VALIDATE_TIMEOUT = 120
_ROW = re.compile(r"\[row : (\d+)\]")
_SHEET = re.compile(r"On the '(\w+)' sheet")
_QUOTED = re.compile(r"'([^']+)'")
_FIELD = re.compile(r"\$\{(\w+)\}")
_BIND_COLUMN = re.compile(r"invalid (\w+) expression")
# ODK Validate's lines around the message: the verdict and the files it read.
_VALIDATE_NOISE = re.compile(
    r"^(>> XForm is invalid|The following files failed validation|Result: )"
    r"|^\$\{.*\.xml$"
)
_BAD_NODE = re.compile(r",? ?Bad node: \S+")


@dataclass(frozen=True)
class BuiltForm:
    xml_form_id: str
    version: str
    xform: Path
    media: tuple[Path, ...]
    warnings: tuple[str, ...]


def build_all(forms_dir: Path, out_dir: Path) -> list[BuiltForm]:
    """Every ``*.xlsx`` in ``forms_dir``, each into ``out_dir/<xml_form_id>/``.

    A form that fails does not stop the others: each is built, then
    ``FormsBuildFailed`` lists the problems of every form that failed."""
    sources = xlsforms(forms_dir)
    if not sources:
        raise ConfigurationError(f"no XLSForm (*.xlsx) in {forms_dir}")
    media = units.media_files(forms_dir)
    built: list[BuiltForm] = []
    problems: list[FormBuildError] = []
    for xlsx in sources:
        try:
            built.append(build_form(xlsx, out_dir=out_dir, media=media))
        except FormBuildError as err:
            problems.append(err)
        except FormsBuildFailed as err:
            problems += err.problems
    if problems:
        raise FormsBuildFailed(problems)
    return built


def build_form(xlsx: Path, *, out_dir: Path, media: dict[str, bytes]) -> BuiltForm:
    xml_form_id = form_id(xlsx)
    problems = checks.design_problems(xlsx, xml_form_id)
    if problems:
        raise FormsBuildFailed(problems)
    warnings: list[str] = []
    try:
        result = convert(xlsx, warnings=warnings, pretty_print=True)
    except PyXFormError as err:
        raise _pyxform_error(xlsx, xml_form_id, str(err)) from err

    needed = {name: media[name] for name in _media_names(result.xform)}
    version = content_version(result.xform, needed)
    files = {
        f"{xml_form_id}.xml": stamp_version(
            result.xform, xml_form_id, version
        ).encode(),
        **needed,
    }
    target = out_dir / xml_form_id
    paths = _write_validated(files, target, xlsx=xlsx, xml_form_id=xml_form_id)
    log.info("built %s version %s into %s", xml_form_id, version, target)
    return BuiltForm(xml_form_id, version, paths[0], tuple(paths[1:]), tuple(warnings))


def _write_validated(
    files: dict[str, bytes], target: Path, *, xlsx: Path, xml_form_id: str
) -> list[Path]:
    """Write the XForm (first of ``files``) and its media beside it in a
    staging folder, validate it there, and only then move them into
    ``target``: a form that fails validation leaves the last good build."""
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target, prefix=".staging-") as staging:
        staged = [_write(Path(staging) / name, data) for name, data in files.items()]
        validate(staged[0], xlsx=xlsx, xml_form_id=xml_form_id)
        return [path.replace(target / path.name) for path in staged]


def _media_names(xform: str) -> list[str]:
    return sorted(set(re.findall(r'src="jr://file-csv/([^"]+)"', xform)))


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def content_version(xform: str, media: dict[str, bytes]) -> str:
    digest = hashlib.sha256(xform.encode("utf-8"))
    for name in sorted(media):
        digest.update(b"\0" + name.encode("utf-8") + b"\0" + media[name])
    return digest.hexdigest()[:12]


def stamp_version(xform: str, xml_form_id: str, version: str) -> str:
    """Put ``version`` on the primary instance's root element. The settings
    sheet leaves version empty: the build owns it."""
    pattern = re.compile(rf'(<(\w+) id="{re.escape(xml_form_id)}")(\s*>)')
    stamped, count = pattern.subn(rf'\1 version="{version}"\3', xform, count=1)
    if count != 1:
        raise FormBuildError(
            "the settings sheet must leave 'version' empty (the build sets it from "
            "the form's content)",
            form=xml_form_id,
            sheet="settings",
            row=2,
        )
    return stamped


def validate(xform_path: Path, *, xlsx: Path, xml_form_id: str) -> None:
    """Run ODK Validate. Its result is read from its exit status and output,
    because pyxform's own ``validate`` path turns a missing Java or a timeout
    into a mere warning."""
    java = shutil.which("java")
    if java is None:
        raise ConfigurationError(
            "Java is not installed or not on PATH: ODK Validate needs Java 8 or "
            "newer to check the forms (install a JRE, e.g. apt-get install "
            "default-jre-headless)"
        )
    command = [java, "-Djava.awt.headless=true", "-jar", ODK_VALIDATE_PATH]
    try:
        done = subprocess.run(  # noqa: S603 (fixed command, our own file path)
            [*command, str(xform_path)],
            capture_output=True,
            text=True,
            timeout=VALIDATE_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        raise FormBuildError(
            f"ODK Validate did not finish in {VALIDATE_TIMEOUT} s",
            form=xml_form_id,
            sheet=None,
            row=None,
        ) from err
    if done.returncode != 0 or "Xform is valid" not in done.stdout:
        raise _validate_error(xlsx, xml_form_id, done.stderr or done.stdout)


def _pyxform_error(xlsx: Path, xml_form_id: str, message: str) -> FormBuildError:
    row_match, sheet_match = _ROW.search(message), _SHEET.search(message)
    row = int(row_match.group(1)) if row_match else None
    sheet = sheet_match.group(1) if sheet_match else None
    if row is None:
        sheet, row = _locate(xlsx, _QUOTED.findall(message), sheet)
    text = _ROW.sub("", message).strip().rstrip(".")
    return FormBuildError(
        f"{text}. Fix it in {xlsx.name} and build again.",
        form=xml_form_id,
        sheet=sheet or "survey",
        row=row,
    )


def _validate_error(xlsx: Path, xml_form_id: str, output: str) -> FormBuildError:
    detail = _validate_detail(output)
    column = _BIND_COLUMN.search(detail)
    sheet, row = _locate(xlsx, _FIELD.findall(detail), None)
    where = f" (column '{column.group(1)}')" if column else ""
    return FormBuildError(
        f"ODK Validate rejected the form{where}: {detail}. Correct the expression "
        f"in {xlsx.name} and build again.",
        form=xml_form_id,
        sheet=sheet,
        row=row,
    )


def _validate_detail(output: str) -> str:
    """What ODK Validate says is wrong, on one line: its message can span
    several lines (a cycle names each field of the loop on its own), so every
    line is kept but the verdict, the file names and JavaRosa's object ids."""
    cleaned = _BAD_NODE.sub("", ErrorCleaner.odk_validate(output))
    lines = [ln.strip().lstrip(": ").strip() for ln in cleaned.splitlines()]
    kept = [ln for ln in lines if ln and not _VALIDATE_NOISE.match(ln)]
    return " ".join(kept).rstrip(".,") or output.strip()


def _locate(
    xlsx: Path, tokens: list[str], sheet: str | None
) -> tuple[str | None, int | None]:
    """The row a message is about, for messages that name a thing but not its
    row: first the row *named* by the earliest token (a field), else the first
    row holding one of the tokens (a question type, a list name)."""
    sheets = (sheet,) if sheet else ("survey", "choices")
    rows = [(name, row) for name in sheets for row in read_sheet(xlsx, name)]
    for token in tokens:
        for name, row in rows:
            if name == "survey" and row.get("name") == token:
                return name, row.number
    for name, row in rows:
        cells = set(row.values.values())
        cells |= {w for v in row.values.values() for w in v.split()}
        if any(t in cells for t in tokens):
            return name, row.number
    return sheet, None


def default_out_dir(forms_dir: Path) -> Path:
    return forms_dir / "build"
