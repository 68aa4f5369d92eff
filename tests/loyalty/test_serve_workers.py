"""`loyalty serve --workers 2` as a shop runs it: both workers answer over kept-alive
connections and tills that connect together are shared between them; and the board on which the
workers compare their open connections (loyalty.web.accept): a worker ahead of another pauses
before its next accept, one that is not does not, and a finished worker does not count. How
evenly the benchmark's 32 tills spread under load is printed by loadtests/bench_earn.py (it
depends on what the workers are doing as the tills connect; here they are idle)."""

import http.client
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

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
        assert len(held) == 2 and max(held) - min(held) <= 2, f"tills per worker: {held}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def _finished_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_worker_ahead_of_another_on_the_board_pauses_one_that_is_not_does_not(tmp_path: Path) -> None:
    from loyalty.web import accept

    path = tmp_path / "loyalty-workers-1.board"
    first, second = accept._Board(path), accept._Board(path)  # two workers' slots on one board
    assert (first.slot, second.slot) == (0, 1)
    first.publish(3)
    second.publish(1)
    assert first.ahead_of_another(3) and not second.ahead_of_another(1)
    second.publish(3)
    assert not first.ahead_of_another(3)  # caught up: nobody waits
    # A worker that has ended no longer counts, and its slot goes to the next worker.
    accept._SLOT.pack_into(second.map, second.slot * accept._SLOT.size, _finished_pid(), 0)
    assert not first.ahead_of_another(3)
    assert accept._Board(path).slot == 1


def test_boards_of_stopped_servers_are_swept(tmp_path: Path) -> None:
    from loyalty.web import accept

    stopped = tmp_path / f"loyalty-workers-{_finished_pid()}.board"
    running = tmp_path / f"loyalty-workers-{os.getpid()}.board"
    for board in (stopped, running):
        board.write_bytes(b"\0" * 16)
    accept._sweep(tmp_path)
    assert not stopped.exists() and running.exists()


def test_the_board_is_never_opened_through_a_symlink(tmp_path: Path) -> None:
    from loyalty.web import accept

    target = tmp_path / "someone-elses-file"
    target.write_bytes(b"precious")
    path = tmp_path / "loyalty-workers-1.board"
    path.symlink_to(target)
    with pytest.raises(OSError):
        accept._Board(path)
    assert target.read_bytes() == b"precious"
