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
    results = iter(_check(list(batches.values()), tmp_path_factory.mktemp("jr")))
    return {
        form_id: (documents, [next(results) for _ in documents])
        for form_id, (_, documents) in batches.items()
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


def test_checker__broken_constraint_between_valid_ones__reported_alone(
    built_forms, tmp_path
):
    built = built_forms["ag_commune_drugfree"]
    documents = generate(built.xform.read_text(encoding="utf-8"), count=20, seed=2)
    document = next(d for d in documents if _answers(d)["n_users_managed"] != "0")
    managed = int(_answers(document)["n_users_managed"])
    broken = re.sub(
        r"<n_users_counselled>[^<]*<",
        f"<n_users_counselled>{managed + 1}<",
        document,
    )

    results = _check([(built.xform, [documents[0], broken, documents[1]])], tmp_path)

    assert [r.failure for r in results] == [
        None,
        "FAIL 2 /data/grp_drug/n_users_counselled",
        None,
    ]


def _aged(document: str, *, age: int, record_type: str) -> str:
    for name, value in (
        ("record_type", record_type),
        ("age_declared", str(age)),
        ("age_years", str(age)),
    ):
        document = re.sub(rf"<{name}>[^<]*<", f"<{name}>{value}<", document)
    return document


def test_checker__declared_age_16__only_on_a_closure_as_with_dob(built_forms, tmp_path):
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

    results = _check([(built.xform, [closure, follow_up])], tmp_path)

    assert [r.failure for r in results] == [
        None,
        "FAIL 2 /data/grp_child/age_declared",
    ]


def _answered(document: str, name: str, value: str) -> str:
    return re.sub(rf"<{name}>[^<]*<", f"<{name}>{value}<", document)


def test_checker__commune_parts_above_their_whole__each_reported(built_forms, tmp_path):
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

    results = _check([(built.xform, [document, *broken])], tmp_path)

    assert [r.failure for r in results] == [
        None,
        "FAIL 2 /data/grp_post/n_job_referral_post",
        "FAIL 2 /data/grp_post/n_job_referral_inrehab",
        "FAIL 2 /data/grp_post/n_loans",
    ]


def test_checker__tip_age_declared__without_consent_and_at_most_100(
    built_forms, tmp_path
):
    built = built_forms["ag_tip_review"]
    documents = generate(built.xform.read_text(encoding="utf-8"), count=80, seed=4)
    document = next(d for d in documents if _answers(d)["consent"] == "0")
    assert _answers(document)["res_district"] and not _answers(document)["dob"]
    old = _answered(_answered(document, "age_declared", "101"), "age_at_receipt", "101")

    results = _check([(built.xform, [document, old])], tmp_path)

    assert [r.failure for r in results] == [
        None,
        "FAIL 2 /data/grp_person/age_declared",
    ]
