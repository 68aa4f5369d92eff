"""`loyalty ledger verify` and `loyalty ledger expire`."""

import typer

from loyalty.clock import SystemClock
from loyalty.db import get_database
from loyalty.ledger import service as ledger_service
from loyalty.settings import get_settings

app = typer.Typer(help="Check and maintain the points ledger.", no_args_is_help=True)


@app.command()
def verify() -> None:
    """Check every cached balance and lot against the entries; exit 1 on any problem."""
    database = get_database(get_settings())
    with database.session() as session:
        problems = ledger_service.verify(session)
        entries, members = ledger_service.ledger_counts(session)
    for problem in problems:
        typer.echo(problem, err=True)
    if problems:
        typer.echo(f"{len(problems)} problem(s) found", err=True)
        raise typer.Exit(1)
    typer.echo(f"OK: {entries} entries, {members} member balances agree")


@app.command()
def expire() -> None:
    """Book the expiry of every lot whose expiry date has passed."""
    database = get_database(get_settings())
    with database.session() as session:
        expired = ledger_service.expire_due(session, now=SystemClock().now())
    typer.echo(f"{expired} lot(s) expired")
