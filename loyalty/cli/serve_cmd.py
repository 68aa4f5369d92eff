"""`loyalty serve` and `loyalty demo`."""

import os

import typer

from loyalty import migrate
from loyalty.settings import get_settings


def _prepare(demo: bool, address: str = "http://127.0.0.1:8000") -> None:
    """Migrate once, before any worker starts; then load the demo if asked."""
    settings = get_settings()
    migrate.upgrade(settings)
    if demo:
        from loyalty.demo import load_demo

        typer.echo(load_demo(settings, address=address))


def _run(host: str, port: int, workers: int, reload: bool = False) -> None:
    import uvicorn

    from loyalty.web.logs import uvicorn_log_config

    typer.echo(f"serving on http://{host}:{port}  (portal /, till /till, admin /admin, API docs /docs)")
    if workers > 1:
        uvicorn.run(
            "loyalty.web.asgi:app", host=host, port=port, workers=workers, log_config=uvicorn_log_config(),
            http="loyalty.web.accept:FairAcceptProtocol",
        )
    else:
        from loyalty.web.app import server_app, tune_interpreter

        tune_interpreter()
        uvicorn.run(server_app(), host=host, port=port, log_config=uvicorn_log_config())


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: str = typer.Option("127.0.0.1", help="Address to listen on"),
        port: int = typer.Option(8000, help="Port"),
        workers: int = typer.Option(
            0, help="Worker processes; 0 picks 2 for PostgreSQL and 1 for SQLite (whose writers serialize)"
        ),
        demo: bool = typer.Option(False, "--demo", help="Load the demo programme, staff and members"),
    ) -> None:
        """Serve the portal, till, admin and JSON API."""
        _prepare(demo, f"http://{host}:{port}")
        # Measured (loadtests/bench_earn.py): a second SQLite worker added 14% throughput but
        # nearly doubled p99, as writers in two processes wait on SQLite's own lock.
        _run(host, port, workers or (1 if get_settings().is_sqlite else 2))

    @app.command("demo")
    def demo_command(
        host: str = typer.Option("127.0.0.1"),
        port: int = typer.Option(8000),
        serve: bool = typer.Option(True, help="Serve after loading (--no-serve only loads)"),
    ) -> None:
        """Load the demo (programme, stores, staff, members), print the logins, and serve."""
        os.environ.setdefault("LOYALTY_ENVIRONMENT", "development")
        _prepare(True, f"http://{host}:{port}")
        if serve:
            _run(host, port, 1)
