"""Smoke test for bench/case_page.py with small counts: the figures exist and come from a real long case."""

from __future__ import annotations

from bench import case_page


def test_case_page_benchmark_renders_a_long_and_a_fresh_case():
    result = case_page.run(renders=3, warmup=1, messages=120, attempts=5)
    for key in ("case_page_ms", "case_page_ms_fresh", "case_page_ratio"):
        assert result[key] > 0, key
    assert result["case_page_long_messages"] >= 120 and result["case_page_long_attempts"] >= 5
    assert result["case_page_renders"] == 3
