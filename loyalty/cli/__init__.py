"""The operator's command line: `loyalty serve`, `loyalty demo`, `loyalty db upgrade`, ..."""

import typer

from loyalty.cli import (
    consent_cmd,
    db_cmd,
    ledger_cmd,
    outbox_cmd,
    rules_cmd,
    seed_cmd,
    serve_cmd,
    staff_cmd,
)

app = typer.Typer(
    help="Loyalty engine: serve, migrate, seed a demo, manage staff and data.", no_args_is_help=True
)
serve_cmd.register(app)
app.add_typer(db_cmd.app, name="db")
app.add_typer(staff_cmd.app, name="staff")
app.add_typer(rules_cmd.app, name="rules")
app.add_typer(ledger_cmd.app, name="ledger")
app.add_typer(consent_cmd.app, name="consent")
app.add_typer(outbox_cmd.app, name="outbox")
app.add_typer(seed_cmd.app, name="seed")


def main() -> None:
    app()
