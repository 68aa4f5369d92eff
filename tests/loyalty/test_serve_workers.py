"""`loyalty serve --workers 2` as a shop runs it: both workers answer, over kept-alive
connections, tills that connect together end up with both workers, and the workers'
fair-accept protocol (loyalty.web.accept) serves them. How evenly the benchmark's 32 tills
spread (it depends on what the workers are doing as they connect) is printed by
loadtests/bench_earn.py, not asserted here."""

import http.client
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

from tests.live import free_port

TILLS = 16


def _serve(tmp_path: Path, port: int) -> tuple[subprocess.Popen[bytes], Path]:
    log = tmp_path / "serve.log"
    env = {
        **os.environ,
        "LOYALTY_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "LOYALTY_ENVIRONMENT": "development",
        "LOYALTY_MAIL_DIR": str(tmp_path / "mail"),
    }
    command = [sys.executable, "-c", "from loyalty.cli import main; main()", "serve", "--host", "127.0.0.1",
               "--port", str(port), "--workers", "2"]  # fmt: skip
    with log.open("wb") as output:
        server = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    return server, log


def test_two_workers_answer_and_share_tills_connecting_together(tmp_path: Path) -> None:
    port = free_port()
    server, log = _serve(tmp_path, port)
    try:
        deadline = time.monotonic() + 60
        while log.read_text().count("Application startup complete") < 2:
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        start = threading.Barrier(TILLS)
        statuses: list[int] = []
        connections: list[http.client.HTTPConnection] = []

        def till() -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connections.append(connection)
            start.wait()
            for _ in range(3):  # one connection, kept alive
                connection.request("GET", "/api/v1/health")
                response = connection.getresponse()
                response.read()
                statuses.append(response.status)

        threads = [threading.Thread(target=till) for _ in range(TILLS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert statuses == [200] * (3 * TILLS)
        held = []
        for worker in psutil.Process(server.pid).children(recursive=True):
            count = sum(1 for c in worker.net_connections(kind="tcp") if c.laddr.port == port and c.raddr)
            if count:
                held.append(count)
        for connection in connections:
            connection.close()
        assert sum(held) == TILLS
        assert len(held) == 2 and min(held) >= TILLS // 4, f"tills per worker: {held}"
    finally:
        server.terminate()
        server.wait(timeout=30)
