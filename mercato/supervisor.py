"""The process supervisor behind `mercato up`: runs the gateway and the services as one foreground command.

Every child runs in its own process group (session), so a Ctrl-C in the terminal reaches only the
supervisor, which then shuts the children down in reverse start order and kills whatever they leave
behind in their group: `mercato up` never leaves orphans, not even when it fails to start.

Children's stdout and stderr are printed line by line as `name | line` (coloured by a rich Console). A child
that crashes while supervised is restarted with exponential backoff; readiness (an HTTP URL answering
200) is awaited for all processes in parallel.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from rich.console import Console
from rich.text import Text

PALETTE = ("cyan", "magenta", "green", "yellow", "blue", "bright_magenta", "bright_green", "bright_blue")
BACKOFF_RESET_AFTER = 30.0  # seconds a process must run before its restart backoff starts over
READY_POLL_INTERVAL = 0.1
READY_HTTP_TIMEOUT = httpx.Timeout(1.0, connect=0.5)
TAIL_LINES = 10  # lines kept per process to explain a failed start
LINE_LIMIT = 64 * 1024  # longer lines are printed in pieces of this size
DRAIN_TIMEOUT = 1.0  # how long to wait for the last output of an exited process
GROUP_EXIT_TIMEOUT = 0.5  # how long to wait for killed leftovers of an exited process to be gone


class SupervisorError(RuntimeError):
    """The platform could not be started; the message says which processes failed and why."""


@dataclass(frozen=True)
class ProcessSpec:
    """One process of the platform: what to run and how to tell it is ready to serve."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)  # added to os.environ
    ready_url: str | None = None  # GET until it answers 200; None = ready once started
    cwd: str | None = None
    then: Callable[[], Awaitable[None]] | None = None  # run once, when the process is first ready


