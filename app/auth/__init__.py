"""Signing in, the acting unit, and the current actor of a request."""
