"""Share the tills' connections fairly between the server's workers.

The workers of `loyalty serve --workers N` accept on one listening socket, and a connection
goes to whichever worker's event loop gets to it first; a till keeps its connection (keep-alive),
and with it its worker. When tills connect together (a shop opening, the benchmark's 32 tills),
one worker took most of them: measured splits of 32 tills were 32/0, 20/12, 21/11, 19/13, 18/14,
and the busier worker's purchases waited ~1.5 times as long while the other had time to spare.
So after each accept a worker pauses for a moment before its loop can accept again, and another
worker woken by the same burst takes the next connection (what libuv's UV_TCP_SINGLE_ACCEPT and
nginx's accept_mutex are for). It costs a new connection ~0.2 ms of its worker's loop.
"""

import asyncio
import time

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

ACCEPT_PAUSE = 0.001  # seconds


class FairAcceptProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, pausing its worker briefly after each new connection."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        time.sleep(ACCEPT_PAUSE)  # blocking on purpose: the other workers get the next accept
