"""The synthetic submissions, checked by JavaRosa, the form engine of ODK
Collect: every relevant required question answered, every constraint met,
every calculation equal to what Collect computes, nothing answered where the
question is not relevant.

The checker is a small Java program run with the ODK Validate jar that pyxform
ships (JavaRosa inside); Java runs it from source, which needs a JDK."""

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pyxform.validators.odk_validate import ODK_VALIDATE_PATH

from server.forms import FORM_IDS, FORMS_DIR
from server.forms.samples import generate
from server.forms.xlsx import read_sheet
from tests.fixtures.db import IN_CI

pytestmark = pytest.mark.java


@pytest.fixture(autouse=True)
def _jdk_present() -> None:
    # Java runs a .java file directly only with the compiler of a JDK.
    if shutil.which("javac") is None:
        message = "no JDK (javac): the JavaRosa checker cannot be compiled"
        if IN_CI:
            pytest.fail(f"{message} (CI=true: a missing JDK fails the run)")
        pytest.skip(message)


CHECKER = Path(__file__).parent / "javarosa" / "CheckSubmissions.java"
# Collect's start/end carry the device's offset; JavaRosa prints them in UTC.
CLOCK_FIELDS = {"start", "end"}


@dataclass
class Checked:
    failure: str | None = None
    values: dict[str, tuple[bool, str]] = field(default_factory=dict)


