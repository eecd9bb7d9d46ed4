"""The process owners' fixtures, shared: timer checks are proven through save, publish and deploy."""

from tests.modeler.conftest import draft, owners  # noqa: F401  (the owners' fixtures, shared)
