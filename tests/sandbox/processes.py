"""A provider stand-in (`python -m <module>`) run as a real process for the length of a test or module."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import httpx

from mercato.topology import HOST

START_SECONDS = 20.0
STOP_SECONDS = 10.0


class StandIn:
    """`python -m <module>` with `env` on top of this process's environment, its output appended to
    `log_file`; started once `health_url` answers 200. Stopping and starting again reuses the same
    env, so the stand-in comes back on the same ports with the same state files."""

    def __init__(
        self,
        *,
        module: str,
        env: Mapping[str, str],
        health_url: str,
        log_file: Path,
        ports_to_check: Iterable[int] = (),
    ) -> None:
        self.module = module
        self.env = dict(env)
        self.health_url = health_url
        self.log_file = log_file
        self.ports_to_check = tuple(ports_to_check)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the process and wait until it is healthy; fail with its log if it exits or times out."""
        for port in self.ports_to_check:  # else the health probe could find another run's stand-in
            if not _port_free(port):
                raise AssertionError(
                    f"{self.module}: port {port} is in use (another test run on this offset?)"
                )
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.module], env={**os.environ, **self.env}, stdout=log, stderr=log
            )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.module} exited:\n{self.log_file.read_text()}")
            try:
                if httpx.get(self.health_url, timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()  # not left behind on the port for the next run to find
        raise AssertionError(f"{self.module} not ready:\n{self.log_file.read_text()}")

    def stop(self) -> None:
        """Terminate the process (kill it if it has not gone within 10 s); a no-op once it has exited."""
        assert self.process is not None, f"{self.module} was never started"
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def restart(self) -> None:
        """Stop and start again: same env, so the same ports and the same state files."""
        self.stop()
        self.start()


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
        return True