def _check(batches: list[tuple[Path, list[str]]], work: Path) -> list[Checked]:
    """Every (XForm, submissions) batch in one run of the checker (one JVM)."""
    args: list[str] = []
    for n, (xform, documents) in enumerate(batches):
        folder = work / f"form-{n}"
        folder.mkdir(parents=True)
        form = folder / xform.name
        shutil.copy(xform, form)
        for media in xform.parent.glob("*.csv"):
            shutil.copy(media, folder)
        args += ["--", str(form)] if args else [str(form)]
        for i, document in enumerate(documents):
            path = folder / f"submission-{i:04d}.xml"
            path.write_text(document, encoding="utf-8")
            args.append(str(path))
    done = subprocess.run(
        ["java", "-cp", ODK_VALIDATE_PATH, str(CHECKER), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return _parse(done.stdout)


def _parse(output: str) -> list[Checked]:
    results: list[Checked] = []
    for line in output.splitlines():
        if line.startswith("== "):
            results.append(Checked())
        elif line.startswith("FAIL "):
            results[-1].failure = line
        elif line.startswith("VALUE "):
            relevant, rest = line[6:].split(" ", 1)
            path, _, value = rest.partition("=")
            results[-1].values[path.rsplit("/", 1)[-1]] = (relevant == "1", value)
    return results


def _answers(document: str) -> dict[str, str]:
    return dict(re.findall(r"<(\w+)>([^<]*)</\1>", document))


def _calculations(form_id: str) -> set[str]:
    """The form's calculations. None reads today(), which JavaRosa would
    compute for the day of checking rather than the day the form was filled."""
    rows = read_sheet(FORMS_DIR / f"{form_id}.xlsx", "survey")
    calculated = {r.get("name") for r in rows if r.get("type") == "calculate"}
    assert not [r for r in rows if "today()" in r.get("calculation")]
    return calculated


@pytest.fixture(scope="module")
def checked(built_forms, tmp_path_factory):
    """form id -> (documents, JavaRosa's reading of them), in one checker run."""
    batches = {}
    for form_id in FORM_IDS:
        xform = built_forms[form_id].xform
        count = 30 if form_id == "ag_commune_drugfree" else 40
        text = xform.read_text(encoding="utf-8")
        batches[form_id] = (xform, generate(text, count=count, seed=21))
    return _check_each(batches, tmp_path_factory.mktemp("jr"))


def _check_each(batches: dict, work: Path) -> dict:
    """name -> (XForm, submissions) checked in one run, as name -> (submissions,
    JavaRosa's reading of each)."""
    results = iter(_check(list(batches.values()), work))
    return {
        name: (documents, [next(results) for _ in documents])
        for name, (_, documents) in batches.items()
    }


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_samples__javarosa__accepts_them_as_collect_would(checked, form_id):
    documents, results = checked[form_id]
    calculations = _calculations(form_id)
    for document, result in zip(documents, results, strict=True):
        assert result.failure is None, result.failure
        sent = _answers(document)
        for name, (relevant, engine_value) in result.values.items():
            if name in calculations:
                assert sent.get(name, "") == engine_value, name
            elif not relevant:
                assert sent.get(name, "") == "", f"{name} answered but not relevant"
            elif name not in CLOCK_FIELDS:
                assert sent.get(name, "") == engine_value, name


# Altered submissions: each case below builds its batch, and all are checked
# in one run of the checker (the ``altered`` fixture at the end).


def _broken_constraint(built_forms) -> tuple[Path, list[str]]:
    built = built_forms["ag_commune_drugfree"]
    documents = generate(built.xform.read_text(encoding="utf-8"), count=20, seed=2)
    document = next(d for d in documents if _answers(d)["n_users_managed"] != "0")
    managed = int(_answers(document)["n_users_managed"])
    broken = _answered(document, "n_users_counselled", str(managed + 1))
    return built.xform, [documents[0], broken, documents[1]]


def test_checker__broken_constraint_between_valid_ones__reported_alone(altered):
    _, results = altered["broken_constraint"]

    assert [r.failure for r in results] == [
        None,
        "FAIL 2 /data/grp_drug/n_users_counselled",
        None,
    ]


def _answered(document: str, name: str, value: str) -> str:
    return re.sub(rf"<{name}>[^<]*<", f"<{name}>{value}<", document)


def _aged(document: str, *, age: int, record_type: str) -> str:
    document = _answered(document, "record_type", record_type)
    for name in ("age_declared", "age_years"):
        document = _answered(document, name, str(age))
    return document


def _declared_age_16(built_forms) -> tuple[Path, list[str]]:
    built = built_forms["ag_child_case"]
    documents = generate(built.xform.read_text(encoding="utf-8"), count=200, seed=3)
    document = next(
        d
        for d in documents
        if _answers(d)["consent_caregiver"] == "0"
        and int(_answers(d)["age_years"]) >= 7
    )
    closure = _aged(document, age=16, record_type="closure")
    follow_up = _aged(document, age=16, record_type="followup")
    return built.xform, [closure, follow_up]


def test_checker__declared_age_16__only_on_a_closure_as_with_dob(altered):
    _, results = altered["declared_age_16"]

    assert [r.failure for r in results] == [
        None,
        "FAIL 2 /data/grp_child/age_declared",
    ]


def _commune_parts(built_forms) -> tuple[Path, list[str]]:
    built = built_forms["ag_commune_drugfree"]
    documents = generate(built.xform.read_text(encoding="utf-8"), count=60, seed=2)
    document = next(d for d in documents if _answers(d)["n_postrehab_managed"])
    a = {k: int(v) for k, v in _answers(document).items() if k.startswith("n_") and v}
    rehab = a["n_rehab_family_vol"] + a["n_rehab_comm_vol"] + a["n_rehab_comm_comp"]
    post = a["n_postrehab_managed"]
    broken = [
        _answered(document, "n_job_referral_post", str(post + 1)),
        _answered(document, "n_job_referral_inrehab", str(rehab + 1)),
        _answered(document, "n_loans", str(rehab + post + 1)),
    ]
    return built.xform, [document, *broken]


def test_checker__commune_parts_above_their_whole__each_reported(altered):
    _, results = altered["commune_parts"]

    assert [r.failure for r in results] == [
        None,
        "FAIL 2 /data/grp_post/n_job_referral_post",
        "FAIL 2 /data/grp_post/n_job_referral_inrehab",
        "FAIL 2 /data/grp_post/n_loans",
    ]


def _tip_age_declared(built_forms) -> tuple[Path, list[str]]:
    built = built_forms["ag_tip_review"]
    documents = generate(built.xform.read_text(encoding="utf-8"), count=80, seed=4)
    document = next(d for d in documents if _answers(d)["consent"] == "0")
    old = _answered(_answered(document, "age_declared", "101"), "age_at_receipt", "101")
    return built.xform, [document, old]


def test_checker__tip_age_declared__without_consent_and_at_most_100(altered):
    (document, _), results = altered["tip_age_declared"]
    assert _answers(document)["res_district"] and not _answers(document)["dob"]

    assert [r.failure for r in results] == [
        None,
        "FAIL 2 /data/grp_person/age_declared",
    ]


ALTERED = {
    "broken_constraint": _broken_constraint,
    "declared_age_16": _declared_age_16,
    "commune_parts": _commune_parts,
    "tip_age_declared": _tip_age_declared,
}


@pytest.fixture(scope="module")
def altered(built_forms, tmp_path_factory):
    """case -> (submissions, JavaRosa's reading of them), in one checker run."""
    batches = {name: build(built_forms) for name, build in ALTERED.items()}
    return _check_each(batches, tmp_path_factory.mktemp("altered"))
