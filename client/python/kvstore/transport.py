"""HTTP/1.1 over plain sockets: connections, response parsing and the
bounded keep-alive pool.

Every blocking step (waiting for a pooled connection, connecting, sending,
each receive) is bounded by the call's `Deadline`: the socket timeout is
set to the time left before each step, so no step outlives the call (DL-1).

Failures are exceptions:
  - `DeadlineReached`: the call's time ran out (DEADLINE_EXCEEDED, final).
  - `TransportError`: the connection could not be made, or was closed or
    reset before the whole answer arrived (UNAVAILABLE, transient, TR-1).

Thread-safety: a `Pool` may be used from many threads at once; a
`Connection` and a `Response` belong to one thread at a time (the one that
acquired the connection).
"""

from __future__ import annotations

import select
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Iterator, Optional

__all__ = ["Deadline", "DeadlineReached", "TransportError", "Connection",
           "Response", "Pool", "build_request", "exchange"]

_RECV_SIZE = 256 * 1024
_MAX_LINE = 64 * 1024      # longest status line, header line or chunk-size line
_MAX_HEADERS = 256
_STEP_MAX_S = 3600.0       # longest single blocking step (a socket timeout must fit C's limits)


class DeadlineReached(Exception):
    """The call's time ran out during `what` (connecting, sending, ...)."""

    def __init__(self, what: str):
        super().__init__(f"deadline exceeded while {what}")
        self.what = what


class TransportError(Exception):
    """The connection failed: not made, or closed/reset mid-answer."""


class Deadline:
    """An absolute point on the monotonic clock. Immutable."""

    __slots__ = ("expiry",)

    def __init__(self, expiry: float):
        self.expiry = expiry

    @classmethod
    def after(cls, seconds: float) -> "Deadline":
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        return self.expiry - time.monotonic()

    def check(self, what: str) -> float:
        """The seconds the next blocking step may take (the time left, at
        most an hour: callers loop); raises DeadlineReached when none are."""
        left = self.remaining()
        if left <= 0:
            raise DeadlineReached(what)
        return min(left, _STEP_MAX_S)


class Connection:
    """One keep-alive HTTP/1.1 connection with its receive buffer."""

    def __init__(self, sock: socket.socket, host_header: str):
        self.sock = sock
        self.host_header = host_header
        self.buffer = bytearray()
        self.reusable = True   # False once a response was not fully read

    @classmethod
    def open(cls, host: str, port: int, deadline: Deadline) -> "Connection":
        left = deadline.check("connecting")
        try:
            sock = socket.create_connection((host, port), timeout=left)
        except ConnectionRefusedError as error:
            raise TransportError(f"connection to {host}:{port} refused") from error
        except (socket.timeout, TimeoutError) as error:
            if deadline.remaining() <= 0:
                raise DeadlineReached("connecting") from error
            raise TransportError(f"connecting to {host}:{port} timed out") from error
        except OSError as error:
            raise TransportError(f"cannot connect to {host}:{port}: {error}") from error
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(sock, f"{host}:{port}")

    def close(self) -> None:
        self.reusable = False
        try:
            self.sock.close()
        except OSError:
            pass

    def looks_alive(self) -> bool:
        """False when the peer closed an idle connection (or sent bytes no
        request asked for): such a connection must not carry a request."""
        if self.buffer:
            return False
        poller = select.poll()  # not select(): no FD_SETSIZE limit
        try:
            poller.register(self.sock, select.POLLIN)
            return not poller.poll(0)
        except (OSError, ValueError):
            return False

    # --- sending ---

    def send(self, data: bytes, deadline: Deadline) -> None:
        self.sock.settimeout(deadline.check("sending the request"))
        try:
            self.sock.sendall(data)
        except (socket.timeout, TimeoutError) as error:
            self.reusable = False  # how much was sent is unknown
            if deadline.remaining() <= 0:
                raise DeadlineReached("sending the request") from error
            raise TransportError("sending the request timed out") from error
        except OSError as error:
            self.reusable = False
            raise TransportError(f"connection failed while sending the request: "
                                 f"{_describe(error)}") from error

    # --- receiving ---

    def _fill(self, deadline: Deadline, what: str) -> bool:
        """Receives more bytes into the buffer; False at the peer's EOF."""
        while True:
            self.sock.settimeout(deadline.check(what))
            try:
                data = self.sock.recv(_RECV_SIZE)
            except (socket.timeout, TimeoutError):
                continue  # the loop re-checks the deadline
            except OSError as error:
                self.reusable = False
                raise TransportError(f"connection failed while {what}: "
                                     f"{_describe(error)}") from error
            if not data:
                self.reusable = False
                return False
            self.buffer += data
            return True

    def read_line(self, deadline: Deadline, what: str) -> bytes:
        """One CRLF-terminated line without its terminator."""
        while True:
            end = self.buffer.find(b"\n")
            if end >= 0:
                line = bytes(self.buffer[:end])
                del self.buffer[:end + 1]
                return line[:-1] if line.endswith(b"\r") else line
            if len(self.buffer) > _MAX_LINE:
                self.reusable = False
                raise TransportError(f"line too long while {what}")
            if not self._fill(deadline, what):
                raise TransportError(f"connection closed while {what}")

    def read_some(self, limit: int, deadline: Deadline, what: str) -> bytes:
        """Up to `limit` bytes (at least one); b"" at the peer's EOF."""
        if not self.buffer and not self._fill(deadline, what):
            return b""
        data = bytes(self.buffer[:limit])
        del self.buffer[:limit]
        return data


