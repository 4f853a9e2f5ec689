"""The generated message modules, generated on first import (see `_gen`).

    from kvstore.protos import data_pb2, store_pb2

`testproxy()` gives the test proxy's message and service modules.
"""

from __future__ import annotations

from types import ModuleType

from kvstore import _gen

_gen.ensure()

from kvstore.v1 import data_pb2, store_pb2  # noqa: E402  (generated)

__all__ = ["data_pb2", "store_pb2", "testproxy"]


def testproxy() -> tuple[ModuleType, ModuleType]:
    """(test_proxy_pb2, test_proxy_pb2_grpc); the second needs grpcio."""
    from kvstore.testproxy.v1 import test_proxy_pb2, test_proxy_pb2_grpc

    return test_proxy_pb2, test_proxy_pb2_grpc
