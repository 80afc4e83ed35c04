"""The XLSForms in ``forms/``: build them into XForms, deploy them to Central,
provision ODK Collect, read which fields are sensitive, and make synthetic
submissions for tests, the demo and benchmarks."""

from pathlib import Path

# The repository's forms folder; commands accept another one.
FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"

FORM_IDS = ("ag_child_case", "ag_commune_drugfree", "ag_tip_review")