def _describe(error: OSError) -> str:
    if isinstance(error, ConnectionResetError):
        return "connection reset by the store"
    if isinstance(error, BrokenPipeError):
        return "connection closed by the store"
    return str(error) or type(error).__name__


@dataclass
class Response:
    """A response whose status line and headers were read; the body is read
    with `read_body()` (whole) or `body_chunks()` (as it arrives)."""

    conn: Connection
    deadline: Deadline
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    _done: bool = False

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def header(self, name: str) -> Optional[str]:
        return self.headers.get(name.lower())

    def _keep_alive(self) -> bool:
        tokens = [t.strip().lower() for t in self.headers.get("connection", "").split(",")]
        return "close" not in tokens

    def body_chunks(self) -> Iterator[bytes]:
        """The body's bytes as they arrive. Raises TransportError when the
        body is cut short (closed mid-body, mid-chunk or mid-chunk-header)."""
        what = "reading the answer"
        encoding = self.headers.get("transfer-encoding", "").lower()
        if "chunked" in encoding:
            yield from self._chunked(what)
        elif "content-length" in self.headers:
            left = _parse_length(self.headers["content-length"])
            while left > 0:
                data = self.conn.read_some(left, self.deadline, what)
                if not data:
                    raise TransportError(f"connection closed while {what} "
                                         f"({left} body bytes missing)")
                left -= len(data)
                yield data
        elif self.status in (204, 304) or 100 <= self.status < 200:
            pass
        else:  # delimited by the connection's end
            self.conn.reusable = False
            while True:
                data = self.conn.read_some(_RECV_SIZE, self.deadline, what)
                if not data:
                    break
                yield data
        self._done = True
        if not self._keep_alive():
            self.conn.reusable = False

    def _chunked(self, what: str) -> Iterator[bytes]:
        while True:
            line = self.conn.read_line(self.deadline, what)
            size = _parse_chunk_size(line)
            if size == 0:
                while self.conn.read_line(self.deadline, what):  # trailers
                    pass
                return
            while size > 0:
                data = self.conn.read_some(size, self.deadline, what)
                if not data:
                    raise TransportError(f"connection closed while {what} "
                                         "(inside a chunk)")
                size -= len(data)
                yield data
            if self.conn.read_line(self.deadline, what):
                self.conn.reusable = False
                raise TransportError("malformed chunked body")

    def read_body(self) -> bytes:
        return b"".join(self.body_chunks())

    @property
    def complete(self) -> bool:
        return self._done


