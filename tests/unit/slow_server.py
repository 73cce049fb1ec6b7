"""A local HTTP server as slow as a test asks: one that never answers, or trickles its answer a byte
at a time (from the status line, or after the headers). Each connection gives up after
``give_up_after`` seconds, so a client without a deadline fails the test rather than hanging it."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

JSON_EMPTY_VECTOR = b'{"status":"success","data":{"resultType":"vector","result":[]}}'


def http_answer(body: bytes = JSON_EMPTY_VECTOR) -> bytes:
    head = (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class SlowServer:
    """Serves ``answer``: the first ``at_once`` bytes at once, then one byte every ``byte_every``
    seconds; ``byte_every=None``: nothing at all (a server that accepts and never answers)."""

    def __init__(
        self,
        answer: bytes = b"",
        *,
        at_once: int = 0,
        byte_every: float | None = None,
        give_up_after: float = 20.0,
    ) -> None:
        self.answer, self.at_once, self.byte_every = answer, at_once, byte_every
        self.give_up_after = give_up_after
        self.connections = 0
        self._stop = threading.Event()
        self._listening = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listening.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> SlowServer:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._listening.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listening.accept()
            except OSError:  # closed by __exit__
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        ends = time.monotonic() + self.give_up_after
        with connection:
            connection.settimeout(1.0)
            try:
                request = b""
                while b"\r\n\r\n" not in request:
                    request += connection.recv(65536) or b"\r\n\r\n"
                connection.sendall(self.answer[: self.at_once])
                for index in range(self.at_once, len(self.answer)):
                    if self.byte_every is None or self._stop.wait(self.byte_every):
                        break
                    if time.monotonic() > ends:
                        return
                    connection.sendall(self.answer[index : index + 1])
                self._stop.wait(max(0.0, ends - time.monotonic()))
            except OSError:  # the client gave up and closed
                return
