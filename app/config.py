"""Configuration: defaults, overridden by the environment, read once inside create_app."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_config() -> dict:
    """The development defaults: SQLite in instance/, dev login on, a clock that may be moved."""
    return {
        "ENV_NAME": "development",
        "SECRET_KEY": "dev-only-secret-change-me",
        "DATABASE_URL": f"sqlite:///{PROJECT_ROOT / 'instance' / 'vardflode.db'}",
        "PROCESSES_DIR": str(PROJECT_ROOT / "processes"),
        "FORMS_DIR": str(PROJECT_ROOT / "forms"),
        # The development login lists demo users to choose from; off unless configured.
        "DEV_LOGIN": False,
        # A development-only control lets browser tests move the clock; never in production.
        "DEV_CLOCK_CONTROL": False,
        "SESSION_COOKIE_SECURE": False,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # A signed-in page session ends after this long without activity, and after SESSION_MAX_HOURS at most.
        "SESSION_IDLE_MINUTES": 30,
        "SESSION_MAX_HOURS": 12,
        # Largest request body: a 10 MB image or a 5 MB diagram with room to spare; a 50 MB upload is refused
        # (413) before anything reads it.
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        # Sandbox budgets for expressions and scripts in process models.
        "SANDBOX_TIME_BUDGET_S": 0.5,
        "SANDBOX_SIZE_BUDGET": 1_000_000,
        # Guard rail: an instance whose task tree grows past this is stopped with an incident.
        "INSTANCE_MAX_TASKS": 2_000,
        "INSTANCE_MAX_DEPTH": 400,
        # /metrics: with a token the scraper sends it as a bearer token; without one, loopback only.
        "METRICS_TOKEN": None,
        # How often a resident's open chat asks for new messages.
        "RESIDENT_CHAT_POLL_SECONDS": 20,
    }


def _env_bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_config(overrides: dict | None = None) -> dict:
    """Defaults, then VARDFLODE_* / DATABASE_URL from the environment, then explicit overrides."""
    config = default_config()
    env = os.environ
    if "DATABASE_URL" in env:
        config["DATABASE_URL"] = env["DATABASE_URL"]
    if "SECRET_KEY" in env:
        config["SECRET_KEY"] = env["SECRET_KEY"]
    if "VARDFLODE_SESSION_IDLE_MINUTES" in env:
        config["SESSION_IDLE_MINUTES"] = int(env["VARDFLODE_SESSION_IDLE_MINUTES"])
    if "VARDFLODE_METRICS_TOKEN" in env:
        config["METRICS_TOKEN"] = env["VARDFLODE_METRICS_TOKEN"]
    if "VARDFLODE_ENV" in env:
        config["ENV_NAME"] = env["VARDFLODE_ENV"]
    for key in ("DEV_LOGIN", "DEV_CLOCK_CONTROL", "SESSION_COOKIE_SECURE"):
        if f"VARDFLODE_{key}" in env:
            config[key] = _env_bool(env[f"VARDFLODE_{key}"])
    if config["ENV_NAME"] == "production":
        config["SESSION_COOKIE_SECURE"] = True
        config["DEV_LOGIN"] = False
        config["DEV_CLOCK_CONTROL"] = False
    config.update(overrides or {})
    if config["ENV_NAME"] == "production" and config["SECRET_KEY"].startswith("dev-only"):
        raise RuntimeError("SECRET_KEY must be set in production")
    return config
