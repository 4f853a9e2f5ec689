#!/usr/bin/python3
"""A deliberately broken test proxy, for the harness's own tests: the Python
reference proxy (proxy/python) with its library limited to one attempt per
call (docs/conformance.md BO-2 says ten), so that retry tests fail against
it the way they would against a library that never retries.

    tests/conformance/testdata/single_attempt_proxy.py --port=0 --port_file=F
"""

import runpy
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "client" / "python"))

from kvstore import retry  # noqa: E402

retry.MAX_ATTEMPTS = 1
runpy.run_path(str(ROOT / "proxy" / "python" / "kvstore_test_proxy.py"),
               run_name="__main__")
