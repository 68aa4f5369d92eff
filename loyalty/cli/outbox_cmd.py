"""`loyalty outbox deliver`"""

import typer

from loyalty.clock import SystemClock
from loyalty.db import get_database
from loyalty.outbox import service as outbox_service
from loyalty.settings import get_settings

app = typer.Typer(help="Mails waiting to be sent.", no_args_is_help=True)


@app.command()
def deliver() -> None:
    """Send mails that are still queued (e.g. after an SMTP outage)."""
    settings = get_settings()
    sent = outbox_service.deliver_pending(get_database(settings), settings, now=SystemClock().now())
    typer.echo(f"{sent} mail(s) delivered")
