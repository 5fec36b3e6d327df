"""The course's tooling: the ``course`` CLI, probes, scenarios and the test harness helpers."""
