"""CPU seconds per process of a running platform, read from /proc (Linux).

A benchmark takes a `snapshot` before and after its load and divides the difference by the operations
it made: CPU per operation per process, which is what a request really costs on shared cores (latency
and throughput depend on everything else running). Processes are found by the ports the topology gives
them (each listening socket's inode, matched in /proc/<pid>/fd), so the benchmark needs no help from the
supervisor; the supervisor itself is the parent the services share.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mercato.topology import Topology

_TICKS = os.sysconf("SC_CLK_TCK")
_LISTEN = "0A"


def _ports(topology: Topology) -> dict[int, str]:
    ports = {}
    for name in topology.upstreams:  # with replicas, each one (the service's own port is then Envoy's)
        replica_ports = topology.replica_ports(name)
        for k, port in enumerate(replica_ports, 1):
            ports[port] = name if len(replica_ports) == 1 else f"{name}-{k}"
    ports |= {
        topology.gateway_port: "gateway (envoy)",
        topology.storefront_port: "storefront",
        topology.admin_port: "admin",
        topology.payment_sandbox_port: "payment sandbox",
        topology.sms_sandbox_port: "sms sandbox",
        topology.mail_sink_smtp_port: "mail sink",
        topology.broker_port: "broker (nats)",
    }
    for k, (client, _, _) in enumerate(topology.broker_cluster()[1:], 2):  # the scale-out profile's
        ports[client] = f"broker-{k} (nats)"
    return ports


def _listening_inodes() -> dict[int, int]:
    """Port → socket inode of every socket listening on this machine."""
    inodes: dict[int, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == _LISTEN:
                inodes.setdefault(int(fields[1].rsplit(":", 1)[1], 16), int(fields[9]))
    return inodes


def _socket_owners(inodes: set[int]) -> dict[int, int]:
    """Socket inode → pid of the process holding it."""
    owners: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inode = int(target[8:-1])
                    if inode in inodes:
                        owners[inode] = int(entry.name)
        except OSError:
            continue  # the process ended, or is not ours to read
    return owners


def _stat(pid: int) -> tuple[int, float]:
    """(parent pid, CPU seconds in user and kernel mode, all threads) of a process."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()  # the command name may hold spaces and parentheses
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS


@dataclass(frozen=True)
class Processes:
    """The platform's processes by name, found once; `snapshot` reads their CPU time."""

    pids: dict[str, int]

    @classmethod
    def find(cls, topology: Topology) -> Processes:
        ports, listening = _ports(topology), _listening_inodes()
        wanted = {listening[port]: name for port, name in ports.items() if port in listening}
        pids = {wanted[inode]: pid for inode, pid in _socket_owners(set(wanted)).items()}
        parents = {_stat(pid)[0] for name, pid in pids.items() if name in topology.services}
        if len(parents) == 1:
            pids["supervisor"] = parents.pop()
        return cls(pids=dict(sorted(pids.items())))

    def snapshot(self) -> dict[str, float]:
        seconds = {}
        for name, pid in self.pids.items():
            try:
                seconds[name] = _stat(pid)[1]
            except OSError:
                seconds[name] = float("nan")  # the process was restarted: its figure is meaningless
        return seconds


def per_operation(before: dict[str, float], after: dict[str, float], operations: int) -> dict[str, float]:
    """CPU milliseconds per operation for each process, and for all of them under "all"."""
    per = {name: (after[name] - before[name]) * 1000 / max(operations, 1) for name in after}
    per["all"] = sum(per.values())
    return per
