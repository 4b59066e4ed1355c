"""deploy/compose.yaml, read as compose reads it: every process of the platform is there, runs a command
the image has, and is configured only by settings that exist; secrets are files or ${…} references."""

from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from mercato.admin.settings import AdminSettings
from mercato.cli import APP_SETTINGS, SERVICE_SETTINGS, _settings, app
from mercato.gateway.settings import GatewaySettings
from mercato.platform.broker import BrokerSettings
from mercato.sandbox.mail import MailSinkSettings
from mercato.sandbox.payments import PaymentSandboxSettings
from mercato.storefront.settings import StorefrontSettings
from mercato.topology import Topology

COMPOSE = Path(__file__).resolve().parents[2] / "deploy" / "compose.yaml"
SERVICES = yaml.safe_load(COMPOSE.read_text())["services"]
# Settings classes by their variables' prefix (the longest prefix wins: MERCATO_MOBILE_API_ before …).
PREFIXES = {
    **{
        f"MERCATO_{name.upper().replace('-', '_')}_": lambda name=name: type(_settings(name))
        for name in APP_SETTINGS
    },
    "MERCATO_GATEWAY_": lambda: GatewaySettings,
    "MERCATO_STOREFRONT_": lambda: StorefrontSettings,
    "MERCATO_ADMIN_": lambda: AdminSettings,
    "MERCATO_BROKER_": lambda: BrokerSettings,
    "MERCATO_PAYMENT_SANDBOX_": lambda: PaymentSandboxSettings,
    "MERCATO_MAIL_SINK_": lambda: MailSinkSettings,
}


def _commands(service: dict) -> list[list[str]]:
    """The argv of each program the service's command runs (`sh -c 'a && exec b'` runs two)."""
    command = service["command"]
    if command[:2] == ["sh", "-c"]:
        return [
            shlex.split(part.removeprefix(" ").removeprefix("exec ")) for part in command[2].split(" && ")
        ]
    return [command]


def _mercato_command(args: list[str]) -> None:
    """`mercato …` parsed by the CLI without running it (--help): an unknown command or option fails."""
    result = CliRunner().invoke(app, [*args, "--help"])
    assert result.exit_code == 0, f"mercato {shlex.join(args)}: {result.output[-500:]}"


def test_every_process_runs_a_command_the_image_has():
    for name, service in SERVICES.items():
        assert service["image"] == "${MERCATO_IMAGE:-localhost/mercato:latest}", name
        for argv in _commands(service):
            if argv[0] == "mercato":
                _mercato_command(argv[1:])
                if argv[1] == "serve":
                    assert argv[2] in APP_SETTINGS, name
            elif argv[:2] == ["python", "-m"]:
                assert argv[2].startswith("mercato.") and _has_main(argv[2]), name
            else:
                assert argv[0] == "envoy" and "--disable-hot-restart" in argv, name


def _has_main(module: str) -> bool:
    spec = importlib.util.find_spec(module)
    if spec.submodule_search_locations:  # a package: its __main__
        return importlib.util.find_spec(f"{module}.__main__") is not None
    return "__main__" in Path(spec.origin).read_text()


def test_the_whole_platform_is_there_and_starts_after_its_migrations():
    serving = {
        s["command"][2]: name for name, s in SERVICES.items() if s["command"][:2] == ["mercato", "serve"]
    }
    assert set(serving) == set(APP_SETTINGS) == set(Topology().upstreams)
    for service in SERVICE_SETTINGS:  # each with its own database: migrated first, by a one-shot
        migration = SERVICES[f"migrate-{service}"]
        assert migration["command"] == ["mercato", "migrate", service] and migration["restart"] == "no"
        depends = SERVICES[serving[service]]["depends_on"]
        assert depends[f"migrate-{service}"] == {"condition": "service_completed_successfully"}
        assert depends["broker-setup"] == {"condition": "service_completed_successfully"}
    assert SERVICES["broker-setup"]["command"] == ["mercato", "broker", "setup"]
    assert {"gateway", "storefront", "admin"} <= set(SERVICES)
    assert [argv[0] for argv in _commands(SERVICES["gateway"])] == ["mercato", "envoy"]


def test_each_process_reads_its_own_database_only_and_runs_locked_down():
    for name, service in SERVICES.items():
        urls = {key for key in service.get("environment", {}) if key.endswith("_DATABASE_URL")}
        own = {f"MERCATO_{name.removeprefix('migrate-').upper()}_DATABASE_URL"}
        assert urls in (set(), own), (name, urls)
        assert service["user"] == "10001:10001" and service["read_only"] is True, name
        assert service["tmpfs"] == ["/tmp"], name


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_variable_is_a_setting_that_exists(name):
    for variable in SERVICES[name].get("environment", {}):
        if variable == "MERCATO_VAR_DIR":  # (mercato.topology.var_dir: where a process keeps its files)
            continue
        prefix = max((p for p in PREFIXES if variable.startswith(p)), key=len, default=None)
        assert prefix, f"{name}: {variable} is no Mercato setting"
        fields = PREFIXES[prefix]().model_fields
        assert variable.removeprefix(prefix).lower() in fields, f"{name}: {variable} is no setting"


def test_secrets_are_files_or_references_never_values():
    compose = yaml.safe_load(COMPOSE.read_text())
    declared = compose["secrets"]
    assert all(set(secret) == {"file"} for secret in declared.values())
    for name, service in SERVICES.items():
        mounted = set(service.get("secrets", []))
        assert mounted <= set(declared), name
        for variable, value in service.get("environment", {}).items():
            if variable.endswith("_FILE"):
                assert value.removeprefix("/run/secrets/") in mounted, (name, variable)
            if (
                re.search(r"(SECRET|PASSWORD|DATABASE_URL|_KEY)$", variable)
                and variable != "MERCATO_BROKER_URL"
            ):
                assert re.fullmatch(r"\$\{[A-Z_]+:[?-][^}]*\}", str(value)), f"{name}: {variable} has a value"
