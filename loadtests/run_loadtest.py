"""`make loadtest`: a fresh SQLite database with the demo and N members, `loyalty serve`, locust
headless for a bounded time, its statistics, then `loyalty ledger verify`.

    python loadtests/run_loadtest.py [--members 1000] [--users 20] [--spawn-rate 10] [--time 30s]

Exits non-zero when the ledger does not verify or locust saw failed requests (says which).
Everything it writes stays under loadtests/out/.
"""

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    OUT,
    ROOT,
    VENV_BIN,
    free_port,
    ledger_verify,
    load_demo_program,
    migrate,
    server_env,
    start_server,
    stop_server,
)

from loyalty.cli.seed_cmd import seed_members, seed_staff  # noqa: E402
from loyalty.clock import SystemClock  # noqa: E402
from loyalty.db import Database  # noqa: E402
from loyalty.settings import Settings  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--spawn-rate", type=int, default=10)
    parser.add_argument("--time", default="30s")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    args = parser.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    db_path = OUT / "loadtest.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{db_path}"
    settings = Settings(database_url=url, environment="development", mail_dir=OUT / "mail")
    database = Database(url)
    print(f"database: {db_path}")
    print(migrate(settings, database))
    print(load_demo_program(settings))
    now = SystemClock().now()
    seed_staff(database, now=now)
    seeded = seed_members(database, count=args.members, now=now)
    print(f"seeded {len(seeded)} members and the cashier/marketer/admin staff")
    database.dispose()

    env = server_env(url, LOYALTY_SEED_MEMBERS=str(args.members))
    port = free_port()
    server = start_server(env, port, workers=args.workers, log=OUT / "loadtest-server.log")
    print(f"server: http://127.0.0.1:{port} (log: {OUT / 'loadtest-server.log'})")
    try:
        locust = subprocess.run(
            [
                str(VENV_BIN / "locust"), "-f", str(ROOT / "loadtests" / "locustfile.py"), "--headless",
                "-u", str(args.users), "-r", str(args.spawn_rate), "-t", args.time,
                "--host", f"http://127.0.0.1:{port}", "--only-summary", "--stop-timeout", "5",
                "--csv", str(OUT / "loadtest"),
            ],
            env=env, cwd=ROOT,
        )
    finally:
        stop_server(server)
    print("\n== loyalty ledger verify ==")
    verified = ledger_verify(env)
    if verified != 0:
        print("FAILED: the ledger does not verify", file=sys.stderr)
        return verified
    if locust.returncode != 0:
        message = f"FAILED: locust exited {locust.returncode} (failed requests; see the table above)"
        print(message, file=sys.stderr)
        return locust.returncode
    print("OK: no failed requests, ledger verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
