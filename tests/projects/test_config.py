"""The configuration rules (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from merge_assist.kit.errors import Unprocessable
from merge_assist.projects.config import (
    DEFAULT_LABELS,
    LABEL_KEYS,
    branch_name_problem,
    build_config,
    default_config,
)


def test_defaults_follow_the_spec() -> None:
    config = default_config("develop")
    assert config.target_branches == ("develop",)
    assert (config.strategy, config.batch_size, config.train_depth) == ("single", 5, 3)
    assert config.parallel_tests == 4
    assert config.pipeline_retries == 1
    assert config.polling_interval_seconds == 300
    assert config.max_rejections == 3
    assert config.landing == "merge_api"
    assert config.webhook_enabled is True
    assert config.ai_debug_enabled is False
    assert config.labels == DEFAULT_LABELS
    assert config.label("rejected") == "Merge Assist: Rejected"
    assert set(LABEL_KEYS) == {"recognized", "not_ready", "rejected", "ready_to_merge", "batch_mr"}


def test_labels_merge_key_by_key() -> None:
    config = build_config(
        default_config("main"), {"labels": {"rejected": "Denied"}}, max_batch_size=20
    )
    assert config.labels["rejected"] == "Denied"
    assert config.labels["recognized"] == DEFAULT_LABELS["recognized"]


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"strategy": "zipper"}, "strategy: 'zipper' is not a strategy this version runs"),
        ({"strategy": "yolo"}, "choose one of single, batch, train"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 21}, "batch_size: at most 20"),
        ({"train_depth": 11}, "train_depth"),
        ({"parallel_tests": 0}, "parallel_tests: Input should be greater than or equal to 1"),
        ({"parallel_tests": 21}, "parallel_tests: Input should be less than or equal to 20"),
        ({"pipeline_retries": -1}, "pipeline_retries: Input should be greater than or equal to 0"),
        ({"pipeline_retries": 4}, "pipeline_retries: Input should be less than or equal to 3"),
        ({"polling_interval_seconds": 5}, "polling_interval_seconds"),
        ({"max_rejections": 0}, "max_rejections"),
        ({"labels": {"shiny": "x"}}, "unknown label key(s) shiny"),
        ({"labels": {"rejected": "  "}}, "the label for rejected needs a name"),
        ({"target_branches": []}, "target_branches"),
        ({"target_branches": ["main", "main"]}, "only once"),
        ({"target_branches": ["has space"]}, "not a valid branch name"),
        ({"landing": "carrier-pigeon"}, "not a landing method"),
    ],
)
def test_invalid_changes_are_refused_with_a_sentence(
    changes: dict[str, object], fragment: str
) -> None:
    with pytest.raises(Unprocessable) as refused:
        build_config(default_config("main"), changes, max_batch_size=20)
    assert refused.value.message.startswith("Invalid configuration: ")
    assert fragment in refused.value.message


@pytest.mark.parametrize("name", ["main", "release/1.2", "feature/a-b_c", "v2"])
def test_ordinary_branch_names_are_valid(name: str) -> None:
    assert branch_name_problem(name) is None


@pytest.mark.parametrize(
    "name", ["", "a..b", "-x", "x/", "x.lock", "a b", "a~1", "a:b", "x//y", "@", ".hidden", "a@{b"]
)
def test_bad_branch_names_are_refused(name: str) -> None:
    assert branch_name_problem(name) is not None


@given(st.text(max_size=40))
def test_branch_check_never_crashes_and_refuses_control_characters(name: str) -> None:
    problem = branch_name_problem(name)
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in name):
        assert problem is not None
