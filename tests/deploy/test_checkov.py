"""checkov (deploy/tools/checkov, its own locked environment) over the Dockerfile, the chart
rendered by Helm with its default and production-like values, and the Terraform: nothing fails,
the skips are the documented ones, and the properties that matter were checked and passed."""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.conftest import CHART, DEPLOY, DOCKERFILE, TERRAFORM, render, tool, values_of

# Skips beside their resource, each with its reason (chart annotations, Terraform comments).
IN_PLACE_SKIPS = {
    "kubernetes": {"CKV_K8S_8", "CKV_K8S_9"},  # worker and watcher serve no HTTP
    "terraform": {"CKV_AWS_109", "CKV_AWS_111", "CKV_AWS_356", "CKV_TF_1", "CKV2_AWS_57"},
    "dockerfile": set(),
}
# What the deployment promises, and checkov checks (each must have passed somewhere).
MUST_PASS = {
    "dockerfile": {"CKV_DOCKER_2", "CKV_DOCKER_3", "CKV_DOCKER_7"},  # HEALTHCHECK, USER, pinned tag
    "kubernetes": {
        "CKV_K8S_20",  # no privilege escalation
        "CKV_K8S_22",  # read-only root file system
        "CKV_K8S_23",  # not root
        "CKV_K8S_28",  # NET_RAW dropped
        "CKV_K8S_31",  # seccomp RuntimeDefault
        "CKV_K8S_37",  # capabilities dropped
        "CKV_K8S_38",  # no service account token
        "CKV_K8S_40",  # high uid
        "CKV_K8S_8",  # liveness probes (api, listener)
        "CKV_K8S_9",  # readiness probes
        "CKV_K8S_10",
        "CKV_K8S_11",
        "CKV_K8S_12",
        "CKV_K8S_13",  # requests and limits
        "CKV_K8S_21",  # not the default namespace
    },
    "terraform": {
        "CKV_AWS_16",  # RDS encrypted
        "CKV_AWS_17",  # RDS not public
        "CKV_AWS_157",  # RDS Multi-AZ
        "CKV_AWS_29",  # ElastiCache encrypted at rest
        "CKV_AWS_30",  # ElastiCache TLS in transit
        "CKV_AWS_31",  # ElastiCache AUTH token with TLS
        "CKV_AWS_149",  # Secrets Manager with a customer key
        "CKV_AWS_7",  # KMS rotation
    },
}


