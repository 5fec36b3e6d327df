"""The scenario matrix: once a scenario is fixed at some stage, it stays fixed."""

from __future__ import annotations

import pytest

from course.matrix import Cell, regressions, run_matrix, scenarios
from course.stages import STAGES


def test_regressions_flags_a_scenario_that_breaks_again():
    cells = [
        Cell("s", 1, "PROBLEM", "", 0),
        Cell("s", 2, "ok", "", 0),
        Cell("s", 3, "PROBLEM", "", 0),
        Cell("t", 1, "n/a", "", 0),
        Cell("t", 2, "ok", "", 0),
        Cell("t", 3, "ok", "", 0),
    ]
    assert [(c.scenario, c.stage) for c in regressions(cells)] == [("s", 3)]


def test_regressions_accepts_problems_before_the_fix():
    cells = [Cell("s", 1, "n/a", "", 0), Cell("s", 2, "PROBLEM", "", 0), Cell("s", 3, "ok", "", 0)]
    assert regressions(cells) == []


@pytest.mark.drill
@pytest.mark.timeout(300)
async def test_once_fixed_stays_fixed_across_all_stages():
    stages = [stage for stage in STAGES if stage.exists()]
    cells = await run_matrix(stages, scenarios(poll=0.6))
    errors = [cell for cell in cells if cell.verdict == "error"]
    assert not errors, errors
    assert regressions(cells) == [], regressions(cells)
