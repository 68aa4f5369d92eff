"""What run_loadtest.py and bench_earn.py share: a fresh database with the demo, a server process."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import inspect

from loyalty.db import Database
from loyalty.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "loadtests" / "out"
VENV_BIN = Path(sys.executable).parent


def loyalty_command() -> list[str]:
    script = VENV_BIN / "loyalty"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from loyalty.cli import main; main()"]


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        LOYALTY_DATABASE_URL=database_url,
        LOYALTY_ENVIRONMENT="development",
        LOYALTY_MAIL_DIR=str(OUT / "mail"),
        **extra,
    )
    return env


def migrate(settings: Settings, database: Database) -> str:
    """Alembic to head; create_all as a fallback while a table has no migration yet (says so)."""
    from loyalty import migrate as migrations
    from loyalty.models import metadata

    migrations.upgrade(settings)
    existing = set(inspect(database.engine).get_table_names())
    missing = [table.name for table in metadata.sorted_tables if table.name not in existing]
    if missing:
        metadata.create_all(database.engine)
        return f"migrated; created {len(missing)} table(s) without a migration yet: {', '.join(missing)}"
    return "migrated"


def load_demo_program(settings: Settings) -> str:
    """The Café Aroma demo (loyalty.demo): its programme, rewards, staff and demo members."""
    from loyalty.demo import load_demo

    return str(load_demo(settings))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    env: dict[str, str], port: int, *, workers: int = 1, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """`loyalty serve` in the background; returns once /api/v1/health answers."""
    output = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - lives as long as the server
    process = subprocess.Popen(
        [*loyalty_command(), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
        env=env, stdout=output, stderr=subprocess.STDOUT, cwd=ROOT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}; see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"the server did not answer within 60 s; see {log}")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def ledger_verify(env: dict[str, str]) -> int:
    """`loyalty ledger verify`; the command module directly if the CLI does not list it yet."""
    result = subprocess.run(
        [*loyalty_command(), "ledger", "verify"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if result.returncode == 2 and "No such command" in result.stderr:
        result = subprocess.run(
            [sys.executable, "-c", "from loyalty.cli.ledger_cmd import app; app(['verify'])"],
            env=env, cwd=ROOT, capture_output=True, text=True,
        )
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    return result.returncode
