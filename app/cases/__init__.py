"""The care domain: cases and what happens in them (our own tables, not the token flow)."""
