"""`mercato promotions`: bulk single-use codes from the command line, through the gateway's back-office
API as a staff member with the merchandising role (docs/promotions.md)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mercato.topology import Topology

promotions_cli = typer.Typer(help="Promotions: batches of single-use codes.", no_args_is_help=True)
console = Console()


def _fail(message: str, code: int = 1) -> typer.Exit:
    console.print(f"[red]✗[/] {message}")
    return typer.Exit(code)


def _answer(response: httpx.Response, expected: int = 200) -> Any:
    if response.status_code != expected:
        problem = response.json() if "json" in response.headers.get("content-type", "") else {}
        errors = "; ".join(f"{k}: {v}" for k, v in (problem.get("errors") or {}).items())
        raise _fail(f"{problem.get('detail') or response.text[:300]}{f' ({errors})' if errors else ''}")
    return response.json()


def _sign_in(gateway: httpx.Client) -> str:
    """A staff access token: the password, then the authenticator's code, as the back office asks."""
    email = typer.prompt("Staff e-mail")
    password = typer.prompt("Password", hide_input=True)
    step = _answer(gateway.post("/admin/v1/auth/login", json={"email": email, "password": password}))
    if step.get("status") != "mfa_required" or step.get("password_change_required"):
        raise _fail("Sign in to the back office once first (new password and authenticator), then retry.")
    code = typer.prompt("Authenticator code")
    tokens = _answer(
        gateway.post("/admin/v1/auth/verify", json={"challenge": step["challenge"], "code": code})
    )
    return tokens["access_token"]


@promotions_cli.command("codes")
def codes(
    promotion: Annotated[str, typer.Option("--promotion", help="The promotion's id (prm_…), trigger code.")],
    count: Annotated[
        int, typer.Option("--count", min=1, max=100_000, help="How many codes, at most 100000.")
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the CSV (code,used).")
    ] = Path("codes.csv"),
    prefix: Annotated[
        str, typer.Option("--prefix", help="Up to 12 letters and digits before each code.")
    ] = "",
    token: Annotated[
        str | None,
        typer.Option(
            "--token", envvar="MERCATO_STAFF_TOKEN", help="A staff access token; without one, sign in here."
        ),
    ] = None,
    gateway_url: Annotated[
        str | None, typer.Option("--gateway", help="The gateway's URL; default: this machine's platform.")
    ] = None,
) -> None:
    """Generate a batch of single-use codes for a promotion, follow it with a progress bar, and save its
    codes as CSV. Signs in as a staff member with the merchandising role (or takes their access token)."""
    base = gateway_url or Topology.from_env().gateway_url
    with httpx.Client(base_url=base, timeout=60, trust_env=False) as gateway:
        try:
            token = token or _sign_in(gateway)
            gateway.headers["Authorization"] = f"Bearer {token}"
            path = f"/admin/v1/promotions/{promotion}/code-batches"
            asked = gateway.post(path, json={"count": count, "prefix": prefix})
            batch = _answer(asked, 202)
            batch = _follow(gateway, f"{path}/{batch['id']}", batch)
            if batch["state"] != "done":
                raise _fail(f"The batch failed after {batch['generated']} codes (batch {batch['id']}).")
            with gateway.stream("GET", f"{path}/{batch['id']}/codes.csv") as answer:
                if answer.status_code != 200:
                    answer.read()
                    _answer(answer)
                with output.open("wb") as file:
                    for chunk in answer.iter_bytes():
                        file.write(chunk)
        except httpx.HTTPError as exc:
            raise _fail(
                f"The gateway is not reachable at {base} ({type(exc).__name__}); is it running?", 2
            ) from None
    console.print(f"[green]✓[/] {batch['generated']} codes in {output} (batch {batch['id']})")


def _follow(gateway: httpx.Client, path: str, batch: dict[str, Any]) -> dict[str, Any]:
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    with progress:
        task = progress.add_task("Generating codes", total=batch["requested"], completed=batch["generated"])
        while batch["state"] == "running":
            time.sleep(0.2)
            batch = _answer(gateway.get(path))
            progress.update(task, completed=batch["generated"])
    return batch
