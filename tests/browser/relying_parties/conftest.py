"""Real relying parties in front of the provider, configured by docs/connect-an-app/: the
provider at its issuer (the `dev_server` marker), the demo district, the clock at real time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from idp.clock import FrozenClock
from idp.demo import DemoSummary, load_demo_district
from idp.services import Services
from tests.conftest import committed


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here serves the provider at its issuer and puts a real app in front of it."""
    for item in items:
        if "tests/browser/relying_parties/" in str(item.fspath):
            item.add_marker(pytest.mark.dev_server)
            item.add_marker(pytest.mark.relying_party)


@pytest.fixture
def clock(clock: FrozenClock) -> FrozenClock:
    """Frozen at the real time: the apps check iat and exp with their own wall clock."""
    clock.set(datetime.now(UTC))  # noqa: TID251 - aligning the provider's clock with the app's
    return clock


@pytest.fixture
def demo(services: Services, clock: FrozenClock) -> DemoSummary:
    """The demo district, as `idp demo load` leaves it."""
    with committed():
        return load_demo_district(services, clock)
