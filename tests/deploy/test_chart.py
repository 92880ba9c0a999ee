"""The Helm chart, rendered by Helm's own engine with its default and production-like values:
every manifest valid for Kubernetes, the values checked by values.schema.json, and what the
pods run, probe and are allowed to do matches the product."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from merge_assist.health.endpoints import router as health_router
from merge_assist.ingest.endpoints import router as ingest_router
from merge_assist.kit.settings import Settings
from tests.deploy.conftest import (
    CHART,
    RELEASE,
    VALUES_SETS,
    Rendered,
    is_cli_invocation,
    render,
    values_of,
)

# The oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and the newest schemas known.
KUBERNETES_VERSIONS = ["1.28", kubernetes_validate.latest_version()]
# Custom resources: no schema in kubernetes-validate; their shape is checked below instead.
CUSTOM_KINDS = {
    "ServiceMonitor": "monitoring.coreos.com/v1",
    "ExternalSecret": "external-secrets.io/v1",
}
FULLNAME = f"{RELEASE}-merge-assist"
ROLES = ["api", "listener", "worker", "watcher"]


def test_chart_declares_the_kubernetes_it_is_validated_for() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["kubeVersion"] == ">=1.28.0-0"
    assert chart["apiVersion"] == "v2"


def test_helm_lint_finds_nothing() -> None:
    import helm_python as helm

    for values_set in VALUES_SETS:
        result = helm.lint(str(CHART), values=values_of(values_set))
        assert result["errors"] == [], result
        assert result["messages"] == [], result


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_is_valid_kubernetes(rendered: Rendered, version: str) -> None:
    checked = 0
    for manifest in rendered.manifests:
        if manifest["kind"] in CUSTOM_KINDS:
            assert manifest["apiVersion"] == CUSTOM_KINDS[manifest["kind"]]
            continue
        kubernetes_validate.validate(manifest, version, strict=True)
        checked += 1
    assert checked >= 10


def test_each_role_runs_a_real_command_with_the_same_image(rendered: Rendered) -> None:
    images = set()
    for role in ROLES:
        deployment = rendered.named("Deployment", f"{FULLNAME}-{role}")
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["args"] == [role]
        assert is_cli_invocation(container["args"])
        images.add(container["image"])
    job = rendered.named("Job", f"{FULLNAME}-migrations")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["db", "upgrade"]
    assert is_cli_invocation(container["args"])
    images.add(container["image"])
    assert len(images) == 1


def test_migrations_run_as_a_hook_before_install_and_upgrade(rendered: Rendered) -> None:
    annotations = rendered.named("Job", f"{FULLNAME}-migrations")["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    # What the Job reads must exist before it: a chart-made runtime Secret is an earlier hook.
    for kind in ("Secret", "ExternalSecret"):
        for made in rendered.of_kind(kind):
            hook_weight = int(made["metadata"]["annotations"]["helm.sh/hook-weight"])
            assert hook_weight < int(annotations["helm.sh/hook-weight"])


def _http_paths() -> set[str]:
    return {route.path for route in [*health_router.routes, *ingest_router.routes]}  # type: ignore[attr-defined]


def test_http_roles_probe_the_real_health_routes(rendered: Rendered) -> None:
    for role in ("api", "listener"):
        pod = rendered.named("Deployment", f"{FULLNAME}-{role}")["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        probes = {
            kind: container[kind]["httpGet"]
            for kind in ("startupProbe", "livenessProbe", "readinessProbe")
        }
        assert probes["livenessProbe"]["path"] == "/api/health"
        assert probes["readinessProbe"]["path"] == "/api/health/ready"
        for probe in probes.values():
            assert probe["path"] in _http_paths()
            assert probe["port"] == "http"
        assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
        # The kubelet names the pod's address as Host: the product must answer to it.
        env = {item["name"]: item for item in container["env"]}
        assert env["MERGE_ASSIST_ALLOWED_HOSTS"]["value"].startswith("$(POD_IP)")
        assert env["POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"


def test_pods_are_locked_down(rendered: Rendered) -> None:
    pods = [d["spec"]["template"]["spec"] for d in rendered.of_kind("Deployment")]
    pods += [j["spec"]["template"]["spec"] for j in rendered.of_kind("Job")]
    assert len(pods) == 5
    for pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["readOnlyRootFilesystem"] is True
            assert context["capabilities"] == {"drop": ["ALL"]}
            assert context["runAsUser"] >= 10000
            assert set(container["resources"]) == {"requests", "limits"}
            mounts = {m["mountPath"] for m in container["volumeMounts"]}
            assert {"/data", "/tmp"} <= mounts  # the only writable places


def test_settings_are_real_settings(rendered: Rendered) -> None:
    """Every MERGE_ASSIST_* variable the chart sets is a field of the product's Settings."""
    fields = {f"MERGE_ASSIST_{name.upper()}" for name in Settings.model_fields}
    names = set(rendered.named("ConfigMap", FULLNAME)["data"])
    for workload in [*rendered.of_kind("Deployment"), *rendered.of_kind("Job")]:
        for container in workload["spec"]["template"]["spec"]["containers"]:
            names |= {item["name"] for item in container.get("env", []) if item["name"] != "POD_IP"}
    for secret in rendered.of_kind("Secret"):
        names |= set(secret["stringData"])
    assert names - fields == set()
    assert {"MERGE_ASSIST_DATA_DIR", "MERGE_ASSIST_SECRETS_PROVIDER"} <= names


