"""Smoke test for bench/worklist.py with small counts: the figures exist and come from a real list page."""

from __future__ import annotations

from bench import worklist


def test_the_worklist_benchmark_renders_the_list_over_bulk_inserted_cases():
    result = worklist.run(cases=130, renders=3, warmup=1)
    for key in ("worklist_ms", "worklist_unit_day_ms", "worklist_poll_unchanged_ms"):
        assert result[key] > 0, key
    assert result["worklist_open_tasks"] == 130
    assert 50 < result["worklist_rows"] <= 100  # the nurse's view of 130 cases, one page of at most 100
