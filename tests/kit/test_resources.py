"""The app's resources: services under typed keys, and an error naming a missing one."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from merge_assist.kit.db import create_sessionmaker
from merge_assist.kit.settings import Settings
from merge_assist.kit.web import AppResources, MissingService, ServiceKey

GREETER: ServiceKey[str] = ServiceKey("greeter")
COUNTS: ServiceKey[dict[str, int]] = ServiceKey("counts")


def _bare(settings: Settings, engine: AsyncEngine) -> AppResources:
    return AppResources(settings=settings, engine=engine, sessions=create_sessionmaker(engine))


def test_a_provided_service_is_found_under_its_key(settings: Settings, engine: AsyncEngine) -> None:
    res = _bare(settings, engine)
    res.provide(GREETER, "hello")
    assert res.service(GREETER) == "hello"
    res.provide(GREETER, "hi")  # a test may swap it
    assert res.service(GREETER) == "hi"


def test_a_missing_service_is_an_error_that_names_it(
    settings: Settings, engine: AsyncEngine
) -> None:
    with pytest.raises(MissingService, match="No greeter was provided"):
        _bare(settings, engine).service(GREETER)


def test_state_made_on_first_use_is_found_then_withdrawn(
    settings: Settings, engine: AsyncEngine
) -> None:
    res = _bare(settings, engine)
    assert res.find(COUNTS) is None
    res.provide(COUNTS, {"runs": 1})
    assert res.find(COUNTS) == {"runs": 1}
    assert res.withdraw(COUNTS) == {"runs": 1}
    assert res.withdraw(COUNTS) is None
    assert res.find(COUNTS) is None


def test_keys_with_the_same_name_are_different_services(
    settings: Settings, engine: AsyncEngine
) -> None:
    res = _bare(settings, engine)
    other: ServiceKey[str] = ServiceKey("greeter")
    res.provide(GREETER, "hello")
    assert res.find(other) is None
    assert repr(other) == "ServiceKey('greeter')"
