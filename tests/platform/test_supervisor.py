"""The supervisor behind `mercato up`, exercised through real child processes.

Children are small `python -c` scripts; readiness is served by a stdlib http.server on a free port.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from mercato.supervisor import ProcessSpec, Supervisor, SupervisorError

REPO = Path(__file__).resolve().parents[2]

# Serves 200 on / after an optional start-up delay (argv: port, delay).
SERVER = """
import http.server, sys, time
time.sleep(float(sys.argv[2]))
class Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
    def log_message(self, *args):
        pass
print("serving", flush=True)
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Ok).serve_forever()
"""

# Spawns a grandchild in its own process group, prints both pids, then sleeps. The grandchild ignores
# SIGTERM (and says so once it does), so only the supervisor's clean-up of the whole group can end it.
FAMILY = """
import os, subprocess, sys, time
grandchild = subprocess.Popen([sys.executable, "-c", "import signal, time; "
    "signal.signal(signal.SIGTERM, signal.SIG_IGN); print('armed', flush=True); time.sleep(60)"])
print("pids", os.getpid(), grandchild.pid, flush=True)
time.sleep(60)
"""

PIDS = re.compile(r"pids (\d+) (\d+)")

# A well-behaved process that just runs, and says under which pid.
IDLE = "import os, time; print('idle', os.getpid(), flush=True); time.sleep(60)"
IDLE_PID = re.compile(r"idle (\d+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def alive(pid: int) -> bool:
    """Whether `pid` is still a running process.

    A zombie counts as gone: an orphaned grandchild is reparented to PID 1, and in containers whose
    PID 1 does not reap, its entry lingers although the process is dead.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def wait_until(predicate: Callable[[], object], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def recording_console() -> Console:
    return Console(file=io.StringIO(), width=200, color_system=None)


def output(console: Console) -> str:
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue()


def server(name: str, port: int, delay: float = 0.0) -> ProcessSpec:
    return ProcessSpec(
        name, [sys.executable, "-c", SERVER, str(port), str(delay)], ready_url=f"http://127.0.0.1:{port}/"
    )


@asynccontextmanager
async def supervised(specs: list[ProcessSpec], **kwargs: object) -> AsyncIterator[Supervisor]:
    supervisor = Supervisor(specs, **kwargs)  # type: ignore[arg-type]
    try:
        await supervisor.start()
        yield supervisor
    finally:
        await supervisor.stop()


async def test_start_waits_until_every_process_is_ready() -> None:
    port = free_port()
    console = recording_console()
    began = time.monotonic()
    async with supervised([server("web", port, delay=0.5), server("api", free_port())], console=console):
        assert time.monotonic() - began >= 0.5
        async with httpx.AsyncClient(trust_env=False) as client:
            assert (await client.get(f"http://127.0.0.1:{port}/")).status_code == 200
    assert "web | ready" in output(console)


async def test_output_is_prefixed_with_the_padded_name_and_printed_literally() -> None:
    script = "import sys, time; print('hello [bold]x[/bold]'); print('oops', file=sys.stderr); time.sleep(60)"
    console = recording_console()
    specs = [
        ProcessSpec("echo", [sys.executable, "-c", script]),
        ProcessSpec("long-name", [sys.executable, "-c", "import time; time.sleep(60)"]),
    ]
    async with supervised(specs, console=console):
        await wait_until(lambda: "oops" in output(console) and "hello" in output(console))
    lines = output(console).splitlines()
    assert "echo      | hello [bold]x[/bold]" in lines
    assert "echo      | oops" in lines


async def test_a_killed_process_is_restarted_and_becomes_ready_again() -> None:
    port = free_port()
    console = recording_console()
    async with supervised([server("web", port)], console=console, restart_backoff=(0.1, 1.0)) as supervisor:
        first = supervisor.pid("web")
        assert first is not None
        os.kill(first, signal.SIGKILL)
        await wait_until(
            lambda: supervisor.pid("web") not in (None, first) and supervisor.restarts["web"] == 1
        )
        await wait_until(lambda: output(console).count("web | ready") == 2)
        async with httpx.AsyncClient(trust_env=False) as client:
            assert (await client.get(f"http://127.0.0.1:{port}/")).status_code == 200
        assert not alive(first)
    assert "web | exited with code -9, restarting in 0.1 s" in output(console)


async def test_stop_leaves_no_child_or_grandchild_alive() -> None:
    console = recording_console()
    async with supervised([ProcessSpec("family", [sys.executable, "-c", FAMILY])], console=console):
        await wait_until(lambda: PIDS.search(output(console)) and "family | armed" in output(console))
        match = PIDS.search(output(console))
        assert match is not None
        child, grandchild = int(match[1]), int(match[2])
        assert alive(child) and alive(grandchild)
    assert not alive(child)
    assert not alive(grandchild)


async def test_a_process_that_never_gets_ready_fails_start_and_leaves_nothing_running() -> None:
    console = recording_console()
    specs = [
        ProcessSpec("fine", [sys.executable, "-c", IDLE]),
        ProcessSpec(
            "stuck",
            [sys.executable, "-c", "print('booting...', flush=True)\n" + FAMILY],
            ready_url=f"http://127.0.0.1:{free_port()}/",
        ),
    ]
    supervisor = Supervisor(specs, console=console, ready_timeout=1.0)
    began = time.monotonic()
    with pytest.raises(SupervisorError) as failure:
        await supervisor.start()
    assert time.monotonic() - began < 3.0
    message = str(failure.value)
    assert "stuck" in message and "booting..." in message
    assert "fine" not in message.splitlines()[0]
    match, fine = PIDS.search(output(console)), IDLE_PID.search(output(console))
    assert match is not None and fine is not None
    assert not alive(int(match[1])) and not alive(int(match[2])) and not alive(int(fine[1]))


async def test_start_fails_fast_when_a_program_is_missing() -> None:
    specs = [
        ProcessSpec("fine", [sys.executable, "-c", IDLE]),
        ProcessSpec("missing", ["/nonexistent/mercato-binary"]),
    ]
    console = recording_console()
    supervisor = Supervisor(specs, console=console)
    began = time.monotonic()
    with pytest.raises(SupervisorError, match="could not start missing"):
        await supervisor.start()
    assert time.monotonic() - began < 2.0
    assert supervisor.pid("fine") is None


async def test_a_process_ignoring_sigterm_is_killed_after_the_stop_timeout() -> None:
    script = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    console = recording_console()
    async with supervised(
        [ProcessSpec("stubborn", [sys.executable, "-c", script])], console=console, stop_timeout=0.3
    ) as supervisor:
        pid = supervisor.pid("stubborn")
        assert pid is not None
        await asyncio.sleep(0.2)  # let it install its handler
    assert not alive(pid)
    assert "stubborn | still running after 0.3 s, killing" in output(console)


async def _run_in_subprocess(child_script: str) -> tuple[asyncio.subprocess.Process, int, int]:
    """Start `python -c "asyncio.run(run([...]))"` and wait until it is ready; returns it and its pids."""
    program = (
        "import asyncio, sys\n"
        "from mercato.supervisor import ProcessSpec, run\n"
        "specs = [ProcessSpec('svc', [sys.executable, '-c', sys.argv[1]])]\n"
        "sys.exit(asyncio.run(run(specs, on_ready=lambda: print('READY', flush=True))))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", program, child_script, stdout=asyncio.subprocess.PIPE, env=env
    )
    assert process.stdout is not None
    ready, armed, pids = False, False, None
    async with asyncio.timeout(5):
        while not (ready and armed and pids):
            line = (await process.stdout.readline()).decode()
            assert line, "the supervisor exited early"
            ready = ready or line.strip() == "READY"
            armed = armed or line.strip() == "svc | armed"
            pids = pids or PIDS.search(line)
    return process, int(pids[1]), int(pids[2])


async def test_sigint_stops_the_supervisor_cleanly() -> None:
    process, child, grandchild = await _run_in_subprocess(FAMILY)
    try:
        process.send_signal(signal.SIGINT)
        async with asyncio.timeout(5):
            assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
    assert not alive(child) and not alive(grandchild)


async def test_a_second_sigint_kills_at_once() -> None:
    stubborn = "import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN)\n" + FAMILY
    process, child, grandchild = await _run_in_subprocess(stubborn)
    try:
        process.send_signal(signal.SIGINT)
        await asyncio.sleep(0.3)  # two signals sent back to back could be merged into one
        assert process.returncode is None  # still waiting for the stubborn child (10 s grace)
        process.send_signal(signal.SIGINT)
        async with asyncio.timeout(3):
            assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
    assert not alive(child) and not alive(grandchild)
