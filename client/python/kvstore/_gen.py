"""Generates the Python protobuf and gRPC code for `protos/` at first use.

Nothing generated is committed. `ensure()` runs protoc (with grpc_python_plugin
for the services) once per distinct set of proto files, into a cache
directory, and makes the generated modules importable as `kvstore.v1.*_pb2`
and `kvstore.testproxy.v1.*_pb2[_grpc]`.

Where the code goes: `$KVSTORE_PY_GEN_DIR/<hash>` if that variable is set,
else `$XDG_CACHE_HOME/kvstore-py-gen/<hash>`, else
`/tmp/kvstore-py-gen-<uid>/<hash>`, where <hash> covers the proto files'
names and contents and the protobuf runtime's version. Generation writes into
a temporary sibling directory and renames it into place, so processes running
in parallel never see half-written files; the loser of a race discards its
copy and uses the winner's.

The generated protos live in the proto package `kvstore`, the same name as
this Python package, so `ensure()` appends `<dir>/kvstore` to this package's
`__path__` (and `<dir>` to `sys.path`): `kvstore.v1` then resolves to the
generated code.

Thread-safe: `ensure()` may be called from many threads; the work is done
once per process. Raises `GenerationError` when protoc fails.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

__all__ = ["GenerationError", "ensure", "proto_root"]

# The proto files to compile, relative to the proto root.
PROTO_FILES = (
    "kvstore/v1/data.proto",
    "kvstore/v1/store.proto",
    "kvstore/testproxy/v1/test_proxy.proto",
)
# Packages (directories) of the generated code that need an __init__.py.
_PACKAGES = ("kvstore/v1", "kvstore/testproxy", "kvstore/testproxy/v1")
_MARKER = ".complete"
_PROTOC = os.environ.get("KVSTORE_PROTOC", "protoc")
_GRPC_PLUGIN = os.environ.get("KVSTORE_GRPC_PYTHON_PLUGIN", "/usr/bin/grpc_python_plugin")

_lock = threading.Lock()
_done: Path | None = None


class GenerationError(RuntimeError):
    """protoc could not generate the code (missing tool, bad proto)."""


def proto_root() -> Path:
    """The directory holding `kvstore/v1/*.proto`: $KVSTORE_PROTO_DIR, else
    `<repo>/protos` found relative to this file."""
    env = os.environ.get("KVSTORE_PROTO_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "protos"


def _content_hash(root: Path) -> str:
    digest = hashlib.sha256()
    try:
        from google.protobuf import __version__ as runtime_version
    except ImportError:  # pragma: no cover - the runtime is a requirement
        runtime_version = "?"
    digest.update(runtime_version.encode())
    for name in PROTO_FILES:
        digest.update(b"\0" + name.encode() + b"\0")
        digest.update((root / name).read_bytes())
    return digest.hexdigest()[:20]


def _cache_base() -> Path:
    env = os.environ.get("KVSTORE_PY_GEN_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "kvstore-py-gen"
    return Path(tempfile.gettempdir()) / f"kvstore-py-gen-{os.getuid()}"


def _run_protoc(root: Path, out: Path) -> None:
    includes = [f"-I{root}"]
    if Path("/usr/include/google/protobuf/duration.proto").exists():
        includes.append("-I/usr/include")
    command = [_PROTOC, *includes, f"--python_out={out}", f"--grpc_out={out}",
               f"--plugin=protoc-gen-grpc={_GRPC_PLUGIN}", *PROTO_FILES]
    try:
        result = subprocess.run(command, cwd=root, capture_output=True, text=True)
    except OSError as error:
        raise GenerationError(f"cannot run {_PROTOC}: {error}") from error
    if result.returncode != 0:
        raise GenerationError(f"{' '.join(command)} failed: {result.stderr.strip()}")
    for package in _PACKAGES:
        (out / package / "__init__.py").touch()
    (out / _MARKER).write_text("ok\n")


def _generate(root: Path) -> Path:
    """The directory holding complete generated code, generating it if needed."""
    final = _cache_base() / _content_hash(root)
    if (final / _MARKER).exists():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=final.parent))
    try:
        os.chmod(temp, 0o755)
        _run_protoc(root, temp)
        try:
            os.rename(temp, final)
        except OSError:
            if not (final / _MARKER).exists():  # not a lost race: a real failure
                raise
    finally:
        if temp.exists():
            shutil.rmtree(temp, ignore_errors=True)
    return final


def ensure() -> Path:
    """Makes the generated modules importable; returns their directory."""
    global _done
    with _lock:
        if _done is None:
            directory = _generate(proto_root())
            import kvstore  # this package: extend it with the generated subpackages

            generated = str(directory / "kvstore")
            if generated not in kvstore.__path__:
                kvstore.__path__.append(generated)
            if str(directory) not in sys.path:
                sys.path.append(str(directory))
            _done = directory
        return _done