def _scan(folder: Path) -> dict[str, Any]:
    """Run checkov once over the Dockerfile, the rendered chart and the Terraform."""
    checkov = tool("checkov")
    shutil.copytree(
        TERRAFORM, folder / "terraform", ignore=shutil.ignore_patterns(".terraform*", "*.md")
    )
    shutil.copy(DOCKERFILE, folder / "Dockerfile")
    (folder / "chart").mkdir()
    for values_set in ("default", "production-values"):
        manifests = render(values_of(values_set), values_set).manifests
        (folder / "chart" / f"{values_set}.yaml").write_text(
            yaml.safe_dump_all(manifests, sort_keys=False)
        )
    # One run for the three frameworks (checkov takes ~10 s to start); offline: no module
    # downloads, no Bridgecrew guideline mapping.
    result = subprocess.run(
        [
            str(checkov),
            "--config-file",
            str(DEPLOY / "checkov.yaml"),
            "-d",
            str(folder),
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
        timeout=240,
    )
    assert result.returncode in (0, 1), result.stderr[-3000:]
    reports = json.loads(result.stdout)
    return {
        report["check_type"]: report
        for report in (reports if isinstance(reports, list) else [reports])
    }


@pytest.fixture(scope="session")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """checkov's reports, made once per test run: pytest-xdist's workers share them through a
    file in their common temporary folder, the first one to take the lock makes it."""
    tool("checkov")
    shared = tmp_path_factory.getbasetemp().parent
    cache = shared / "checkov-reports.json"
    with (shared / "checkov.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not cache.exists():
                cache.write_text(json.dumps(_scan(tmp_path_factory.mktemp("checkov"))))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    reports: dict[str, Any] = json.loads(cache.read_text())
    return reports


def test_checkov_scanned_all_three(scanned: dict[str, Any]) -> None:
    assert set(scanned) == {"dockerfile", "kubernetes", "terraform"}
    for report in scanned.values():
        assert report["summary"]["parsing_errors"] == 0
    assert scanned["kubernetes"]["summary"]["resource_count"] >= 30
    assert scanned["terraform"]["summary"]["resource_count"] >= 15


@pytest.mark.parametrize("framework", ["dockerfile", "kubernetes", "terraform"])
def test_checkov_finds_nothing(scanned: dict[str, Any], framework: str) -> None:
    failed = [
        f"{c['check_id']} {c['resource']}: {c['check_name']}"
        for c in scanned[framework]["results"]["failed_checks"]
    ]
    assert failed == []


@pytest.mark.parametrize("framework", ["dockerfile", "kubernetes", "terraform"])
def test_only_the_documented_skips(scanned: dict[str, Any], framework: str) -> None:
    skipped = scanned[framework]["results"]["skipped_checks"]
    assert {c["check_id"] for c in skipped} == IN_PLACE_SKIPS[framework]
    for check in skipped:
        assert len(check["check_result"].get("suppress_comment", "")) > 20, check["check_id"]
    # The global skips are few, and each has its reason in deploy/checkov.yaml.
    config = (DEPLOY / "checkov.yaml").read_text()
    assert yaml.safe_load(config)["skip-check"] == ["CKV_K8S_35", "CKV_K8S_43"]


@pytest.mark.parametrize("framework", ["dockerfile", "kubernetes", "terraform"])
def test_what_matters_was_checked_and_passed(scanned: dict[str, Any], framework: str) -> None:
    passed = {c["check_id"] for c in scanned[framework]["results"]["passed_checks"]}
    assert MUST_PASS[framework] - passed == set()


def test_terraform_parses_and_documents_every_variable_and_output() -> None:
    python = Path(tool("checkov")).parent / "python"
    program = (
        "import hcl2, json, pathlib, sys\n"
        "files = sorted(pathlib.Path(sys.argv[1]).glob('*.tf'))\n"
        "print(json.dumps({p.name: hcl2.load(p.open()) for p in files}))"
    )
    result = subprocess.run(
        [str(python), "-c", program, str(TERRAFORM)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    parsed: dict[str, dict[str, Any]] = json.loads(result.stdout)
    assert set(parsed) >= {
        "versions.tf",
        "variables.tf",
        "network.tf",
        "eks.tf",
        "data.tf",
        "secrets.tf",
        "iam.tf",
        "outputs.tf",
    }
    for block in parsed["variables.tf"]["variable"]:
        ((name, body),) = block.items()
        assert body.get("description"), name
        assert "default" in body, f"{name}: a sane default"
    outputs = {
        name: body for block in parsed["outputs.tf"]["output"] for name, body in block.items()
    }
    assert all(body.get("description") for body in outputs.values())
    assert {"pod_role_arn", "runtime_secret_name", "chart_values", "cluster_name"} <= set(outputs)
    # An output that names the chart value it feeds names a real one.
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    fed = [
        re.match(r"[A-Za-z.]+", match).group(0).strip(".")  # type: ignore[union-attr]
        for body in outputs.values()
        for match in re.findall(r"chart values? (\S+)", body["description"][0])
    ]
    assert len(fed) >= 5
    for path in fed:
        node = values
        for key in path.split("."):
            node = node[key]
    modules = {
        name: body
        for file in parsed.values()
        for block in file.get("module", [])
        for name, body in block.items()
    }
    assert modules["vpc"]["source"] == ["terraform-aws-modules/vpc/aws"]
    assert modules["eks"]["source"] == ["terraform-aws-modules/eks/aws"]
