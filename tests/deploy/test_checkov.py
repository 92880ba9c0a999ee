"""checkov (deploy/tools/checkov, its own locked environment) over the Dockerfile, the chart
rendered by Helm with its default and production-like values, and the Terraform: nothing fails,
the skips are the documented ones, and the properties that matter were checked and passed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

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


def test_checkov_passes_the_dockerfile_the_chart_and_the_terraform(tmp_path: Path) -> None:
    """One test, so one pytest-xdist worker runs checkov once (it takes ~10 s to start)."""
    reports = _scan(tmp_path)
    assert set(reports) == {"dockerfile", "kubernetes", "terraform"}
    assert reports["kubernetes"]["summary"]["resource_count"] >= 30
    assert reports["terraform"]["summary"]["resource_count"] >= 15
    # The global skips are few, and each has its reason in deploy/checkov.yaml.
    config = yaml.safe_load((DEPLOY / "checkov.yaml").read_text())
    assert config["skip-check"] == ["CKV_K8S_35", "CKV_K8S_43"]
    problems = []
    for framework, report in sorted(reports.items()):
        results = report["results"]
        if report["summary"]["parsing_errors"]:
            problems.append(f"{framework}: parsing errors {report['summary']}")
        problems += [
            f"{framework}: FAILED {c['check_id']} {c['resource']}: {c['check_name']}"
            for c in results["failed_checks"]
        ]
        skipped = {c["check_id"] for c in results["skipped_checks"]}
        if skipped != IN_PLACE_SKIPS[framework]:
            problems.append(
                f"{framework}: skipped {sorted(skipped)}, documented {IN_PLACE_SKIPS[framework]}"
            )
        problems += [
            f"{framework}: {c['check_id']} skipped without a reason"
            for c in results["skipped_checks"]
            if len(c["check_result"].get("suppress_comment", "")) < 20
        ]
        passed = {c["check_id"] for c in results["passed_checks"]}
        if MUST_PASS[framework] - passed:
            problems.append(f"{framework}: not passed: {sorted(MUST_PASS[framework] - passed)}")
    assert problems == []


def _parsed_terraform() -> dict[str, dict[str, Any]]:
    """Every .tf file parsed by python-hcl2 (checkov's own parser, in its environment)."""
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
    return parsed


def test_module_blocks_use_the_modules_real_inputs_and_outputs() -> None:
    """The registry modules cannot be downloaded here: their interface at the versions used,
    read from their sources (terraform_modules.json), stands in for `terraform validate`."""
    interfaces = json.loads((Path(__file__).parent / "terraform_modules.json").read_text())
    parsed = _parsed_terraform()
    modules = {
        name: body
        for file in parsed.values()
        for block in file.get("module", [])
        for name, body in block.items()
    }
    text = "".join(path.read_text() for path in TERRAFORM.glob("*.tf"))
    meta = {"source", "version", "providers", "depends_on", "count", "for_each"}
    for name, body in modules.items():
        interface = interfaces[body["source"][0]]
        assert body["version"][0] == "~> " + interface["tag"].lstrip("v").split(".")[0] + ".0"
        inputs = {key for key in body if not key.startswith("__")} - meta
        assert inputs - set(interface["inputs"]) == set(), name
        used = set(re.findall(rf"module\.{name}\.(\w+)", text))
        assert used
        assert used - set(interface["outputs"]) == set(), name
    for group in modules["eks"]["eks_managed_node_groups"][0].values():
        keys = {key for key in group if not key.startswith("__")}
        assert (
            keys - set(interfaces["terraform-aws-modules/eks/aws"]["eks_managed_node_groups"])
            == set()
        )


def test_terraform_parses_and_documents_every_variable_and_output() -> None:
    parsed = _parsed_terraform()
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