def test_workloads_read_the_runtime_secret_and_config(rendered: Rendered) -> None:
    secret_name = rendered.values.get("runtimeSecret", {}).get("name") or f"{FULLNAME}-runtime"
    for role in ROLES:
        (container,) = rendered.named("Deployment", f"{FULLNAME}-{role}")["spec"]["template"][
            "spec"
        ]["containers"]
        assert {"configMapRef": {"name": FULLNAME}} in container["envFrom"]
        assert {"secretRef": {"name": secret_name}} in container["envFrom"]


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In"
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def _pod_labels(rendered: Rendered, role: str) -> dict[str, str]:
    deployment = rendered.named("Deployment", f"{FULLNAME}-{role}")
    labels: dict[str, str] = deployment["spec"]["template"]["metadata"]["labels"]
    assert _selects(deployment["spec"]["selector"], labels)
    return labels


def test_services_budgets_and_autoscalers_point_at_the_right_pods(rendered: Rendered) -> None:
    for role in ("api", "listener"):
        service = rendered.named("Service", f"{FULLNAME}-{role}")
        assert _selects({"matchLabels": service["spec"]["selector"]}, _pod_labels(rendered, role))
        assert not _selects(
            {"matchLabels": service["spec"]["selector"]}, _pod_labels(rendered, "worker")
        )
    for budget in rendered.of_kind("PodDisruptionBudget"):
        role = budget["metadata"]["labels"]["app.kubernetes.io/component"]
        assert _selects(budget["spec"]["selector"], _pod_labels(rendered, role))
    scaled = set()
    for autoscaler in rendered.of_kind("HorizontalPodAutoscaler"):
        target = autoscaler["spec"]["scaleTargetRef"]
        deployment = rendered.named("Deployment", target["name"])
        assert "replicas" not in deployment["spec"]  # the autoscaler owns it
        scaled.add(deployment["metadata"]["labels"]["app.kubernetes.io/component"])
    assert scaled <= {"api", "listener"}
    if rendered.values_set != "trial-values":
        assert scaled == {"api", "listener"}
        assert {
            b["metadata"]["labels"]["app.kubernetes.io/component"]
            for b in rendered.of_kind("PodDisruptionBudget")
        } == {"api", "listener", "worker"}


def test_network_policies_cover_every_pod_and_open_only_http(rendered: Rendered) -> None:
    policies = rendered.of_kind("NetworkPolicy")
    assert policies
    for role in ROLES:
        labels = _pod_labels(rendered, role)
        assert any(_selects(p["spec"]["podSelector"], labels) for p in policies)
        ingress_rules = [
            rule
            for p in policies
            if _selects(p["spec"]["podSelector"], labels)
            for rule in p["spec"].get("ingress", [])
        ]
        if role in ("worker", "watcher"):
            assert ingress_rules == []
        else:
            assert all(
                rule["ports"] == [{"port": 8080, "protocol": "TCP"}] for rule in ingress_rules
            )


def test_ingress_sends_the_webhook_to_the_listener(rendered: Rendered) -> None:
    ingresses = rendered.of_kind("Ingress")
    if not rendered.values.get("ingress", {}).get("enabled"):
        assert ingresses == []
        return
    (ingress,) = ingresses
    paths = {
        p["path"]: p["backend"]["service"]["name"]
        for p in ingress["spec"]["rules"][0]["http"]["paths"]
    }
    assert paths == {"/webhook/gitlab": f"{FULLNAME}-listener", "/": f"{FULLNAME}-api"}
    assert "/webhook/gitlab" in _http_paths()


