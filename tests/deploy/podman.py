"""Mercato's image run by podman on this machine: one network, one container per process (several of a
replicated service share its DNS name), the machine's PostgreSQL and RabbitMQ reached through a
forwarder on the network's gateway address (they listen on 127.0.0.1 only)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
CONTAINERS_CONF = ROOT / "deploy" / "images" / "containers.conf"
IMAGE = "localhost/mercato:latest"
LABEL = "org.mercato.test=images-e2e"


def podman(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    """podman with the repository's containers.conf (runc, limits under the host's)."""
    env = os.environ | {"CONTAINERS_CONF": str(CONTAINERS_CONF)}
    done = subprocess.run(
        ["podman", *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args[:3])} …: {done.stderr.strip()[-2000:]}")
    return done


def build_images() -> str:
    """`make images`' script: the base once, the app image when the source changed. Its last line."""
    env = os.environ | {"PYTHON": sys.executable, "CONTAINERS_CONF": str(CONTAINERS_CONF)}
    done = subprocess.run(
        ["sh", "deploy/images/build.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done.stdout.strip().splitlines()[-1]


@dataclass
class Network:
    name: str
    containers: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)

    def create(self) -> str:
        """A fresh network (left-overs of an interrupted run removed first); its gateway address."""
        self.remove_leftovers()
        podman("network", "create", "--label", LABEL, self.name)
        inspected = json.loads(podman("network", "inspect", self.name).stdout)
        return inspected[0]["subnets"][0]["gateway"]

    def remove_leftovers(self) -> None:
        left = podman("ps", "-aq", "--filter", f"label={LABEL}").stdout.split()
        if left:
            podman("rm", "-f", "-t", "0", *left, check=False)
        podman("network", "rm", "-f", self.name, check=False)
        for name in podman("secret", "ls", "--format", "{{.Name}}").stdout.split():
            if name.startswith(f"{self.name}-"):
                podman("secret", "rm", name, check=False)

    def secret(self, name: str, value: str) -> str:
        """A podman secret (what a Kubernetes Secret is to a pod), handed to containers as an env var."""
        full = f"{self.name}-{name}"
        env = os.environ | {"CONTAINERS_CONF": str(CONTAINERS_CONF)}
        subprocess.run(
            ["podman", "secret", "create", full, "-"],
            input=value,
            text=True,
            env=env,
            check=True,
            capture_output=True,
        )
        self.secrets.append(full)
        return full

    def _run_args(
        self,
        name: str,
        command: Sequence[str],
        *,
        env: Mapping[str, str],
        alias: str | None = None,
        secrets: Mapping[str, str] | None = None,
        ports: Mapping[int, int] | None = None,
        volumes: Sequence[str] = (),
    ) -> list[str]:
        args = ["--name", name, "--label", LABEL, "--network", self.name, "--read-only"]
        args += ["--network-alias", alias or name]
        for key, value in env.items():
            args += ["--env", f"{key}={value}"]
        for target, secret in (secrets or {}).items():
            args += ["--secret", f"{secret},type=env,target={target}"]
        for host_port, port in (ports or {}).items():
            args += ["--publish", f"127.0.0.1:{host_port}:{port}"]
        for volume in volumes:
            args += ["--volume", volume]
        return [*args, IMAGE, *command]

    def start(self, name: str, command: Sequence[str], **options) -> None:
        """A long-running process in its own container."""
        podman("run", "--detach", *self._run_args(name, command, **options))
        self.containers.append(name)

    def once(self, name: str, command: Sequence[str], **options) -> subprocess.Popen:
        """A one-shot process (a migration, the broker's setup); wait() on it, then check returncode."""
        env = os.environ | {"CONTAINERS_CONF": str(CONTAINERS_CONF)}
        return subprocess.Popen(
            ["podman", "run", "--rm", *self._run_args(name, command, **options)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def logs(self, name: str) -> str:
        done = podman("logs", "--tail", "40", name, check=False)
        return done.stdout + done.stderr

    def remove(self) -> None:
        if self.containers:
            podman("rm", "-f", "-t", "2", *self.containers, check=False)
        for secret in self.secrets:
            podman("secret", "rm", secret, check=False)
        podman("network", "rm", "-f", self.name, check=False)


def wait_for(url: str, network: Network, watched: Sequence[str], timeout: float = 120) -> None:
    """Until `url` answers 200; fails early, with the logs, when a watched container has stopped."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        running = set(podman("ps", "--format", "{{.Names}}", "--filter", f"label={LABEL}").stdout.split())
        for name in watched:
            if name not in running:
                raise AssertionError(f"{name} stopped:\n{network.logs(name)}")
        time.sleep(0.5)
    logs = "\n".join(f"--- {name}\n{network.logs(name)}" for name in watched)
    raise AssertionError(f"{url} did not answer in {timeout:.0f}s\n{logs}")
