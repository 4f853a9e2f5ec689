#!/usr/bin/env python3
"""Fails when a library includes a header of a layer it must not know.

Each product folder is one CMake library (docs/design.md, "Code layout"). A
file may include headers of its own folder and of the folders its layer lists
below, nothing else of ours; third-party and generated headers ("absl/...",
"kvstore/v1/...") are not checked. Tests and benchmarks may include anything.

Usage: check_layers.py [ROOT]   (default: the repository holding this script)
Prints one line per forbidden include and exits 1 if there is any.
"""

import pathlib
import re
import sys

# Layer -> the layers its files may include (besides itself).
ALLOWED = {
    "common": set(),
    "store/filter": {"common"},
    "store/storage": {"common", "store/filter"},
    "store/injection": {"common"},
    "store/http": {"common"},
    "store/api": {"common", "store/filter", "store/storage",
                  "store/injection", "store/http"},
    "store/server": {"common", "store/filter", "store/storage",
                     "store/injection", "store/http", "store/api"},
    "client": {"common"},
    "proxy": {"common", "client"},
}
# Top-level folders of our own code: an include under one of them is ours.
OURS = ("common/", "store/", "client/", "proxy/", "tests/", "bench/")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)


def layer_of(path):
    """The longest ALLOWED key that `path` (relative, with /) lies under."""
    best = None
    for layer in ALLOWED:
        if path == layer or path.startswith(layer + "/"):
            if best is None or len(layer) > len(best):
                best = layer
    return best


def violations(root):
    for source in sorted(root.rglob("*")):
        if source.suffix not in (".h", ".cc") or "build" in source.parts:
            continue
        relative = source.relative_to(root).as_posix()
        layer = layer_of(relative)
        if layer is None:
            continue
        if layer == "client" and relative.startswith("client/python/"):
            continue
        text = source.read_text(encoding="utf-8", errors="replace")
        for header in INCLUDE.findall(text):
            if not header.startswith(OURS):
                continue
            target = layer_of(header)
            if target == layer or target in ALLOWED[layer]:
                continue
            yield f"{relative}: includes {header} ({layer} must not know " \
                  f"{target or header.split('/')[0]})"


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else
                        pathlib.Path(__file__).resolve().parent.parent)
    found = list(violations(root))
    for line in found:
        print(line)
    if found:
        print(f"check_layers: {len(found)} forbidden include(s); see "
              "docs/design.md, \"Code layout\"", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
