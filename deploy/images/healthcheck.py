#!/opt/mercato/bin/python
"""The image's HEALTHCHECK: probe whatever process this container runs (PID 1, or the process after
podman's init), on the port its settings give it; exit 0 when healthy.

`mercato serve <svc>` → the service's /healthz; `envoy` → the gateway admin's /ready; the storefront and
the admin app → /healthz; the payment sandbox → /_sandbox/health; anything else (a one-shot command such
as `mercato migrate`, or `nats-server`) has no HTTP door: healthy while it runs.
"""

import os
import sys
import urllib.request
from pathlib import Path

from mercato.topology import Topology


def _argv() -> list[str]:
    argv = Path("/proc/1/cmdline").read_bytes().rstrip(b"\0").decode().split("\0")
    return argv[argv.index("--") + 1 :] if "--" in argv else argv  # podman --init: catatonit -- argv


def _port(prefix: str, default: int) -> int:
    return int(os.environ.get(f"MERCATO_{prefix}_PORT", default))


def _target(argv: list[str], topology: Topology) -> str | None:
    words = [Path(argv[0]).name, *argv[1:]]
    if "serve" in words and words.index("serve") + 1 < len(words):
        name = words[words.index("serve") + 1]
        prefix = name.upper().replace("-", "_")
        return f"http://127.0.0.1:{_port(prefix, topology.service(name).port)}/healthz"
    if words[0] == "envoy":
        return f"http://127.0.0.1:{topology.envoy_admin_port}/ready"
    if "mercato.storefront" in words:
        return f"http://127.0.0.1:{_port('STOREFRONT', topology.storefront_port)}/healthz"
    if "mercato.admin" in words:
        return f"http://127.0.0.1:{_port('ADMIN', topology.admin_port)}/healthz"
    if "mercato.sandbox.payments" in words:
        port = _port("PAYMENT_SANDBOX", topology.payment_sandbox_port)
        return f"http://127.0.0.1:{port}/_sandbox/health"
    return None


def main() -> int:
    url = _target(_argv(), Topology.from_env())
    if url is None:
        return 0
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - a fixed local http URL
            return 0 if response.status == 200 else 1
    except OSError as error:
        print(f"{url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