def test_production_values_use_irsa_external_secrets_and_monitoring() -> None:
    production = render(values_of("production-values"), "production-values")
    account = production.named("ServiceAccount", FULLNAME)
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].startswith(
        "arn:aws:iam::"
    )
    (external,) = production.of_kind("ExternalSecret")
    assert external["spec"]["target"]["name"] == f"{FULLNAME}-runtime"
    (monitor,) = production.of_kind("ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    assert production.of_kind("Secret") == []  # no secret value passes through Helm
    (container,) = production.named("Deployment", f"{FULLNAME}-api")["spec"]["template"]["spec"][
        "containers"
    ]
    assert re.fullmatch(r".+:0\.1\.0@sha256:[0-9a-f]{64}", container["image"])
    assert production.named("ConfigMap", FULLNAME)["data"]["MERGE_ASSIST_SECRETS_PROVIDER"] == "aws"
    assert "merge-assist/gitlab-bot-token" in production.notes


def test_the_public_url_defaults_to_the_ingress_host() -> None:
    values = {"ingress": {"enabled": True, "host": "ma.example.org"}}
    config = render(values).named("ConfigMap", FULLNAME)["data"]
    assert config["MERGE_ASSIST_PUBLIC_URL"] == "https://ma.example.org"
    config = render({"config": {"publicUrl": "https://x.example.org"}, **values}).named(
        "ConfigMap", FULLNAME
    )["data"]
    assert config["MERGE_ASSIST_PUBLIC_URL"] == "https://x.example.org"
    notes = render({}).notes
    assert "WARNING: config.publicUrl is empty" in notes


def test_notes_tell_how_to_start(rendered: Rendered) -> None:
    assert "merge-assist projects add" in rendered.notes
    assert "merge-assist users create" in rendered.notes


# --- values.schema.json ----------------------------------------------------------------------

SCHEMA = json.loads((CHART / "values.schema.json").read_text())


def _merged(values: dict[str, Any]) -> dict[str, Any]:
    defaults: dict[str, Any] = yaml.safe_load((CHART / "values.yaml").read_text())

    def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(base)
        for key, value in extra.items():
            out[key] = (
                merge(out[key], value)
                if isinstance(value, dict) and isinstance(out.get(key), dict)
                else value
            )
        return out

    return merge(defaults, values)


@pytest.mark.parametrize("values_set", VALUES_SETS)
def test_values_files_meet_the_schema(values_set: str) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.Draft202012Validator(SCHEMA).validate(_merged(values_of(values_set)))


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"securityContext": {"readOnlyRootFilesystem": False}}, "readOnlyRootFilesystem"),
        ({"podSecurityContext": {"runAsNonRoot": False}}, "runAsNonRoot"),
        (
            {"runtimeSecret": {"create": True, "values": {"MERGE_ASSIST_REDIS_URL": "redis://r"}}},
            "MERGE_ASSIST_DATABASE_URL",
        ),
        ({"config": {"secretsProvider": "vault"}}, "secretsProvider"),
        ({"config": {"extra": {"GITLAB_URL": "x"}}}, "GITLAB_URL"),
        ({"image": {"digest": "latest"}}, "digest"),
        ({"watcher": {"replicas": 5}}, "replicas"),
        ({"worker": {"replica": 3}}, "replica"),
    ],
)
def test_helm_refuses_values_the_schema_forbids(values: dict[str, Any], complaint: str) -> None:
    import helm_python as helm

    with pytest.raises(helm.HelmValuesError, match=complaint):
        render(values)


def test_values_are_documented_in_the_chart_readme() -> None:
    """Every leaf of values.yaml has its row in the README's table."""
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    documented = set(
        re.findall(r"^\| `([^`]+)` \|", (CHART / "README.md").read_text(), re.MULTILINE)
    )

    def leaves(node: Any, prefix: str) -> list[str]:
        if (
            isinstance(node, dict)
            and node
            and not prefix.endswith(("resources", "requests", "limits"))
        ):
            return [
                leaf
                for key, value in node.items()
                for leaf in leaves(value, f"{prefix}.{key}" if prefix else key)
            ]
        return [prefix]

    assert set(leaves(defaults, "")) - documented == set()
