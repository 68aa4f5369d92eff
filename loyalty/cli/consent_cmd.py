"""`loyalty consent verify`: prove that no consent event was changed, removed or reordered."""

import typer

from loyalty.consent import views as consent_views
from loyalty.db import Database, get_database
from loyalty.settings import get_settings

app = typer.Typer(help="The consent ledger.", no_args_is_help=True)


@app.callback()
def consent() -> None:
    """The consent ledger."""


@app.command()
def verify(
    member: int | None = typer.Option(None, help="Check only this member's chain."),
    database_url: str | None = typer.Option(None, help="Defaults to LOYALTY_DATABASE_URL."),
) -> None:
    """Recompute every hash chain; exit 1 and name the first broken event."""
    database = Database(database_url) if database_url else get_database(get_settings())
    with database.session() as session:
        broken, checked = consent_views.verify(session, member_id=member)
    if broken is not None:
        typer.echo(f"BROKEN at {broken}", err=True)
        raise typer.Exit(1)
    typer.echo(f"ok: {checked} consent event(s), every chain intact")
