"""``trogiup forms build|deploy`` and ``trogiup collect provision``."""

from pathlib import Path

import typer

from server.errors import ConfigurationError
from server.forms import FORMS_DIR
from server.settings import Settings, get_settings

forms_app = typer.Typer(help="The XLSForms: build and deploy.", no_args_is_help=True)
collect_app = typer.Typer(help="ODK Collect devices.", no_args_is_help=True)

FORMS_OPTION = typer.Option(FORMS_DIR, "--forms", help="Folder of the XLSForms.")


@forms_app.command("build")
def build(
    out: Path | None = typer.Option(None, help="Output folder (default forms/build)."),
    forms: Path = FORMS_OPTION,
) -> None:
    """Convert each XLSForm to an XForm, validate it, write it and its media."""
    from server.forms.build import build_all, default_out_dir

    for built in build_all(forms, out or default_out_dir(forms)):
        typer.echo(f"{built.xml_form_id} {built.version} -> {built.xform.parent}")
        for warning in built.warnings:
            typer.echo(f"  warning: {warning}", err=True)


@forms_app.command("deploy")
def deploy(
    out: Path | None = typer.Option(None, help="Build folder (default forms/build)."),
    forms: Path = FORMS_OPTION,
) -> None:
    """Build the forms, then create, update or leave each one in Central."""
    from server.central.client import connect
    from server.forms.build import build_all, default_out_dir
    from server.forms.deploy import deploy_forms

    settings = get_settings()
    project_id = _project_id(settings)
    built = build_all(forms, out or default_out_dir(forms))
    client = connect(settings)
    try:
        results = deploy_forms(client, project_id=project_id, built=built)
    finally:
        client.close()
    for r in results:
        typer.echo(f"{r.xml_form_id} {r.action} (version {r.version})")


@collect_app.command("provision")
def provision(
    district: str | None = typer.Option(None, help="District code, e.g. 883."),
    commune: str | None = typer.Option(None, help="Commune code, e.g. 30280."),
    out: Path | None = typer.Option(
        None, help="Folder for the QR codes (default <data dir>/collect-qr)."
    ),
    public_url: str | None = typer.Option(
        None,
        help="Central's address as phones reach it, when it differs from "
        "TROGIUP_CENTRAL_URL (e.g. the server talks to Central on an internal "
        "network).",
    ),
    forms: Path = FORMS_OPTION,
) -> None:
    """An app user per commune, the commune forms assigned, a QR code each."""
    from server.central.client import connect
    from server.forms.provision import provision as provision_communes
    from server.forms.provision import select_communes
    from server.forms.units import load_units

    settings = get_settings()
    project_id = _project_id(settings)
    chosen = select_communes(load_units(forms), district=district, commune=commune)
    client = connect(settings)
    try:
        done = provision_communes(
            client,
            project_id=project_id,
            central_url=public_url or settings.central_url,
            communes=chosen,
            out_dir=out or settings.data_dir / "collect-qr",
        )
    finally:
        client.close()
    for p in done:
        state = "created" if p.created else "reused"
        typer.echo(f"{p.commune_code} app user {p.actor_id} ({state}) -> {p.qr_png}")
        if p.renamed:
            typer.echo(
                f"  note: the app user keeps its name '{p.display_name}' in Central, "
                "which cannot rename an app user; the QR code shows the new name",
                err=True,
            )


def _project_id(settings: Settings) -> int:
    if settings.central_project_id is None:
        raise ConfigurationError(
            "no Central project: set TROGIUP_CENTRAL_PROJECT_ID to the project's id"
        )
    return settings.central_project_id
