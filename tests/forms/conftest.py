"""The real forms are built once per test session (ODK Validate takes about a
second per form). Tests marked ``java`` need Java: outside CI they skip when it
is missing, with CI=true they fail."""

import os
import shutil

import pytest

from server.forms import FORMS_DIR
from server.forms.build import build_all

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(autouse=True)
def _java_present(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("java") and shutil.which("java") is None:
        message = "Java is not installed: ODK Validate cannot run"
        if IN_CI:
            pytest.fail(f"{message} (CI=true: a missing Java fails the run)")
        pytest.skip(message)


@pytest.fixture(scope="session")
def built_forms(tmp_path_factory: pytest.TempPathFactory):
    if shutil.which("java") is None and not IN_CI:
        pytest.skip("Java is not installed: ODK Validate cannot run")
    out = tmp_path_factory.mktemp("forms-build")
    return {b.xml_form_id: b for b in build_all(FORMS_DIR, out)}
