"""Development-only tools: a clock every process shares through the database, moved by browser tests."""