class _ChildProtocol(asyncio.subprocess.SubprocessStreamProtocol):
    """Reports the exit of the child itself.

    asyncio's `Process.wait()` only returns once every pipe is closed, so a grandchild still holding
    the child's stdout would hide the exit, and with it our chance to kill that grandchild.
    """

    def __init__(self, limit: int, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(limit=limit, loop=loop)
        self.exited: asyncio.Future[None] = loop.create_future()

    def process_exited(self) -> None:
        super().process_exited()
        if not self.exited.done():
            self.exited.set_result(None)


@dataclass(eq=False)
class _Child:
    """The mutable state of one supervised process (its current incarnation and its history)."""

    spec: ProcessSpec
    colour: str
    transport: asyncio.SubprocessTransport | None = None
    protocol: _ChildProtocol | None = None
    started_at: float = 0.0
    pumps: list[asyncio.Task[None]] = field(default_factory=list)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    readiness: asyncio.Task[None] | None = None
    task: asyncio.Task[None] | None = None  # the _supervise loop
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))
    then_done: bool = False

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def pid(self) -> int | None:
        if self.transport is None or self.transport.get_returncode() is not None:
            return None
        return self.transport.get_pid()

    def signal_group(self, sig: int) -> None:
        """Signal the whole process group, so grandchildren (workers, reloaders) get it too.

        Also used after the child exited: the group id stays valid while any member is left.
        """
        if self.transport is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.transport.get_pid(), sig)

    def group_exists(self) -> bool:
        if self.transport is None:
            return False
        try:
            os.killpg(self.transport.get_pid(), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


class Supervisor:
    """Starts, watches, restarts and stops a set of processes."""

    def __init__(
        self,
        specs: list[ProcessSpec],
        *,
        console: Console | None = None,
        ready_timeout: float = 60.0,
        restart_backoff: tuple[float, float] = (0.5, 30.0),
        stop_timeout: float = 10.0,
    ) -> None:
        names = [spec.name for spec in specs]
        if len(set(names)) != len(names):
            raise ValueError(f"process names must be unique: {names}")
        self._children = [_Child(spec, PALETTE[i % len(PALETTE)]) for i, spec in enumerate(specs)]
        self._console = console or Console()
        self._width = max((len(name) for name in names), default=0)
        # Each child's coloured `name | ` rendered once: a line is then one write, not a rich render
        # (which cost the supervisor more CPU per line than the child spent logging it).
        self._prefixes = {child.name: self._render(child) for child in self._children}
        self._ready_timeout = ready_timeout
        self._backoff = restart_backoff
        self._stop_timeout = stop_timeout
        self._stop_requested = asyncio.Event()
        self._stopping = False  # no more restarts once set
        self._shutdown: asyncio.Future[None] | None = None
        # Cleared while start() spawns: stop() waits for it so that no freshly spawned process escapes it.
        self._not_spawning = asyncio.Event()
        self._not_spawning.set()
        self.restarts: dict[str, int] = dict.fromkeys(names, 0)

    # --- public API ----------------------------------------------------------------------------
    async def start(self) -> None:
        """Spawn every process in order, then wait until all are ready.

        Raises SupervisorError, after stopping everything already started, if a process cannot be
        spawned or is not ready within `ready_timeout`. Returns early if stop is requested meanwhile.
        """
        try:
            self._not_spawning.clear()
            try:
                for child in self._children:
                    if self._stop_requested.is_set():
                        return
                    try:
                        await self._spawn(child)
                    except OSError as exc:
                        raise SupervisorError(f"could not start {child.name}: {exc}") from exc
                    child.task = asyncio.create_task(self._supervise(child), name=f"supervise-{child.name}")
            finally:
                self._not_spawning.set()
            await self._await_all_ready()
        except BaseException:
            await self.stop()
            raise

    async def run_until_stopped(self) -> int:
        """Supervise until stop() is called or a signal handler installed by run() asks to stop."""
        await self._stop_requested.wait()
        await self.stop()
        return 0

    async def stop(self) -> None:
        """Stop every process, in reverse start order; safe to call any number of times.

        Each process group gets SIGTERM; what is still running when `stop_timeout` has elapsed
        (counted once for all processes) gets SIGKILL.
        """
        self._stop_requested.set()
        if self._shutdown is None:
            self._shutdown = asyncio.ensure_future(self._shutdown_all())
        await asyncio.shield(self._shutdown)

    def pid(self, name: str) -> int | None:
        """The pid of the process currently running under `name`, None between restarts."""
        return self._child(name).pid

    # --- internals -----------------------------------------------------------------------------
    def _child(self, name: str) -> _Child:
        for child in self._children:
            if child.name == name:
                return child
        raise KeyError(name)

    def _render(self, child: _Child) -> str:
        with self._console.capture() as captured:
            self._console.print(Text(f"{child.name:<{self._width}} | ", style=child.colour), end="")
        return captured.get()

    def _emit(self, child: _Child, line: str, style: str = "") -> None:
        """Print one line as `name | line`, literally. A single write per line keeps lines whole."""
        child.tail.append(line)
        if style:  # the supervisor's own notes, rare
            text = Text.assemble((f"{child.name:<{self._width}} | ", child.colour), Text(line, style=style))
            self._console.print(text, markup=False, highlight=False, emoji=False, soft_wrap=True)
            return
        out = self._console.file
        out.write(f"{self._prefixes[child.name]}{line}\n")
        out.flush()  # as rich would: `mercato up > file` shows each line as it happens

    def _note(self, child: _Child, message: str) -> None:
        """A line from the supervisor itself about a child, set apart from the child's own output."""
        self._emit(child, message, style="italic")

    async def _spawn(self, child: _Child) -> None:
        loop = asyncio.get_running_loop()
        spec = child.spec
        # Python children block-buffer a piped stdout: their logs would arrive late and in bursts.
        env = {"PYTHONUNBUFFERED": "1", **os.environ, **spec.env}
        transport, protocol = await loop.subprocess_exec(
            lambda: _ChildProtocol(LINE_LIMIT, loop),
            *spec.argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=spec.cwd,
            start_new_session=True,
        )
        child.transport, child.protocol = transport, protocol
        child.started_at = loop.time()
        assert protocol.stdout is not None and protocol.stderr is not None
        child.pumps = [asyncio.create_task(self._pump(child, s)) for s in (protocol.stdout, protocol.stderr)]
        child.ready.clear()
        child.readiness = asyncio.create_task(self._await_ready(child))
        if self._stopping:  # stop() ran while we were spawning and could not see this process
            child.signal_group(signal.SIGTERM)

    async def _pump(self, child: _Child, stream: asyncio.StreamReader) -> None:
        while True:
            try:
                raw = await stream.readuntil(b"\n")
            except asyncio.IncompleteReadError as exc:  # EOF, possibly after a last unterminated line
                raw = exc.partial
                if not raw:
                    return
            except asyncio.LimitOverrunError as exc:
                raw = await stream.read(exc.consumed)
            self._emit(child, raw.decode(errors="replace").rstrip("\r\n"))

    async def _await_ready(self, child: _Child) -> None:
        """Poll the ready URL of the current incarnation; cancelled when it exits."""
        url = child.spec.ready_url
        if url is not None:
            # trust_env=False: an HTTP(S)_PROXY from the environment must not intercept local URLs.
            async with httpx.AsyncClient(timeout=READY_HTTP_TIMEOUT, trust_env=False) as client:
                while True:
                    with contextlib.suppress(httpx.HTTPError):
                        if (await client.get(url)).status_code == 200:
                            break
                    await asyncio.sleep(READY_POLL_INTERVAL)
            self._note(child, "ready")
        if child.spec.then is not None and not child.then_done:
            child.then_done = True
            try:
                await child.spec.then()
            except Exception as exc:  # reported, not fatal: the platform still runs
                self._note(child, f"setup after start failed: {type(exc).__name__}: {exc}")
        child.ready.set()

    async def _all_ready(self) -> None:
        for child in self._children:
            await child.ready.wait()

    async def _await_all_ready(self) -> None:
        all_ready = asyncio.create_task(self._all_ready())
        stop_requested = asyncio.create_task(self._stop_requested.wait())
        try:
            await asyncio.wait(
                {all_ready, stop_requested}, timeout=self._ready_timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            all_ready.cancel()
            stop_requested.cancel()
        if (all_ready.done() and not all_ready.cancelled()) or self._stop_requested.is_set():
            return
        laggards = [child for child in self._children if not child.ready.is_set()]
        details = "\n".join(
            f"  {child.name} | {line}" for child in laggards for line in (child.tail or ["(no output)"])
        )
        names = ", ".join(child.name for child in laggards)
        raise SupervisorError(f"not ready after {self._ready_timeout:g} s: {names}\n{details}")

    async def _wait_exit(self, child: _Child) -> int | None:
        """Wait for the current incarnation to exit, then clean up everything it left behind."""
        assert child.transport is not None and child.protocol is not None
        await child.protocol.exited
        code = child.transport.get_returncode()
        child.signal_group(signal.SIGKILL)  # orphans left in the group would keep ports and pipes
        if child.readiness is not None:
            child.readiness.cancel()
        _, unfinished = await asyncio.wait(child.pumps, timeout=DRAIN_TIMEOUT)
        for pump in unfinished:  # a grandchild that escaped the group still holds the pipe
            pump.cancel()
        # SIGKILL is asynchronous: wait until the leftovers are really gone (reaped by init), so that
        # whoever awaits stop() finds ports free and no process left. Bounded, because where init does
        # not reap (some containers) dead orphans linger as zombies and keep the group in existence.
        for _ in range(int(GROUP_EXIT_TIMEOUT / 0.01)):
            if not child.group_exists():
                break
            await asyncio.sleep(0.01)
        child.transport.close()
        child.transport = None
        return code

    async def _supervise(self, child: _Child) -> None:
        """Keep one process alive until stop(): restart it with exponential backoff when it exits."""
        loop = asyncio.get_running_loop()
        delay = self._backoff[0]
        while True:
            started_at = child.started_at
            code = await self._wait_exit(child)
            if self._stopping:
                self._note(child, f"stopped (code {code})")
                return
            if loop.time() - started_at >= BACKOFF_RESET_AFTER:
                delay = self._backoff[0]
            self._note(child, f"exited with code {code}, restarting in {delay:g} s")
            while True:
                if await self._stop_requested_within(delay):
                    return
                delay = min(delay * 2, self._backoff[1])
                try:
                    await self._spawn(child)
                    break
                except OSError as exc:
                    self._note(child, f"could not restart: {exc}, retrying in {delay:g} s")
            self.restarts[child.name] += 1

    async def _stop_requested_within(self, seconds: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop_requested.wait(), seconds)
        return self._stop_requested.is_set()

    async def _shutdown_all(self) -> None:
        self._stopping = True
        await self._not_spawning.wait()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._stop_timeout
        for child in reversed(self._children):
            if child.task is None:
                continue
            child.signal_group(signal.SIGTERM)
            await asyncio.wait({child.task}, timeout=max(0.0, deadline - loop.time()))
            if not child.task.done():
                self._note(child, f"still running after {self._stop_timeout:g} s, killing")
                child.signal_group(signal.SIGKILL)
                await asyncio.wait({child.task})

    def _kill_now(self) -> None:
        """Second Ctrl-C: the user does not want to wait for a graceful shutdown."""
        self._stopping = True
        self._stop_requested.set()
        for child in self._children:
            child.signal_group(signal.SIGKILL)


async def run(specs: list[ProcessSpec], *, on_ready: Callable[[], None] | None = None, **kwargs: Any) -> int:
    """start(), call on_ready() (e.g. print the URL table), then run_until_stopped().

    SIGINT/SIGTERM ask for a graceful stop; a second one kills every process at once. The children
    are always stopped on the way out, whatever happens.
    """
    supervisor = Supervisor(specs, **kwargs)
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if supervisor._stop_requested.is_set():
            supervisor._kill_now()
        else:
            supervisor._stop_requested.set()

    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, on_signal)
    try:
        await supervisor.start()
        if on_ready is not None and not supervisor._stop_requested.is_set():
            on_ready()
        return await supervisor.run_until_stopped()
    finally:
        try:
            await supervisor.stop()
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)
