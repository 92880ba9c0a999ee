"""The image's HEALTHCHECK: GET /api/health on the HTTP roles (api, listener, serve).

Worker and watcher serve no HTTP; they are healthy while their process runs (the API's
GET /api/health/status shows their heartbeats, and a silent one is an alert), so for them this
check passes. Standard library only: the image has no curl.
"""

import itertools
import os
import sys
import urllib.request
from pathlib import Path

HTTP_ROLES = {"api", "listener", "serve", "demo"}


def main() -> int:
    arguments = Path("/proc/1/cmdline").read_bytes().decode(errors="replace").split("\0")
    if not HTTP_ROLES.intersection(arguments):
        return 0
    port = os.environ.get("MERGE_ASSIST_PORT", "8080")
    for flag, value in itertools.pairwise(arguments):
        if flag == "--port":
            port = value
    url = f"http://127.0.0.1:{port}/api/health"
    try:
        with urllib.request.urlopen(url, timeout=4) as answer:
            return 0 if answer.status == 200 else 1
    except OSError as exc:
        print(f"{url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
