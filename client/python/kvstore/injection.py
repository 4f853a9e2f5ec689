"""Error injection for kvstore_server from Python (standard library, asyncio).

The store must run with --error_injection. Points, parameters and event
phases are described in store/injection_registry.h and docs/design.md.

    async with injection_event_stream("127.0.0.1:4000") as stream:
        await enable_injection("127.0.0.1:4000", "seed.request", one_shot=True)
        ...  # something that reaches the point
        event = await stream.wait_for_injection("seed.request", timeout=30)
        print(event["seq"], event["phase"], event["request"]["row_key"])

`injection_event_stream` returns only once the server has registered the
subscription (its `hello` event arrived), so nothing done afterwards can be
missed. Every event is kept: `wait_for_injection` consumes the first
unconsumed event that matches and leaves the others for later waits (waiting
for A and then B does not lose a B that came first). If the connection
breaks, the stream reconnects with Last-Event-ID and the server replays what
was missed from its history; duplicates are dropped by seq.
"""

import asyncio
import contextlib
import json
import urllib.parse

__all__ = [
    "InjectionError",
    "InjectionEventStream",
    "injection_event_stream",
    "enable_injection",
    "disable_injection",
    "disable_all_injections",
    "message_injection",
    "get_injection",
    "injection_enters",
    "wait_for_event",
]

PREFIX = "/v2/error_injection"


class InjectionError(Exception):
    """A non-2xx answer from the store: `status` (HTTP) and the store's
    `code` and `message`."""

    def __init__(self, status, code, message):
        super().__init__(f"HTTP {status} (code {code}): {message}")
        self.status = status
        self.code = code
        self.message = message


def _split_host(host, port=None):
    if port is not None:
        return host, int(port)
    name, _, port_text = host.rpartition(":")
    if not name:
        return host, 4000
    return name, int(port_text)


async def _read_head(reader):
    """The status code and lower-cased headers of an HTTP/1.1 response."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("the store closed the connection")
    status = int(status_line.split()[1])
    headers = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


async def _read_body(reader, headers):
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            if size == 0:
                await reader.readline()
                return body
            body += await reader.readexactly(size)
            await reader.readline()
    if "content-length" in headers:
        return await reader.readexactly(int(headers["content-length"]))
    return await reader.read()


async def _request(host, method, path, body=None, port=None, timeout=10):
    """One request on its own connection; the parsed JSON answer."""
    name, port = _split_host(host, port)

    async def run():
        reader, writer = await asyncio.open_connection(name, port)
        try:
            data = b"" if body is None else json.dumps(body).encode()
            writer.write(
                (f"{method} {path} HTTP/1.1\r\nHost: {name}\r\n"
                 "Connection: close\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(data)}\r\n\r\n").encode() + data)
            await writer.drain()
            status, headers = await _read_head(reader)
            payload = await _read_body(reader, headers)
        finally:
            writer.close()
        text = payload.decode("utf-8", "replace")
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = None
        if status // 100 != 2:
            if isinstance(parsed, dict):
                raise InjectionError(status, parsed.get("code"),
                                     parsed.get("message"))
            raise InjectionError(status, None, text)
        return parsed

    return await asyncio.wait_for(run(), timeout)


def _point_path(name, suffix=""):
    return f"{PREFIX}/injection/{urllib.parse.quote(name)}{suffix}"


async def enable_injection(host, name, one_shot=False, parameters=None,
                           port=None, steps=None):
    """Arms point `name` (replacing an earlier arming, resetting its
    counters). `parameters` values are sent as strings. A fault script is
    either `steps` (a list of dicts of step parameters, beside `parameters`
    that scope the whole arming) or parameters={"script": "2*error(503)->off"}.
    """
    params = {k: str(v) for k, v in (parameters or {}).items()}
    if steps is not None:
        params["steps"] = [{k: str(v) for k, v in step.items()}
                           for step in steps]
    query = "?one_shot=true" if one_shot else ""
    return await _request(host, "POST", _point_path(name) + query, params,
                          port=port)


async def disable_injection(host, name, port=None):
    """Disarms `name`, releasing requests parked there."""
    return await _request(host, "DELETE", _point_path(name), port=port)


async def disable_all_injections(host, port=None):
    return await _request(host, "DELETE", f"{PREFIX}/injection", port=port)


async def reset(host, port=None):
    """POST /v2/reset: disarms every point, drops every table but `default`
    and empties it, and restarts the event history with a `reset` event.
    Returns {"tables_dropped": N, "seq": S}."""
    return await _request(host, "POST", "/v2/reset", port=port)


async def journal(host, since=0, tag=None, route=None, table=None,
                  port=None):
    """GET /v2/journal: the requests the store answered after seq `since`,
    oldest first, as dicts (seq, connection, method, path, route, table,
    row_keys, tag, status, cut, bytes_in, bytes_out, start_us, end_us,
    injections). Raises InjectionError 410 if entries after `since` have left
    the store's history."""
    query = {"since": str(since)}
    if tag is not None:
        query["tag"] = tag
    if route is not None:
        query["route"] = route
    if table is not None:
        query["table"] = table
    path = f"/v2/journal?{urllib.parse.urlencode(query)}"
    return (await _request(host, "GET", path, port=port))["entries"]


async def message_injection(host, name, port=None):
    """Releases requests paused at `name` (latched if none is parked)."""
    return await _request(host, "POST", _point_path(name, "/message"),
                          port=port)


async def get_injection(host, name, port=None):
    """The point's state: enabled, parameters, hits, fires, waiting, ..."""
    return (await _request(host, "GET", _point_path(name), port=port))[0]


async def injection_enters(host, name, port=None):
    """How many requests reached (and matched) the point since its arming."""
    return await _request(host, "GET", _point_path(name, "/enters"),
                          port=port)


