"""Test support: runs the real kvstore_server for the Python tests.

`StoreProcess()` starts KVSTORE_SERVER_BINARY in memory with error injection
on port 0 and waits (up to 30 s) for its --port_file; `stop()` ends it.
Not thread-safe; one object per server.
"""

import os
import subprocess
import tempfile
import time

SERVER = os.environ.get("KVSTORE_SERVER_BINARY", "")


class StoreProcess:
    """A kvstore_server child process. Raises RuntimeError if it never listens."""

    def __init__(self, *extra_args: str):
        self._dir = tempfile.TemporaryDirectory()
        port_file = os.path.join(self._dir.name, "port")
        self._process = subprocess.Popen(
            [SERVER, "--in_memory", "--error_injection", "--port=0",
             f"--port_file={port_file}", *extra_args],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        port = ""
        while not port:
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("kvstore_server did not start")
            if os.path.exists(port_file):
                with open(port_file) as f:
                    port = f.read().strip()
            if not port:
                time.sleep(0.02)
        self.port = int(port)
        self.endpoint = f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Ends the server (SIGTERM) and removes its directory. Idempotent."""
        if self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=30)
        self._dir.cleanup()
