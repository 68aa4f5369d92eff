"""The operator's command line: `loyalty serve`, `loyalty demo`, `loyalty db upgrade`, ..."""

import importlib

import typer

from loyalty.cli import db_cmd, serve_cmd, staff_cmd

app = typer.Typer(help="Loyalty engine: serve, migrate, seed a demo, manage staff and data.", no_args_is_help=True)
app.add_typer(db_cmd.app, name="db")
app.add_typer(staff_cmd.app, name="staff")
serve_cmd.register(app)

# Command groups owned by their domains.
for module_name, group in (
    ("loyalty.cli.outbox_cmd", "outbox"),
    ("loyalty.cli.consent_cmd", "consent"),
    ("loyalty.cli.seed_cmd", "seed"),
):
    app.add_typer(importlib.import_module(module_name).app, name=group)


def main() -> None:
    app()