async def wait_for_event(host, name, phase=None, since=None, timeout=30,
                         port=None):
    """Long-polls /v2/error_injection/wait, for callers without an event
    stream: the first event of point `name` (any point if None; and of
    `phase`, if given) whose seq
    is above `since` (default: from now on), from the store's history or when
    it happens, as its JSON object. Raises InjectionError with status 408 if
    none comes within `timeout` seconds, 410 if events after `since` have
    left the store's history. Pass the answer's "seq" as the next `since`."""
    query = {"timeout_ms": str(max(1, int(timeout * 1000)))}
    if name is not None:
        query["injection"] = name
    if phase is not None:
        query["phase"] = phase
    if since is not None:
        query["since"] = str(since)
    path = f"{PREFIX}/wait?{urllib.parse.urlencode(query)}"
    return await _request(host, "GET", path, port=port, timeout=timeout + 10)


class InjectionEventStream:
    """A live subscription to /v2/error_injection/events."""

    def __init__(self, host, port=None, injections=None, since=None,
                 heartbeat_ms=500, reconnect_delay=0.1):
        self._host, self._port = _split_host(host, port)
        self._injections = list(injections or [])
        self._since = since
        self._heartbeat_ms = heartbeat_ms
        self._reconnect_delay = reconnect_delay
        self._events = []  # every event, in seq order
        self._consumed = []
        self._last_seq = 0
        self._changed = asyncio.Condition()
        self._hello = None
        self._task = None
        self._writer = None
        self._closing = False
        self._replay = False
        self.reconnects = 0

    @property
    def events(self):
        """Every event received so far (dicts), consumed or not."""
        return list(self._events)

    async def connect(self, timeout=10):
        self._hello = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(asyncio.shield(self._hello), timeout)

    async def close(self):
        self._closing = True
        if self._writer is not None:
            self._writer.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def wait_for_injection(self, name, timeout=30, phase="fired"):
        """The first unconsumed event of point `name` in `phase` (any phase
        if None), consumed. Raises asyncio.TimeoutError after `timeout`."""
        return (await self.wait_for_count(name, 1, timeout, phase))[0]

    async def wait_for_count(self, name, count, timeout=30, phase="fired"):
        """Waits for `count` unconsumed matching events; consumes them."""

        def matching():
            return [i for i, e in enumerate(self._events)
                    if not self._consumed[i] and e.get("injection") == name
                    and (phase is None or e.get("phase") == phase)]

        async def wait():
            async with self._changed:
                await self._changed.wait_for(lambda: len(matching()) >= count)
                chosen = matching()[:count]
                for i in chosen:
                    self._consumed[i] = True
                return [self._events[i] for i in chosen]

        return await asyncio.wait_for(wait(), timeout)

    def count(self, name, phase="fired"):
        return sum(1 for e in self._events if e.get("injection") == name
                   and (phase is None or e.get("phase") == phase))

    async def _run(self):
        first = True
        while not self._closing:
            try:
                await self._subscribe(first)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a broken connection, a bad answer
                if not self._hello.done():
                    self._hello.set_exception(error)
                    return
            if self._closing:
                return
            first = False
            self.reconnects += 1
            if not self._replay:
                await asyncio.sleep(self._reconnect_delay)
            self._replay = False

    async def _subscribe(self, first):
        query = {"heartbeat_ms": str(self._heartbeat_ms)}
        if self._injections:
            query["injection"] = ",".join(self._injections)
        extra = ""
        if not first:
            extra = f"Last-Event-ID: {self._last_seq}\r\n"
        elif self._since is not None:
            query["since"] = str(self._since)
        path = f"{PREFIX}/events?{urllib.parse.urlencode(query)}"
        reader, writer = await asyncio.open_connection(self._host, self._port)
        self._writer = writer
        try:
            writer.write((f"GET {path} HTTP/1.1\r\nHost: {self._host}\r\n"
                          f"Accept: text/event-stream\r\n{extra}\r\n")
                         .encode())
            await writer.drain()
            status, headers = await _read_head(reader)
            if status != 200:
                body = await _read_body(reader, headers)
                try:
                    parsed = json.loads(body)
                    raise InjectionError(status, parsed.get("code"),
                                         parsed.get("message"))
                except ValueError:
                    raise InjectionError(status, None, body.decode())
            buffer = b""
            while True:
                size = int((await reader.readline()).split(b";")[0], 16)
                if size == 0:
                    return  # the server ended the stream
                buffer += await reader.readexactly(size)
                await reader.readline()
                *blocks, buffer = buffer.split(b"\n\n")
                for block in blocks:
                    if await self._dispatch(block.decode("utf-8", "replace")):
                        return  # a gap: reconnect and replay
        finally:
            writer.close()

    async def _dispatch(self, block):
        name, ident, data = "message", None, []
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue  # a heartbeat
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "id":
                ident = value
            elif field == "data":
                data.append(value)
        if name == "hello":
            if not self._hello.done():
                self._hello.set_result(True)
            return False
        if name == "gap":
            self._replay = True
            return True
        if ident is None or int(ident) <= self._last_seq:
            return False  # already seen (a replay overlaps)
        self._last_seq = int(ident)
        try:
            event = json.loads("\n".join(data))
        except ValueError:
            event = {"raw": "\n".join(data)}
        event.setdefault("phase", name)
        async with self._changed:
            self._events.append(event)
            self._consumed.append(False)
            self._changed.notify_all()
        return False


@contextlib.asynccontextmanager
async def injection_event_stream(host, port=None, **options):
    """Subscribes to the store's injection events for the `async with` block
    (see the module docstring)."""
    stream = InjectionEventStream(host, port, **options)
    try:
        await stream.connect()
        yield stream
    finally:
        await stream.close()
