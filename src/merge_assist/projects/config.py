"""A project's merge-queue configuration as a validated value (pure: no I/O).

The same rules check what an admin sends (``PUT /api/projects/{id}/config``, onboarding) and
what is read back from the database, so every feature reading :class:`ProjectConfig` can rely
on them. The strategies are ``single``, ``batch`` and ``train`` (:data:`SUPPORTED_STRATEGIES`);
``train_depth`` is how many cars a train runs at once at most (its depth adapts between 1 and
that). ``parallel_tests`` is how many pipelines a failed
batch may run side by side to find its culprit (1 = one attempt at a time).
``pipeline_retries`` is how often a failed pipeline is retried before its failure strikes
anyone (0 = never: a flake then counts like a real failure). ``skip_ci_on_landing`` asks
GitLab not to run a pipeline on the target for the queue's own landings (their tree passed CI
already): the push carries ``ci.skip``, a batch MR's merge commit says ``[skip ci]``.
``ai_debug_enabled`` opts the project into the assistant's AI summary (once an admin has set
one up: ``docs/assistant.md``); ``explain_on_rejection`` adds the plain diagnosis's next step
to the bot's rejection comment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from merge_assist.kit.errors import Unprocessable

DEFAULT_LABELS: dict[str, str] = {
    "recognized": "Merge Assist: Recognised for Merge",
    "not_ready": "Merge Assist: Not Ready for Merge",
    "rejected": "Merge Assist: Rejected",
    "ready_to_merge": "Merge Assist: Ready to Merge",
    "batch_mr": "Merge Assist: Batch Merge Request",
}
LABEL_KEYS: tuple[str, ...] = tuple(DEFAULT_LABELS)
SUPPORTED_STRATEGIES: tuple[str, ...] = ("single", "batch", "train")
LANDINGS: tuple[str, ...] = ("merge_api", "push")
MAX_TARGET_BRANCHES = 50
MAX_LABEL_LENGTH = 255
MAX_BRANCH_LENGTH = 255

# git check-ref-format, as GitLab applies it to branch names.
_BRANCH_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//")


def branch_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a git branch name, or None when it can."""
    if not name:
        return "a branch name cannot be empty"
    if len(name) > MAX_BRANCH_LENGTH:
        return f"branch names have at most {MAX_BRANCH_LENGTH} characters"
    if _BRANCH_FORBIDDEN.search(name):
        return (
            f"{name!r} is not a valid branch name (no spaces, control characters, "
            "'~ ^ : ? * [ \\', '..', '@{' or '//')"
        )
    if name.startswith(("-", "/", ".")) or name.endswith(("/", ".", ".lock")) or name == "@":
        return f"{name!r} is not a valid branch name (bad start or end)"
    if any(part.startswith(".") or part.endswith(".lock") for part in name.split("/")):
        return f"{name!r} is not a valid branch name (a part starts with '.' or ends in '.lock')"
    return None


class ProjectConfig(BaseModel):
    """How the merge queue runs one project; immutable, every field validated."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    target_branches: tuple[str, ...] = Field(min_length=1, max_length=MAX_TARGET_BRANCHES)
    strategy: str = "single"
    batch_size: int = Field(default=5, ge=1)
    train_depth: int = Field(default=3, ge=1, le=10)
    parallel_tests: int = Field(default=4, ge=1, le=20)
    pipeline_retries: int = Field(default=1, ge=0, le=3)
    skip_ci_on_landing: bool = False
    polling_interval_seconds: int = Field(default=300, ge=10, le=86400)
    labels: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_LABELS))
    webhook_enabled: bool = True
    max_rejections: int = Field(default=3, ge=1, le=20)
    landing: str = "merge_api"
    ai_debug_enabled: bool = False
    explain_on_rejection: bool = False

    @field_validator("target_branches")
    @classmethod
    def _valid_branches(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            problem = branch_name_problem(name)
            if problem:
                raise ValueError(problem)
        if len(set(value)) != len(value):
            raise ValueError("each target branch may be listed only once")
        return value

    @field_validator("strategy")
    @classmethod
    def _known_strategy(cls, value: str) -> str:
        if value not in SUPPORTED_STRATEGIES:
            raise ValueError(
                f"{value!r} is not a strategy this version runs; choose one of "
                f"{', '.join(SUPPORTED_STRATEGIES)}"
            )
        return value

    @field_validator("landing")
    @classmethod
    def _known_landing(cls, value: str) -> str:
        if value not in LANDINGS:
            choices = ", ".join(LANDINGS)
            raise ValueError(f"{value!r} is not a landing method; choose one of {choices}")
        return value

    @field_validator("labels")
    @classmethod
    def _known_labels(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(LABEL_KEYS))
        if unknown:
            raise ValueError(
                f"unknown label key(s) {', '.join(unknown)}; the keys are {', '.join(LABEL_KEYS)}"
            )
        merged = {**DEFAULT_LABELS, **value}
        for key, name in merged.items():
            if not name.strip():
                raise ValueError(f"the label for {key} needs a name")
            if len(name) > MAX_LABEL_LENGTH or "," in name:
                raise ValueError(
                    f"the label for {key} must be at most {MAX_LABEL_LENGTH} characters "
                    "without commas"
                )
        return {key: merged[key].strip() for key in LABEL_KEYS}

    def label(self, key: str) -> str:
        """The GitLab label name used for ``key`` (one of :data:`LABEL_KEYS`)."""
        return self.labels[key]


def default_config(default_branch: str | None) -> ProjectConfig:
    """The configuration of a newly onboarded project: its default branch, single strategy."""
    return ProjectConfig(target_branches=(default_branch or "main",))


def _sentence(error: Mapping[str, Any]) -> str:
    field = ".".join(str(part) for part in error.get("loc", ())) or "config"
    message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
    return f"{field}: {message}"


def build_config(
    current: ProjectConfig | None, changes: Mapping[str, Any], *, max_batch_size: int
) -> ProjectConfig:
    """``current`` with ``changes`` applied (labels merged key by key), validated.

    Raises ``Unprocessable`` with one readable sentence per problem.
    """
    data: dict[str, Any] = current.model_dump() if current is not None else {}
    for key, value in changes.items():
        if key == "labels" and isinstance(value, Mapping) and isinstance(data.get("labels"), dict):
            data["labels"] = {**data["labels"], **value}
        else:
            data[key] = value
    try:
        config = ProjectConfig.model_validate(data)
    except ValidationError as exc:
        sentences = [_sentence(error) for error in exc.errors()]
        raise Unprocessable("Invalid configuration: " + "; ".join(sentences) + ".") from exc
    if config.batch_size > max_batch_size:
        raise Unprocessable(
            f"Invalid configuration: batch_size: at most {max_batch_size} "
            "(MERGE_ASSIST_MAX_BATCH_SIZE)."
        )
    return config
