#!/usr/bin/python3
"""The kvstore test proxy over the Python client library (client/python).

A gRPC server of `kvstore.testproxy.v1.TestProxy`
(protos/kvstore/testproxy/v1/test_proxy.proto) that keeps named
`kvstore.Client` objects and runs one library call per data RPC, for the
conformance harness (docs/conformance.md).

    proxy/python/kvstore_test_proxy.py --port=0 --port_file=/tmp/port

Two error channels (CH-1): the RPC's own status only for faults of the proxy
request (INVALID_ARGUMENT, ALREADY_EXISTS, NOT_FOUND); every outcome of the
library in the result's `status`, with the RPC OK.

SIGTERM/SIGINT stop the server gracefully (RPCs in flight get
--shutdown_grace seconds) and exit 0.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
import time
from concurrent import futures
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "client" / "python"))

import grpc  # noqa: E402

from kvstore.client import Client, parse_endpoint  # noqa: E402
from kvstore.protos import testproxy  # noqa: E402
from kvstore.status import Code, KvstoreError, Status  # noqa: E402

pb, pb_grpc = testproxy()
from kvstore.protos import store_pb2  # noqa: E402

_MAX_MESSAGE = 256 * 1024 * 1024


class ProxyFault(Exception):
    """A fault of the proxy request: becomes the RPC's own status."""

    def __init__(self, code: grpc.StatusCode, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _invalid(message: str) -> ProxyFault:
    return ProxyFault(grpc.StatusCode.INVALID_ARGUMENT, message)


def _status_message(status: Status):
    return store_pb2.Status(code=int(status.code), message=status.message)


class Registry:
    """Clients by id (CH-3, CH-4, LC-3, LC-4). Thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self._clients: dict[str, Client] = {}

    def create(self, client_id: str, client_factory) -> None:
        with self._lock:
            if client_id in self._clients:
                raise ProxyFault(grpc.StatusCode.ALREADY_EXISTS,
                                 f"client {client_id!r} already exists")
            self._clients[client_id] = client_factory()

    def get(self, client_id: str) -> Client:
        with self._lock:
            client = self._clients.get(client_id)
        if client is None:
            raise ProxyFault(grpc.StatusCode.NOT_FOUND, f"no client {client_id!r}")
        return client

    def remove(self, client_id: str) -> Client:
        with self._lock:
            client = self._clients.pop(client_id, None)
        if client is None:
            raise ProxyFault(grpc.StatusCode.NOT_FOUND, f"no client {client_id!r}")
        return client

    def close_all(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()


def _need_id(request) -> str:
    if not request.client_id:
        raise _invalid("client_id is empty")
    return request.client_id


def _need_request(request) -> None:
    if not request.HasField("request"):
        raise _invalid("request is unset")


def _bulk_summary(statuses: list[Status]) -> tuple[Status, list]:
    """BM-1: the call's status and the failed entries, by index."""
    failed = [(i, s) for i, s in enumerate(statuses) if not s.ok]
    entries = [store_pb2.MutateRowsResponse.EntryResult(index=i, status=_status_message(s))
               for i, s in failed]
    if not failed:
        return Status(Code.OK), entries
    first = failed[0][1]
    return Status(first.code, f"{len(failed)} of {len(statuses)} entries failed; "
                              f"first (entry {failed[0][0]}): {first}"), entries


class TestProxy(pb_grpc.TestProxyServicer):
    """The service. Each handler checks the proxy request (ProxyFault), then
    makes one library call and puts its outcome in the result."""

    def __init__(self, log_requests: bool = False):
        self.clients = Registry()
        self.log_requests = log_requests

    # --- plumbing ---

    def _serve(self, name: str, context, handler):
        """Runs `handler`; a ProxyFault becomes the RPC's status (CH-2..4)."""
        start = time.monotonic()
        try:
            result = handler()
        except ProxyFault as fault:
            self._log(name, start, f"RPC {fault.code.name}: {fault.message}")
            context.abort(fault.code, fault.message)
        if self.log_requests:
            status = getattr(result, "status", None)
            self._log(name, start, "RPC OK" if status is None else
                      f"RPC OK, result {Status.of(status.code, status.message)}")
        return result

    def _log(self, name: str, start: float, text: str) -> None:
        if self.log_requests:
            elapsed = (time.monotonic() - start) * 1000
            print(f"[proxy] {name} {elapsed:.1f} ms: {text}", file=sys.stderr, flush=True)

    # --- lifecycle ---

    def CreateClient(self, request, context):
        def handle():
            client_id = _need_id(request)
            timeout = None
            if request.HasField("per_operation_timeout"):
                d = request.per_operation_timeout
                timeout = d.seconds + d.nanos / 1e9
                if timeout <= 0:
                    raise _invalid("per_operation_timeout must be positive")
            if request.pool_size < 0:
                raise _invalid("pool_size must not be negative")
            try:
                parse_endpoint(request.data_target)
            except ValueError as error:
                raise _invalid(f"data_target: {error}") from None
            kwargs = {"pool_size": request.pool_size}
            if timeout is not None:
                kwargs["timeout"] = timeout
            self.clients.create(client_id, lambda: Client(request.data_target, **kwargs))
            return pb.CreateClientResponse()
        return self._serve("CreateClient", context, handle)

    def CloseClient(self, request, context):
        def handle():
            self.clients.get(_need_id(request)).close()
            return pb.CloseClientResponse()
        return self._serve("CloseClient", context, handle)

    def RemoveClient(self, request, context):
        def handle():
            self.clients.remove(_need_id(request)).close()
            return pb.RemoveClientResponse()
        return self._serve("RemoveClient", context, handle)

    # --- data calls ---

    def _data_call(self, name, context, request, result_type, call, needs_request=True):
        """Checks the request, runs `call(client, result)`; a KvstoreError
        becomes the result's status."""
        def handle():
            client_id = _need_id(request)
            if needs_request:
                _need_request(request)
            if name == "ReadRows" and request.cancel_after_rows < 0:
                raise _invalid("cancel_after_rows is negative")
            client = self.clients.get(client_id)
            result = result_type()
            try:
                call(client, result)
            except KvstoreError as error:
                result.status.CopyFrom(_status_message(error.status))
            else:
                if not result.HasField("status"):
                    result.status.SetInParent()  # OK
            return result
        return self._serve(name, context, handle)

    def ReadRow(self, request, context):
        def call(client, result):
            row = client.read_row(request.table_name, request.row_key,
                                  request.filter if request.HasField("filter") else None)
            if row is not None:
                result.row.CopyFrom(row)
        return self._data_call("ReadRow", context, request, pb.RowResult, call,
                               needs_request=False)

    def ReadRows(self, request, context):
        limit = request.cancel_after_rows

        def call(client, result):
            try:
                with client.read_rows(request.table_name, request.request) as rows:
                    for row in rows:
                        result.rows.append(row)
                        if limit > 0 and len(result.rows) >= limit:
                            break  # RR-5: stop as an application would
                        if not context.is_active():
                            break  # the harness gave up on this RPC
            except KvstoreError as error:  # RR-7: the rows so far stay
                result.status.CopyFrom(_status_message(error.status))
        return self._data_call("ReadRows", context, request, pb.RowsResult, call)

    def MutateRow(self, request, context):
        def call(client, result):
            client.mutate_row(request.table_name, request.request)
        return self._data_call("MutateRow", context, request, pb.MutateRowResult, call)

    def BulkMutateRows(self, request, context):
        def call(client, result):
            statuses = client.mutate_rows(request.table_name, request.request)
            status, entries = _bulk_summary(statuses)
            result.status.CopyFrom(_status_message(status))
            result.entries.extend(entries)
        return self._data_call("BulkMutateRows", context, request, pb.MutateRowsResult, call)

    def CheckAndMutateRow(self, request, context):
        def call(client, result):
            result.predicate_matched = client.check_and_mutate_row(
                request.table_name, request.request)
        return self._data_call("CheckAndMutateRow", context, request,
                               pb.CheckAndMutateRowResult, call)

    def SampleRowKeys(self, request, context):
        def call(client, result):
            result.samples.extend(client.sample_row_keys(request.table_name))
        return self._data_call("SampleRowKeys", context, request, pb.SampleRowKeysResult,
                               call, needs_request=False)

    def ReadModifyWriteRow(self, request, context):
        def call(client, result):
            result.row.CopyFrom(client.read_modify_write_row(request.table_name,
                                                             request.request))
        return self._data_call("ReadModifyWriteRow", context, request, pb.RowResult, call)


def _write_port_file(path: str, port: int) -> None:
    """Writes "PORT\\n" atomically (temp file + rename)."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(prefix=".port-", dir=directory)
    with os.fdopen(fd, "w") as f:
        f.write(f"{port}\n")
    os.replace(temp, path)


def _parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9999, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port_file", help="write the bound port here once listening")
    parser.add_argument("--log_requests", action="store_true",
                        help="one line per RPC with its outcome, on stderr")
    parser.add_argument("--workers", type=int, default=64,
                        help="RPCs served at once (threads)")
    parser.add_argument("--shutdown_grace", type=float, default=5.0,
                        help="seconds RPCs in flight may run on after SIGTERM")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = _parse_args(argv)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    options = [("grpc.max_receive_message_length", _MAX_MESSAGE),
               ("grpc.max_send_message_length", _MAX_MESSAGE),
               ("grpc.so_reuseport", 0)]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=args.workers,
                                                    thread_name_prefix="rpc"),
                         options=options)
    service = TestProxy(log_requests=args.log_requests)
    pb_grpc.add_TestProxyServicer_to_server(service, server)
    host = f"[{args.host}]" if ":" in args.host else args.host
    try:
        port = server.add_insecure_port(f"{host}:{args.port}")
    except RuntimeError:  # newer grpcio raises where 1.51 returns 0
        port = 0
    if port == 0:
        print(f"kvstore_test_proxy: cannot listen on {host}:{args.port}", file=sys.stderr)
        return 1
    server.start()
    if args.port_file:
        _write_port_file(args.port_file, port)
    print(f"kvstore_test_proxy (python) listening on {host}:{port}", file=sys.stderr, flush=True)
    while not stop.wait(3600):
        pass
    server.stop(args.shutdown_grace).wait()
    service.clients.close_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
