"""Test support: runs the real kvstore_server for the Python tests.

`StoreProcess()` starts KVSTORE_SERVER_BINARY in memory (or on a data_dir)
with error injection on port 0 and waits (up to 30 s) for its --port_file;
`stop()` ends it, and `wait_for_exit()` waits for one that ends itself.
Not thread-safe; one object per server.
"""

import os
import subprocess
import tempfile
import time

SERVER = os.environ.get("KVSTORE_SERVER_BINARY", "")


class StoreProcess:
    """A kvstore_server child process. Raises RuntimeError if it never listens."""

    def __init__(self, *extra_args: str, data_dir: str = ""):
        """In memory, unless `data_dir` names a directory to keep the data in
        (which the caller owns)."""
        self._dir = tempfile.TemporaryDirectory()
        port_file = os.path.join(self._dir.name, "port")
        storage = f"--data_dir={data_dir}" if data_dir else "--in_memory"
        self._process = subprocess.Popen(
            [SERVER, storage, "--error_injection", "--port=0",
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

    def wait_for_exit(self, timeout: float = 30) -> int:
        """Waits for the server to end by itself (a crash or power cut);
        returns its exit status (negative: the signal)."""
        return self._process.wait(timeout=timeout)

    def stop(self) -> None:
        """Ends the server (SIGTERM) and removes its directory. Idempotent."""
        if self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=30)
        self._dir.cleanup()
