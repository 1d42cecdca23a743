"""The deployment files agree with each other and with the worker's code.

No Docker engine runs in CI, so compose, Dockerfile, Prometheus and Grafana files are
checked as data: names, ports and paths across files; metrics against the code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from streams.infra.metrics import Metrics
from streams.infra.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SECRET_KEY = re.compile(r"PASSWORD|SECRET|TOKEN")
# Monitoring must run to report a worker that never becomes healthy.
STARTS_WITHOUT_WAITING = {("prometheus", "worker")}
SUBSTITUTION = re.compile(r"\$\{([A-Z][A-Z0-9_]*)(?::?[-?][^}]*)?\}")


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _datasources() -> dict[str, Any]:
    provisioned = _yaml(DEPLOY / "grafana/provisioning/datasources/datasources.yml")
    return {source["uid"]: source for source in provisioned["datasources"]}


def _variable(value: str) -> str:
    """The variable a ``${VAR:-default}`` value takes from the environment."""
    match = SUBSTITUTION.fullmatch(value)
    assert match, f"{value!r} is not a ${{VAR}} substitution"
    return match.group(1)


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    return _yaml(ROOT / "docker-compose.yml")["services"]


def _env(service: dict[str, Any]) -> dict[str, str]:
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {key: str(value) for key, value in raw.items()}


def _container_ports(service: dict[str, Any]) -> set[int]:
    ports = {int(str(p).split("/")[0]) for p in service.get("expose", [])}
    for port in service.get("ports", []):
        target = port["target"] if isinstance(port, dict) else port.split(":")[-1]
        ports.add(int(str(target).split("/")[0]))
    return ports


def _bind_mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path -> host path, for mounts of files from the repository."""
    mounts = [v.split(":") for v in service.get("volumes", []) if v.startswith(".")]
    return {target: source for source, target, *_ in mounts}


def _dashboard(services: dict[str, Any], name: str) -> Any:
    """A dashboard as Grafana's provisioning finds it in the mounted folder."""
    (provider,) = _yaml(DEPLOY / "grafana/provisioning/dashboards/dashboards.yml")[
        "providers"
    ]
    folder = ROOT / _bind_mounts(services["grafana"])[provider["options"]["path"]]
    return json.loads((folder / name).read_text())


def _listeners(value: str) -> dict[str, tuple[str, int]]:
    """``NAME://host:port,...`` -> {NAME: (host, port)}."""
    found = re.findall(r"(\w+)://([^:,]*):(\d+)", value)
    return {name: (host, int(port)) for name, host, port in found}


def _exported_series() -> set[str]:
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
    return {
        family.name + suffix
        for family in Metrics().registry.collect()
        for suffix in suffixes.get(family.type, ("",))
    }


def _metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression selects (not functions, labels or keywords)."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    expr = re.sub(r"\{[^}]*\}|\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_\w+)\s*\([^)]*\)", "", expr)
    tokens = re.finditer(r"(?<![\w.$])[A-Za-z_:][\w:]*+(?!\s*\()", expr)
    keywords = {"and", "or", "unless", "bool", "offset", "inf", "nan"}
    return {t.group() for t in tokens if t.group().lower() not in keywords}


def test_promql_metric_extraction_sees_misspelled_names_only() -> None:
    expr = 'histogram_quantile(0.9, sum by (le) (rate(quotaflw_b{job="a"}[5m]))) > 1'
    assert _metric_names(expr) == {"quotaflw_b"}
    assert _metric_names("up == 0 and on (instance) foo") == {"up", "foo"}


def test_compose_runs_the_production_services_on_pinned_official_images(
    services: dict[str, Any],
) -> None:
    assert {"kafka", "clickhouse", "worker", "prometheus", "grafana"} <= set(services)
    images = {name: s["image"] for name, s in services.items() if "build" not in s}
    for name, image in images.items():
        assert ":" in image, f"{name} image has no tag"
        assert image.rsplit(":", 1)[1] not in {"latest", ""}, name
    assert images["kafka"].startswith("apache/kafka:")
    clickhouse_repo, clickhouse_tag = images["clickhouse"].split(":")
    assert clickhouse_repo == "clickhouse/clickhouse-server"
    assert clickhouse_tag.split(".")[0] == "26"
    assert images["prometheus"].startswith("prom/prometheus:v")
    assert images["grafana"].startswith("grafana/grafana:")


