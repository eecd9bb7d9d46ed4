"""Smoke tests for bench/chat.py with tiny counts: the figures exist, are positive, and come from
cases that really had the long history and really completed (on the served and the bare side)."""

from __future__ import annotations

from bench import chat


def test_history_ratio_runs_on_a_real_long_case():
    result = chat.run_history(actions=5, per_case=3, warmup=1)
    for key in ("history_ratio", "history_action_ms_fresh", "history_action_ms_long"):
        assert result[key] > 0, key
    assert result["history_actions"] == 5
    assert result["history_long_messages"] >= 1_000
    assert result["history_long_attempts"] >= 20


def test_chat_cases_complete_served_and_bare():
    result = chat.run_cases(cases=3, warmup=1)
    for key in (
        "chat_cases_per_s",
        "bare_chat_cases_per_s",
        "chat_cases_ratio",
        "chat_case_ms",
        "bare_chat_case_ms",
    ):
        assert result[key] > 0, key
    assert result["chat_cases_completed"] >= 3
    assert result["bare_chat_cases_completed"] >= 3
    assert "chat_cases_per_s_pg" not in result  # PostgreSQL only when a URL is given


def test_a_bare_case_that_does_not_complete_is_an_error(monkeypatch):
    bare = chat.BareChatCases()
    monkeypatch.setattr(bare, "steps", bare.steps[:-1])  # never closed: the routine still waits
    try:
        bare.case()
    except AssertionError:
        pass
    else:
        raise AssertionError("an unfinished bare case produced a time")
