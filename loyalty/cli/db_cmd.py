"""`loyalty db ...`"""

import typer

from loyalty import migrate
from loyalty.settings import get_settings

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command()
def upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply schema migrations up to REVISION (default: the newest)."""
    migrate.upgrade(get_settings(), revision)
    typer.echo("database is up to date")
