"""``trogiup forms build|deploy`` and ``trogiup collect provision``."""

from pathlib import Path

import typer

from server.forms import FORMS_DIR

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
