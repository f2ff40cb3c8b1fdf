"""The Grafana dashboard (deploy/grafana/academy-dashboard.json) and the scrape that feeds it: every
panel queries only the platform's own series, each of which GET /metrics really serves, and
Prometheus reaches /metrics through the web Service with a Host the site accepts."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from tests.deploy.conftest import REPO, k8s

DASHBOARD = REPO / "deploy" / "grafana" / "academy-dashboard.json"
SCRAPE_CONFIG = REPO / "deploy" / "prometheus" / "scrape-config.yaml"
# The series of config/prometheus.py: those the dashboard is for, and three it shows besides.
REQUIRED = {
    "academy_queue_length",
    "academy_runs_total",
    "academy_run_duration_seconds",
    "academy_queue_wait_seconds",
    "academy_gpu_memory_used_bytes",
    "academy_gpu_memory_total_bytes",
    "academy_gpu_utilization_ratio",
    "academy_lab_workers",
}
ALSO_SHOWN = {"academy_runs_active", "academy_runs_waiting", "academy_broker_up"}
HISTOGRAMS = {"academy_run_duration_seconds", "academy_queue_wait_seconds"}
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset"}


def panels(node: dict) -> list[dict]:
    found = []
    for panel in node.get("panels", []):
        found += panels(panel) if panel["type"] == "row" else [panel]
    return found


def series_of(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: identifiers that are not functions, label
    names (in braces or by/without/on/ignoring lists), keywords, ranges, strings or numbers."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    names = set(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*(?!\s*\()\b", text))
    return {name for name in names if name not in PROMQL_WORDS and not re.fullmatch(r"e\d*|Inf|NaN", name)}


def dashboard_series() -> dict[str, set[str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return {
        f"{panel['title']} / {target['refId']}": series_of(target["expr"])
        for panel in panels(dashboard)
        for target in panel["targets"]
    }


def family_of(series: str) -> str:
    for suffix in ("_bucket", "_sum", "_count"):
        if series.removesuffix(suffix) in HISTOGRAMS:
            return series.removesuffix(suffix)
    return series


def test_the_expression_reader_finds_metrics_and_nothing_else() -> None:
    expr = (
        'histogram_quantile(0.95, max by (le, device_class) (rate(academy_run_duration_seconds_bucket{job="x"}[5m])))'
    )
    assert series_of(expr) == {"academy_run_duration_seconds_bucket"}
    assert series_of("max by (worker, gpu) (a_used) / max by (worker, gpu) (a_total)") == {"a_used", "a_total"}


def test_every_panel_queries_only_the_platforms_series() -> None:
    used = dashboard_series()
    assert len(used) >= 10
    for where, series in used.items():
        assert series, f"{where} queries nothing"
        assert {family_of(name) for name in series} <= REQUIRED | ALSO_SHOWN, where


def test_the_dashboard_shows_every_series_it_is_for() -> None:
    used = {family_of(name) for series in dashboard_series().values() for name in series}
    assert used >= REQUIRED
    for histogram in HISTOGRAMS:  # p50 and p95 of each, from the buckets
        exprs = [t["expr"] for p in panels(json.loads(DASHBOARD.read_text())) for t in p["targets"]]
        assert any("histogram_quantile(0.5, " in e and histogram in e for e in exprs)
        assert any("histogram_quantile(0.95, " in e and histogram in e for e in exprs)


def test_the_dashboard_is_importable_anywhere() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"]
    assert [v["type"] for v in dashboard["templating"]["list"]] == ["datasource"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in panels(dashboard):
        assert panel["datasource"]["uid"] == "${datasource}"


@pytest.mark.django_db
def test_every_series_the_dashboard_queries_is_served_by_get_metrics(settings: object) -> None:
    settings.METRICS_CACHE_SECONDS = 0
    settings.METRICS_TOKEN = ""
    response = Client().get("/metrics")
    assert response.status_code == 200
    served: set[str] = set()
    for family in text_string_to_metric_families(response.content.decode()):
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}.get(family.type, [""])
        served |= {family.name + suffix for suffix in suffixes}
    used = {name for series in dashboard_series().values() for name in series}
    assert used <= served, used - served


def relabel(rules: list[dict], labels: dict[str, str]) -> dict[str, str] | None:
    """Prometheus's relabelling, for the `keep` and `replace` rules a scrape job uses."""
    for rule in rules:
        value = rule.get("separator", ";").join(labels.get(name, "") for name in rule["source_labels"])
        match = re.fullmatch(rule.get("regex", "(.*)"), value)
        if rule.get("action", "replace") == "keep":
            if match is None:
                return None
        elif match is not None:
            labels[rule["target_label"]] = match.expand(rule.get("replacement", "$1").replace("$", "\\"))
    return labels


def test_prometheus_scrapes_the_web_service_once_at_its_metrics_path() -> None:
    service = k8s("Service")["academy-web"]
    meta = {
        "__address__": "academy-web.ai-academy.svc:80",
        "__scheme__": "http",
        "__metrics_path__": "/metrics",
        "__meta_kubernetes_namespace": "ai-academy",
        "__meta_kubernetes_service_name": service["metadata"]["name"],
    }
    for key, value in service["metadata"]["annotations"].items():
        meta["__meta_kubernetes_service_annotation_" + re.sub(r"[^A-Za-z0-9]", "_", key)] = value
    (job,) = yaml.safe_load(SCRAPE_CONFIG.read_text())["scrape_configs"]
    target = relabel(job["relabel_configs"], meta)
    assert target is not None
    port = int(service["metadata"]["annotations"]["prometheus.io/port"])
    assert port in [p["port"] for p in service["spec"]["ports"]]
    assert (target["__scheme__"], target["__address__"], target["__metrics_path__"]) == (
        "http",
        f"academy-web.ai-academy.svc:{port}",
        "/metrics",
    )
    # A Service without the annotation is not scraped.
    assert relabel(job["relabel_configs"], {k: v for k, v in meta.items() if "prometheus_io_scrape" not in k}) is None


@pytest.mark.django_db
def test_the_site_answers_the_scrapes_host_with_the_clusters_allowed_hosts(settings: object) -> None:
    # The site answers 400 to a Host outside ALLOWED_HOSTS: the Service's name, which is the Host
    # of the scrape, is in the cluster's list.
    config = k8s("ConfigMap")["academy-config"]["data"]
    settings.ALLOWED_HOSTS = config["ALLOWED_HOSTS"].split(",")
    settings.METRICS_CACHE_SECONDS = 0
    settings.METRICS_TOKEN = ""
    response = Client().get("/metrics", HTTP_HOST="academy-web.ai-academy.svc:80")
    assert response.status_code == 200
