"""The demo behind ``make run`` when no Central is configured: the simulator on
loopback, our real forms deployed to it, and realistic synthetic submissions.

Nothing here is a real person's data; the log says so plainly.
"""

import logging
import random
import secrets
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr
from pyodk.client import Client

from central_sim.server import RunningSimulator, run_in_thread
from server.central.client import connect
from server.forms import FORMS_DIR
from server.forms.build import build_all
from server.forms.deploy import deploy_forms
from server.forms.samples import generate
from server.settings import Settings

logger = logging.getLogger(__name__)

PROJECT_NAME = "An Giang (dữ liệu mô phỏng / simulated data)"
DEMO_EMAIL = "demo@trogiup.invalid"
# Submissions per form; the commune assessment is one per commune and year.
SAMPLE_COUNTS = {
    "ag_child_case": 800,
    "ag_commune_drugfree": 156 * 3,
    "ag_tip_review": 90,
}
# Share of submissions a supervisor has already reviewed, so indicators (which
# count approved submissions by default) show values.
REVIEWED = {"approved": 0.7, "hasIssues": 0.05, "rejected": 0.05}


@dataclass
class Demo:
    simulator: RunningSimulator
    settings: Settings


def start(settings: Settings, *, forms_dir: Path = FORMS_DIR) -> Demo:
    """Start the simulator, deploy the forms, seed it once; settings that use it."""
    data_dir = Path(settings.data_dir)
    simulator = run_in_thread(
        db_path=data_dir / "central-sim.sqlite3",
        email=DEMO_EMAIL,
        password=_password(data_dir),
    )
    logger.warning(
        "No TROGIUP_CENTRAL_URL set: using the ODK Central SIMULATOR at %s. "
        "Every submission shown is synthetic demo data, not collected data.",
        simulator.url,
    )
    project_id = _project(simulator)
    demo_settings = settings.model_copy(
        update={
            "central_url": simulator.url,
            "central_email": simulator.email,
            "central_password": SecretStr(simulator.password),
            "central_project_id": project_id,
        }
    )
    client = connect(demo_settings)
    try:
        built = build_all(forms_dir, data_dir / "forms-build")
        for result in deploy_forms(client, project_id=project_id, built=built):
            logger.info("demo form %s: %s", result.xml_form_id, result.action)
        _seed(simulator, client, project_id, built)
    finally:
        client.close()
    return Demo(simulator=simulator, settings=demo_settings)


def _password(data_dir: Path) -> str:
    """A random password kept beside the simulator's data, so restarts reuse it."""
    path = data_dir / "central-sim-password"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(24))
        path.chmod(0o600)
    return path.read_text().strip()


def _project(simulator: RunningSimulator) -> int:
    for project in simulator.store.projects():
        if project["name"] == PROJECT_NAME:
            return project["id"]
    return simulator.store.create_project(name=PROJECT_NAME)


def _seed(simulator: RunningSimulator, client: Client, project_id: int, built) -> None:
    store = simulator.store
    for form in built:
        row = store.form(project_id, form.xml_form_id)
        if store.one("select 1 from submissions where form_id = ?", row["id"]):
            continue
        count = SAMPLE_COUNTS.get(form.xml_form_id, 100)
        documents = generate(form.xform.read_text(), count=count, seed=2018)
        store.bulk_submit(project_id, form.xml_form_id, documents)
        _review(store, row["id"])
        logger.info(
            "demo: seeded %s synthetic submissions of %s", count, form.xml_form_id
        )


def _review(store, form_id: int) -> None:
    rng = random.Random(form_id)
    for submission in store.all(
        "select id from submissions where form_id = ?", form_id
    ):
        draw = rng.random()
        for state, share in REVIEWED.items():
            if draw < share:
                store.set_review_state(submission["id"], state)
                break
            draw -= share
