"""`mercato deploy …`: write what a cluster runs from the topology and the route table — the Kubernetes
manifests (docs/deploy.md) and the gateway's Envoy config for DNS-named upstreams."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

deploy_cli = typer.Typer(
    help="Deployment: Kubernetes manifests and the gateway's config.", no_args_is_help=True
)
console = Console()


@deploy_cli.command("kubernetes")
def kubernetes(
    root: Annotated[Path, typer.Option(help="The Kustomize tree.")] = Path("deploy/kubernetes"),
    check: Annotated[bool, typer.Option("--check", help="Write nothing; fail if a file differs.")] = False,
) -> None:
    """Write the generated manifests (workloads, network policies, Jobs) and the gateway's envoy.json."""
    from mercato.deploy.render import kubernetes_files

    stale = []
    for relative, text in kubernetes_files(root).items():
        path = root / relative
        if path.exists() and path.read_text() == text:
            continue
        stale.append(relative)
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    for relative in stale:
        console.print(
            f"[{'red' if check else 'green'}]{'✗ stale' if check else '✓ wrote'}[/] {root / relative}"
        )
    if check and stale:
        raise typer.Exit(1)


@deploy_cli.command("gateway-config")
def gateway_config(
    hosts: Annotated[
        str,
        typer.Option(help="Where the upstreams are: kubernetes (<name>-pods Services) or compose (<name>)."),
    ] = "kubernetes",
    host: Annotated[
        list[str] | None, typer.Option(help="NAME=DNSNAME for one upstream, over the preset; repeatable.")
    ] = None,
    settings: Annotated[
        Path | None, typer.Option(help="A MERCATO_GATEWAY_* env file (the environment's are read too).")
    ] = None,
    output: Annotated[Path | None, typer.Option(help="Write here instead of standard output.")] = None,
) -> None:
    """The Envoy config for a gateway that finds each service by a DNS name (Kubernetes, compose, podman)."""
    from mercato.deploy.render import HOSTS_PRESETS
    from mercato.deploy.render import gateway_config as render
    from mercato.gateway.settings import GatewaySettings

    if hosts not in HOSTS_PRESETS:
        raise typer.BadParameter(f"{hosts}: one of {', '.join(HOSTS_PRESETS)}", param_hint="--hosts")
    names = dict(HOSTS_PRESETS[hosts])
    for pair in host or []:
        name, _, dns = pair.partition("=")
        if not dns or (name not in names and name not in HOSTS_PRESETS["kubernetes"]):
            raise typer.BadParameter(f"{pair}: expected NAME=DNSNAME", param_hint="--host")
        names[name] = dns
    text = render(names, GatewaySettings(_env_file=settings))  # type: ignore[call-arg]
    if output is None:
        print(text, end="")
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)
        console.print(f"[green]✓[/] wrote {output}")


@deploy_cli.command("databases")
def databases(
    admin_url: Annotated[
        str | None,
        typer.Option(help="A superuser's (or CREATEROLE+CREATEDB) URL; default $MERCATO_POSTGRES_ADMIN_URL."),
    ] = None,
    prefix: Annotated[str, typer.Option(help="Databases and roles: <prefix>_<service>.")] = "mercato",
    secrets_dir: Annotated[
        Path | None, typer.Option(help="Where each role's password is kept; default var/keys/postgres.")
    ] = None,
    host: Annotated[str | None, typer.Option(help="The server's host as the services reach it.")] = None,
    port: Annotated[int | None, typer.Option(help="The server's port as the services reach it.")] = None,
) -> None:
    """Create, idempotently, a database and a login role per service, each role reaching only its own
    database; print the services' database URLs as environment lines (`> database.env`)."""
    from mercato.platform.provision import admin_url_from_env, default_secrets_dir, provision_all

    directory = secrets_dir or default_secrets_dir()
    urls = provision_all(admin_url or admin_url_from_env(), prefix, directory, host=host, port=port)
    for name, url in urls.items():
        print(f"{name}={url}")
    Console(stderr=True).print(
        f"[green]✓[/] {len(urls)} databases, each with its own role (passwords in {directory})"
    )