def _parse_length(text: str) -> int:
    text = text.strip()
    if not text.isdigit():
        raise TransportError(f"bad Content-Length {text!r}")
    return int(text)


def _parse_chunk_size(line: bytes) -> int:
    try:
        return int(line.split(b";", 1)[0].strip(), 16)
    except ValueError:
        raise TransportError(f"bad chunk size line {line[:40]!r}") from None


def build_request(method: str, target: str, host: str, body: Optional[bytes],
                  content_type: str, accept: str) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", f"Accept: {accept}"]
    if body is not None:
        lines += [f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + (body or b"")


def exchange(conn: Connection, request: bytes, deadline: Deadline) -> Response:
    """Sends `request` and reads the answer's status line and headers
    (skipping 1xx interim answers)."""
    conn.send(request, deadline)
    what = "waiting for the answer"
    while True:
        line = conn.read_line(deadline, what)
        parts = line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
            conn.reusable = False
            raise TransportError(f"malformed status line {line[:60]!r}")
        status = int(parts[1])
        headers = _read_headers(conn, deadline)
        if 100 <= status < 200:
            continue
        response = Response(conn, deadline, status, headers)
        if parts[0] == b"HTTP/1.0" and "keep-alive" not in headers.get("connection", "").lower():
            conn.reusable = False
        return response


def _read_headers(conn: Connection, deadline: Deadline) -> dict[str, str]:
    headers: dict[str, str] = {}
    for _ in range(_MAX_HEADERS):
        line = conn.read_line(deadline, "reading the answer's headers")
        if not line:
            return headers
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep:
            conn.reusable = False
            raise TransportError(f"malformed header line {line[:60]!r}")
        key = name.strip().lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    conn.reusable = False
    raise TransportError("too many header lines")


class Pool:
    """At most `size` connections to one store, idle or busy (PL-1).

    `acquire()` returns an idle connection, or opens one while fewer than
    `size` exist, or waits (within the deadline) for one to be released.
    `release()` keeps a connection whose answer was fully read, else closes
    it. After `close()`, idle connections are closed at once and busy ones on
    release; calls already holding or waiting for a connection go on (LC-3:
    calls already running finish normally).
    """

    def __init__(self, host: str, port: int, size: int):
        if size < 1:
            raise ValueError("pool size must be at least 1")
        self.host = host
        self.port = port
        self.size = size
        self._cond = threading.Condition()
        self._idle: list[Connection] = []
        self._count = 0           # connections that exist (idle + busy + opening)
        self._closed = False

    def acquire(self, deadline: Deadline) -> Connection:
        while True:
            conn = self._take_or_reserve(deadline)
            if conn is None:  # a slot is reserved: open a connection in it
                try:
                    return Connection.open(self.host, self.port, deadline)
                except BaseException:
                    self._free_slot()
                    raise
            if conn.looks_alive():
                return conn
            conn.close()
            self._free_slot()

    def _take_or_reserve(self, deadline: Deadline) -> Optional[Connection]:
        with self._cond:
            while True:
                if self._idle:
                    return self._idle.pop()
                if self._count < self.size:
                    self._count += 1
                    return None
                left = deadline.check("waiting for a pooled connection")
                self._cond.wait(left)

    def _free_slot(self) -> None:
        with self._cond:
            self._count -= 1
            self._cond.notify()

    def release(self, conn: Connection, reuse: bool) -> None:
        """Gives a connection back; `reuse` says its last answer was read
        whole (a connection in any other state is closed)."""
        keep = reuse and conn.reusable and not conn.buffer
        with self._cond:
            if keep and not self._closed:
                self._idle.append(conn)
                self._cond.notify()
                return
        conn.close()
        self._free_slot()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._count -= len(idle)
            self._cond.notify_all()
        for conn in idle:
            conn.close()

    @property
    def closed(self) -> bool:
        return self._closed
