"""kvstore: a Python client for the kvstore store's HTTP data API.

    from kvstore import Client, KvstoreError

    with Client("127.0.0.1:4000", timeout=5.0) as client:
        client.mutate_row("t", request)
        row = client.read_row("t", b"key")

Modules:
  client     the Client (every data call), RowStream, parse_endpoint
  status     Code, Status, KvstoreError, the HTTP-to-code mapping (API-3)
  retry      the pure rules: transient codes, idempotency, backoff, resumption
  attempts   one call's attempt budget and waits (BO-*, DL-*)
  bulk       one mutate_rows call across its attempts (BM-*)
  stream     decoding a readRows body (RR-6)
  transport  HTTP/1.1 connections, deadlines, the bounded keep-alive pool (PL-1)
  protos     the generated messages (built from protos/ on first use, `_gen`)
  injection  the store's error injection (asyncio, standard library only)

Importing this package loads nothing heavy: the names below are resolved on
first access, so `kvstore.injection` works without protobuf installed.
"""

from __future__ import annotations

import importlib

__all__ = ["Client", "Code", "KvstoreError", "Status"]

_LAZY = {
    "Client": "kvstore.client",
    "Code": "kvstore.status",
    "KvstoreError": "kvstore.status",
    "Status": "kvstore.status",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kvstore' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