def test_compose_runs_kafka_in_kraft_mode(services: dict[str, Any]) -> None:
    env = _env(services["kafka"])
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    listeners = _listeners(env["KAFKA_LISTENERS"])
    controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    protocols = env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
    assert set(listeners) == {protocol.split(":")[0] for protocol in protocols}
    node, voter = env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split("@")
    assert node == env["KAFKA_NODE_ID"]
    assert voter == f"kafka:{listeners[controller][1]}"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "1"
    health = " ".join(services["kafka"]["healthcheck"]["test"])
    assert f"--bootstrap-server localhost:{listeners['PLAINTEXT'][1]}" in health
    assert "zookeeper" not in json.dumps(services).lower()


def test_every_dependency_exists_and_waits_for_health(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for target, spec in (service.get("depends_on") or {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            if "healthcheck" not in services[target]:
                assert spec.get("condition") != "service_healthy", name
            elif (name, target) in STARTS_WITHOUT_WAITING:
                assert spec.get("condition") == "service_started", name
            else:
                assert spec.get("condition") == "service_healthy", f"{name}->{target}"
    for target in services["worker"]["depends_on"]:
        assert "healthcheck" in services[target], f"{target} has no healthcheck"


def test_worker_reaches_kafka_on_an_advertised_listener(
    services: dict[str, Any],
) -> None:
    kafka = _env(services["kafka"])
    bound = _listeners(kafka["KAFKA_LISTENERS"])
    advertised = {
        address: name
        for name, address in _listeners(kafka["KAFKA_ADVERTISED_LISTENERS"]).items()
    }
    clients = [s for s in services.values() if "QUOTAFLOW_BOOTSTRAP_SERVERS" in _env(s)]
    assert services["worker"] in clients
    for service in clients:
        for server in _env(service)["QUOTAFLOW_BOOTSTRAP_SERVERS"].split(","):
            host, port = server.rsplit(":", 1)
            assert host == "kafka"
            # Inside the compose network the advertised port is the bound port.
            assert bound[advertised[host, int(port)]][1] == int(port)


def test_worker_reaches_the_clickhouse_service(services: dict[str, Any]) -> None:
    worker, server = _env(services["worker"]), _env(services["clickhouse"])
    assert worker["QUOTAFLOW_CLICKHOUSE_MODE"] == "server"
    assert worker["QUOTAFLOW_CLICKHOUSE_HOST"] == "clickhouse"
    assert int(worker["QUOTAFLOW_CLICKHOUSE_PORT"]) == 8123
    assert 8123 in _container_ports(services["clickhouse"])
    assert worker["QUOTAFLOW_CLICKHOUSE_USER"] == server["CLICKHOUSE_USER"]
    assert worker["QUOTAFLOW_CLICKHOUSE_DATABASE"] == server["CLICKHOUSE_DB"]
    assert _variable(worker["QUOTAFLOW_CLICKHOUSE_PASSWORD"]) == _variable(
        server["CLICKHOUSE_PASSWORD"]
    )


def test_worker_environment_names_real_settings(services: dict[str, Any]) -> None:
    # Settings ignores unknown QUOTAFLOW_* names, so a typo would pass silently.
    for name in ("worker", "generator"):
        env = _env(services[name])
        fields = {key.removeprefix("QUOTAFLOW_").lower(): v for key, v in env.items()}
        assert set(fields) <= set(Settings.model_fields), name
        Settings(**fields)


def test_worker_health_is_checked_on_its_web_port(services: dict[str, Any]) -> None:
    worker = services["worker"]
    port = int(_env(worker)["QUOTAFLOW_WEB_PORT"])
    assert port in _container_ports(worker)
    assert f"localhost:{port}/health" in " ".join(worker["healthcheck"]["test"])
    assert worker["command"][:2] == ["quotaflow", "worker"]


def test_the_worker_listens_on_all_interfaces_only_inside_its_container(
    services: dict[str, Any],
) -> None:
    worker = services["worker"]
    # Prometheus scrapes it over the compose network; the host sees loopback only.
    assert _env(worker)["QUOTAFLOW_WEB_BIND"] == "0.0.0.0"  # noqa: S104
    assert all(str(port).startswith("127.0.0.1:") for port in worker["ports"])


def test_prometheus_scrapes_the_worker(services: dict[str, Any]) -> None:
    config = _yaml(DEPLOY / "prometheus/prometheus.yml")
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "quotaflow"]
    port = _env(services["worker"])["QUOTAFLOW_WEB_PORT"]
    targets = [t for group in job["static_configs"] for t in group["targets"]]
    assert targets == [f"worker:{port}"]
    assert job.get("metrics_path", "/metrics") == "/metrics"
    mounts = _bind_mounts(services["prometheus"])
    for rule_file in config["rule_files"]:
        assert f"/etc/prometheus/{rule_file}" in mounts


def test_mounted_files_and_build_inputs_exist(services: dict[str, Any]) -> None:
    declared = set(_yaml(ROOT / "docker-compose.yml")["volumes"])
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in declared, f"{name} uses undeclared volume {source}"
        if "build" in service:
            context = ROOT / service["build"]["context"]
            assert (context / service["build"]["dockerfile"]).is_file()


def test_dockerfile_installs_the_three_packages_as_non_root() -> None:
    lines = (DEPLOY / "Dockerfile").read_text().splitlines()
    assert next(ln for ln in lines if ln.startswith("FROM")) == "FROM python:3.11-slim"
    copies = [ln.split()[1:-1] for ln in lines if ln.startswith("COPY ")]
    copied = {source.rstrip("/") for sources in copies for source in sources}
    assert {"domain", "streams", "projections", "pyproject.toml"} <= copied
    ignored = {ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines()}
    for source in copied:
        assert (ROOT / source).exists(), source
        assert source not in ignored, f".dockerignore hides {source}"
    users = [ln.split()[1] for ln in lines if ln.startswith("USER ")]
    assert users and users[-1] not in {"root", "0"}
    assert "EXPOSE 6066" in lines


def test_alert_rules_use_only_exported_metrics() -> None:
    (group,) = _yaml(DEPLOY / "prometheus/alerts.yml")["groups"]
    rules = {rule["alert"]: rule for rule in group["rules"]}
    assert set(rules) == {
        "QuotaFlowDeadLetters",
        "QuotaFlowWorkerDown",
        "QuotaFlowSlowProcessing",
        "QuotaFlowLagGrowing",
        "QuotaFlowClickHouseWriteErrors",
    }
    known = _exported_series() | {"up"}
    for name, rule in rules.items():
        used = _metric_names(rule["expr"])
        assert used, f"{name} selects no metric"
        assert used <= known, f"{name} uses unknown {used - known}"
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert {"summary", "description"} <= set(rule["annotations"])
    assert rules["QuotaFlowWorkerDown"]["expr"].startswith('up{job="quotaflow"}')
    assert "kafka_consumergroup_lag_seconds" in rules["QuotaFlowLagGrowing"]["expr"]
    write_errors = rules["QuotaFlowClickHouseWriteErrors"]["expr"]
    assert "quotaflow_clickhouse_write_errors_total" in write_errors


def test_grafana_provisions_both_datasources(services: dict[str, Any]) -> None:
    sources = _datasources()
    host, port = sources["prometheus"]["url"].removeprefix("http://").split(":")
    assert host in services
    assert int(port) in _container_ports(services[host])
    clickhouse = sources["clickhouse"]
    assert clickhouse["type"] == "grafana-clickhouse-datasource"
    assert clickhouse["jsonData"]["host"] == "clickhouse"
    assert clickhouse["jsonData"]["port"] in _container_ports(services["clickhouse"])
    password = clickhouse["secureJsonData"]["password"]
    assert re.fullmatch(r"\$\{?CLICKHOUSE_PASSWORD\}?", password)
    grafana_env = _env(services["grafana"])
    assert _variable(grafana_env["CLICKHOUSE_PASSWORD"]) == "CLICKHOUSE_PASSWORD"


def test_dashboard_charts_every_worker_metric(services: dict[str, Any]) -> None:
    dashboard = _dashboard(services, "quotaflow-operations.json")
    assert dashboard["uid"] == "quotaflow-ops"
    panels = dashboard["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels)
    uids = set(_datasources())
    exported = _exported_series()
    used: set[str] = set()
    for panel in panels:
        assert panel["datasource"]["uid"] in uids
        for target in panel["targets"]:
            used |= _metric_names(target["expr"])
    assert used <= exported, f"unknown metrics {used - exported}"
    families = {f.name for f in Metrics().registry.collect()}
    assert all(any(name.startswith(family) for name in used) for family in families)


def test_no_literal_secrets_in_compose(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for key, value in _env(service).items():
            if SECRET_KEY.search(key):
                assert _variable(value), f"{name}.{key}"


def test_the_board_dashboard_reads_clickhouse(services: dict[str, Any]) -> None:
    dashboard = _dashboard(services, "quotaflow-board.json")
    assert dashboard["uid"] == "quotaflow-board"
    sources = _datasources()
    for panel in dashboard["panels"]:
        uid = panel["datasource"]["uid"]
        assert sources[uid]["type"] == "grafana-clickhouse-datasource"
        (target,) = panel["targets"]
        # Versioned ReplacingMergeTree tables: a row rewritten by a replay counts once.
        assert re.search(r"FROM (ledger_lines|deal_credits) FINAL\b", target["rawSql"])
