"""Share the tills' connections evenly between the server's workers (least connections).

The workers of `loyalty serve --workers N` accept on one listening socket, and a connection
goes to whichever worker's event loop gets to it first; a till keeps its connection (keep-alive),
and with it its worker. When tills connect together (a shop opening, the benchmark's 32 tills),
one worker took most of them: measured splits of 32 tills were 32/0, 20/12, 21/11, 19/13, 18/14,
and the busier worker's purchases waited ~1.5 times as long while the other had time to spare.

So the workers keep their open-connection counts on a small shared board (a file mapped into
each of them, a slot per worker), and a worker that has just accepted a connection and now holds
more than the least busy other worker pauses for a moment before its loop can accept again, so
that worker takes the next one (nginx's accept_mutex and libuv's UV_TCP_SINGLE_ACCEPT answer the
same problem). A worker that is not ahead never pauses; one that is waits 1 ms at a time, until
another worker has caught up or 4 ms have passed. If the board cannot be set up, workers accept
as before.
"""

import asyncio
import contextlib
import fcntl
import logging
import mmap
import multiprocessing
import os
import struct
import tempfile
import time
from pathlib import Path

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

ACCEPT_PAUSE = 0.001  # seconds, as long as the worker is still ahead, up to MAX_PAUSES times
MAX_PAUSES = 4
SLOTS = 64
_SLOT = struct.Struct("=qq")  # worker pid (0: free), its open connections

log = logging.getLogger("loyalty.accept")


class _Board:
    """This worker's slot on the board the workers of one server share."""

    def __init__(self, path: Path) -> None:
        self.pid = os.getpid()
        # In the shared temporary directory: never through a symlink, only our own file.
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            if os.fstat(descriptor).st_uid != os.getuid():
                raise OSError(f"{path} belongs to another user")
            fcntl.flock(descriptor, fcntl.LOCK_EX)  # one worker at a time claims a slot
            if os.fstat(descriptor).st_size < SLOTS * _SLOT.size:
                os.ftruncate(descriptor, SLOTS * _SLOT.size)
            self.map = mmap.mmap(descriptor, SLOTS * _SLOT.size)
            self.slot = next(n for n in range(SLOTS) if not _alive(self._read(n)[0]))
            self.publish(0)
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)  # explicitly: the mapping keeps the file open
            os.close(descriptor)

    def _read(self, slot: int) -> tuple[int, int]:
        pid, count = _SLOT.unpack_from(self.map, slot * _SLOT.size)
        return pid, count

    def publish(self, count: int) -> None:
        _SLOT.pack_into(self.map, self.slot * _SLOT.size, self.pid, count)

    def ahead_of_another(self, count: int) -> bool:
        """Whether some other live worker holds fewer connections than `count`."""
        for slot in range(SLOTS):
            if slot != self.slot:
                pid, theirs = self._read(slot)
                if pid and theirs < count and _alive(pid):
                    return True
        return False


def _sweep(directory: Path) -> None:
    """Boards of servers that have stopped (their supervisor is gone) are removed: a worker
    cannot tell that it is the last one out (it ends with os._exit, and a finished worker counts
    as alive until its supervisor reaps it)."""
    for board in directory.glob("loyalty-workers-*.board"):
        supervisor = board.stem.removeprefix("loyalty-workers-")
        if supervisor.isdigit() and not _alive(int(supervisor)):
            with contextlib.suppress(OSError):
                board.unlink()


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_board: _Board | None = None
_board_failed = False


def _the_board() -> _Board | None:
    """This worker's board: one file per server (named after the supervising process)."""
    global _board, _board_failed
    if _board is None and not _board_failed:
        path = Path(tempfile.gettempdir()) / f"loyalty-workers-{os.getppid()}.board"
        try:
            _board = _Board(path)
            _sweep(path.parent)
        except (OSError, StopIteration, ValueError) as exc:
            _board_failed = True
            log.warning("workers accept without sharing connection counts: %s", exc)
    return _board


# A worker takes its slot as soon as it loads this protocol, before its first connection: the
# others must see it from the start to know they are ahead of it. (Only in a worker process; the
# supervisor that spawned the workers has no parent process.)
if multiprocessing.parent_process() is not None:
    _the_board()


class FairAcceptProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol; the worker publishes its open connections and pauses after
    an accept that put it ahead of another worker."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        board = _the_board()
        if board is not None:
            count = len(self.connections)
            board.publish(count)
            for _ in range(MAX_PAUSES):  # blocking on purpose: the other workers get the next accept
                if not board.ahead_of_another(count):
                    break
                time.sleep(ACCEPT_PAUSE)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if _board is not None:
            with contextlib.suppress(ValueError):  # the mapping is gone at interpreter exit
                _board.publish(len(self.connections))
