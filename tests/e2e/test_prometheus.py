"""Debian's Prometheus scrapes the real platform with the shipped configuration and alert rules
(deploy/prometheus/): after a purchase, every kind of series is there with real values; a consumer that
stops while orders keep coming raises MercatoConsumerStopped."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from mercato.platform.ids import new_id
from mercato.topology import Topology
from tests.e2e.test_checkout import ADDRESS, _sku_with_stock
from tests.platforms import Platform, platform_env, start_platform, stop_platform

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
DEPLOY = Path(__file__).parents[2] / "deploy" / "prometheus"
OFFSET = 6000  # ports 10322-15901 (Prometheus on 15090): below the ephemeral range, clear of other tests
PROMETHEUS_PORT = OFFSET + 9090

pytestmark = pytest.mark.skipif(
    not Path(PROMETHEUS).exists(), reason="Prometheus is not installed (apt-get install prometheus)"
)


def promtool(*args: str) -> str:
    result = subprocess.run([PROMTOOL, *args], capture_output=True, text=True, cwd=DEPLOY, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_the_shipped_configuration_and_rules_are_valid_and_the_alerts_fire_on_what_they_are_for():
    assert "SUCCESS" in promtool("check", "config", "prometheus.yml")  # and the rule files it names
    assert "SUCCESS" in promtool("test", "rules", "alerts.test.yml")  # each alert on synthetic series


def test_the_local_configuration_scrapes_every_process_of_the_topology():
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    targets = {
        job["job_name"]: {target for group in job["static_configs"] for target in group["targets"]}
        for job in config["scrape_configs"]
    }
    topology = Topology()
    assert targets["mercato-services"] == {f"127.0.0.1:{s.port}" for s in topology.upstreams.values()}
    assert targets["mercato-gateway"] == {f"127.0.0.1:{topology.envoy_admin_port}"}


def test_the_kubernetes_configuration_is_valid_but_for_pod_discovery(tmp_path):
    """Debian's Prometheus is built without Kubernetes discovery: the rest (relabelling by the pods'
    prometheus.io/* annotations, the rules) is checked with the discovery swapped for a static target."""
    config = yaml.safe_load((DEPLOY / "prometheus-kubernetes.yml").read_text())
    [job] = config["scrape_configs"]
    assert job.pop("kubernetes_sd_configs") == [{"role": "pod"}]
    job["static_configs"] = [{"targets": ["10.0.0.1:8103"]}]
    annotations = {rule["source_labels"][-1] for rule in job["relabel_configs"]}
    assert {
        f"__meta_kubernetes_pod_annotation_prometheus_io_{a}" for a in ("scrape", "path", "port")
    } <= annotations
    shutil.copy(DEPLOY / "alerts.yml", tmp_path / "alerts.yml")
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    assert "SUCCESS" in promtool("check", "config", str(tmp_path / "prometheus.yml"))


def derived_config(directory: Path, offset: int) -> Path:
    """The shipped configuration with the platform's ports shifted by `offset`, scraped and evaluated
    every second, and every alert's `for` shortened to a second."""
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    config["global"] |= {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"}
    for job in config["scrape_configs"]:
        for group in job["static_configs"]:
            group["targets"] = [
                f"{host}:{int(port) + offset}" for host, port in (t.rsplit(":", 1) for t in group["targets"])
            ]
    rules = yaml.safe_load((DEPLOY / "alerts.yml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            rule["for"] = "1s"
    (directory / "alerts.yml").write_text(yaml.safe_dump(rules))
    (directory / "prometheus.yml").write_text(yaml.safe_dump(config))
    return directory / "prometheus.yml"


class Prometheus:
    def __init__(self, config: Path, data: Path) -> None:
        self.url = f"http://127.0.0.1:{PROMETHEUS_PORT}"
        self.log = (data.parent / "prometheus.log").open("wb")
        self.process = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={config}",
                f"--storage.tsdb.path={data}",
                f"--web.listen-address=127.0.0.1:{PROMETHEUS_PORT}",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.wait_for(lambda: httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200, "ready")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)
        self.log.close()

    def query(self, promql: str) -> dict[tuple[tuple[str, str], ...], float]:
        """The instant vector now: labels → value."""
        answer = httpx.get(f"{self.url}/api/v1/query", params={"query": promql}).json()
        assert answer["status"] == "success", answer
        return {
            tuple(sorted(series["metric"].items())): float(series["value"][1])
            for series in answer["data"]["result"]
        }

    def firing(self) -> set[str]:
        alerts = httpx.get(f"{self.url}/api/v1/alerts").json()["data"]["alerts"]
        return {alert["labels"]["alertname"] for alert in alerts if alert["state"] == "firing"}

    def wait_for(self, condition, what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if condition():
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def platform(tmp_path_factory) -> Iterator[Platform]:
    """The platform without notifications, which the test runs (and stops) itself."""
    var_dir = tmp_path_factory.mktemp("prometheus-platform")
    topology = Topology(offset=OFFSET)
    platform = start_platform(
        var_dir, topology, platform_env(var_dir, topology), "--without", "notifications"
    )
    try:
        yield platform
    finally:
        stop_platform(platform)


@pytest.fixture(scope="module")
def notifications(platform) -> Iterator[subprocess.Popen]:
    process = subprocess.Popen(
        [sys.executable, "-m", "mercato", "serve", "notifications"],
        env=platform.env,
        stdout=(platform.var_dir / "notifications.log").open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"{platform.service_url('notifications')}/readyz"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not _ready(url):
        time.sleep(0.1)
    yield process
    os.killpg(process.pid, signal.SIGCONT)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def prometheus(platform, notifications, tmp_path_factory) -> Iterator[Prometheus]:
    directory = tmp_path_factory.mktemp("prometheus")
    server = Prometheus(derived_config(directory, OFFSET), directory / "data")
    try:
        yield server
    finally:
        server.stop()


def buy(platform: Platform, gateway: httpx.Client, auth: dict[str, str], sku: str) -> None:
    assert gateway.post("/api/v1/cart/items", json={"sku": sku}, headers=auth).status_code == 200
    placed = gateway.post(
        "/api/v1/checkout",
        json={"shipping_address": ADDRESS, "payment_method": platform.card()},
        headers=auth | {"Idempotency-Key": new_id("key")},
    )
    assert placed.status_code == 201, placed.text


def test_prometheus_sees_a_purchase_and_a_stopped_consumer(platform, notifications, prometheus):
    with httpx.Client(base_url=platform.gateway, timeout=15) as gateway:
        email = f"metrics-{uuid.uuid4().hex[:10]}@example.com"
        registered = gateway.post(
            "/api/v1/customers", json={"email": email, "password": "correct horse battery", "name": "Ada"}
        )
        assert registered.status_code == 201, registered.text
        auth = platform.token_for(registered.json()["id"])
        sku = _sku_with_stock(platform, gateway, stock=100)
        buy(platform, gateway, auth, sku)

        checkout = '{service="orders",route="/api/v1/checkout",method="POST"'
        provider = "mercato_provider_request_duration_seconds_count"
        expected = {
            "a checkout answered 201": f'mercato_http_requests_total{checkout},status="201"}}',
            "its latency in the histogram": f"mercato_http_request_duration_seconds_count{checkout}}}",
            "a p99 from the buckets": "histogram_quantile(0.99, sum by (le) "
            f"(mercato_http_request_duration_seconds_bucket{checkout}}}))",
            "orders' SQL statements": 'mercato_sql_statements_total{service="orders"}',
            "the capture at the provider": f'{provider}{{service="payments",provider="stripe",'
            'operation="payment_intents.create",outcome="ok"}',
            "the confirmation over SMTP": f'{provider}{{service="notifications",provider="smtp"}}',
            "the gateway's 2xx": 'envoy_http_downstream_rq_xx{envoy_http_conn_manager_prefix="gateway",'
            'envoy_response_code_class="2"}',
        }
        for what, promql in expected.items():
            prometheus.wait_for(
                lambda promql=promql: any(v > 0 for v in prometheus.query(promql).values()), what
            )
        assert prometheus.query('mercato_outbox_lag_seconds{service="orders"}')  # present (0: all published)
        assert prometheus.query('mercato_dead_letters{service="notifications"}')
        lag = prometheus.query('mercato_consumer_lag_messages{service="notifications"}')
        assert {dict(labels)["consumer"] for labels in lag} >= {"notifications-order"}
        up = prometheus.query('up{job=~"mercato-.*"}')
        assert len(up) == 8 and set(up.values()) == {1.0}  # seven services and the gateway
        assert "MercatoConsumerStopped" not in prometheus.firing()

        # Notifications hangs (stopped, its port still open) while orders keep coming.
        os.killpg(notifications.pid, signal.SIGSTOP)
        buy(platform, gateway, auth, sku)
        prometheus.wait_for(lambda: "MercatoConsumerStopped" in prometheus.firing(), "the alert")
        alerts = httpx.get(f"{prometheus.url}/api/v1/alerts").json()["data"]["alerts"]
        stopped = {
            alert["labels"]["consumer"]
            for alert in alerts
            if alert["labels"]["alertname"] == "MercatoConsumerStopped" and alert["state"] == "firing"
        }
        assert "notifications-order" in stopped
        assert all(
            alert["labels"]["service"] == "notifications" for alert in alerts if "consumer" in alert["labels"]
        )
