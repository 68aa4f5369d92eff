"""`loyalty staff ...`"""

import typer

from loyalty.clock import SystemClock
from loyalty.db import get_database
from loyalty.errors import LoyaltyError
from loyalty.settings import get_settings
from loyalty.staff import service as staff_service

app = typer.Typer(help="Staff accounts.", no_args_is_help=True)


@app.command()
def create(
    email: str = typer.Option(..., help="Login email"),
    password: str = typer.Option(..., help="At least 8 characters", prompt=True, hide_input=True),
    role: str = typer.Option(..., help="admin, marketer, cashier or dpo"),
    name: str = typer.Option("", help="Display name"),
) -> None:
    """Create a staff account."""
    database = get_database(get_settings())
    try:
        with database.session() as session:
            staff = staff_service.create_staff(
                session, now=SystemClock().now(), email=email, password=password, role=role,
                display_name=name or None,
            )
            typer.echo(f"created staff #{staff.id} {staff.email} ({staff.role})")
    except LoyaltyError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from exc


@app.command("list")
def list_() -> None:
    """List staff accounts."""
    with get_database(get_settings()).session() as session:
        for staff in staff_service.list_staff(session):
            state = "" if staff.active else " (disabled)"
            typer.echo(f"#{staff.id}\t{staff.role}\t{staff.email}{state}")
