"""The Grafana dashboard (``deploy/grafana/merge-assist.json``) queries only metrics the
product registers, and is a well-formed dashboard."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from prometheus_client import REGISTRY

import merge_assist.server.app  # noqa: F401 - imports every module that registers a metric

DASHBOARD = Path(__file__).parents[2] / "deploy" / "grafana" / "merge-assist.json"
SERIES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_sum", "_count"),
    "gauge": ("",),
}


def product_series() -> set[str]:
    """Every series name the product's metrics expose (whether or not sampled yet)."""
    return {
        family.name + suffix
        for family in REGISTRY.collect()
        if family.name.startswith("merge_assist_")
        for suffix in SERIES.get(family.type, ("",))
    }


def queries(dashboard: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


def test_every_metric_the_dashboard_queries_exists() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exposed = product_series()
    used = {name for expr in queries(dashboard) for name in re.findall(r"merge_assist_\w+", expr)}
    assert used, "the dashboard queries nothing"
    assert sorted(used - exposed) == []
    # And it shows every metric the product has (a new one gets a panel).
    families = {name.removesuffix(suffix) for name in used for suffix in ("_bucket", "_total")}
    ours = {f.name for f in REGISTRY.collect() if f.name.startswith("merge_assist_")}
    assert sorted(ours - families) == []


def test_the_dashboard_is_well_formed() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] == "merge-assist"
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == "${datasource}"
        assert panel["targets"], panel["title"]
        assert {t["refId"] for t in panel["targets"]} == {
            chr(65 + i) for i in range(len(panel["targets"]))
        }
