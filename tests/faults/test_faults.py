"""Each fault, under a steady load of shoppers on `cqrskit up`: nothing
acknowledged is lost, nothing is applied twice, `cqrskit verify` finds the
read side equal to the event store, and the read side catches up with new
commands within a bound once the fault is over."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from faults.runner import Faulted, Scenario, Tick, run_scenario
from faults.scenarios import SCENARIOS

pytestmark = [pytest.mark.faults, pytest.mark.e2e]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name.replace(" ", "-"))
async def test_the_system_rides_out(
    scenario: Scenario,
    faulted: Faulted,
    repetitions: int,
    record: Callable[[dict[str, Any]], None],
    progress: Tick,
) -> None:
    await run_scenario(scenario, faulted, repetitions, record, progress)
