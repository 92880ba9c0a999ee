"""The base of every engine value: immutable, strict, JSON round-trippable."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    """An immutable value; ``model_dump_json``/``model_validate_json`` round-trip it exactly."""

    model_config = ConfigDict(frozen=True, extra="forbid")
