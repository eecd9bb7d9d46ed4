"""The only package that imports SpiffWorkflow: parsing, validation, sandboxed scripts, running.

No Flask and no SQLAlchemy here; the app stores bundles and instance state and calls in.
"""

from app.engine.bundle import Bundle, BundleInvalid, Finding, collect_bundle, file_hash
from app.engine.runtime import (
    EngineFailure,
    EngineRefused,
    InstanceTooLarge,
    ProcessEngine,
    StepIncident,
    TimerView,
    TreeSize,
    UserTaskView,
    WorkflowHandle,
)
from app.engine.specs import LoadedSpec, UserTaskMeta
from app.engine.validation import validate_bundle
from app.engine.xml import UnsafeXml, parse_xml

__all__ = [
    "Bundle",
    "BundleInvalid",
    "EngineFailure",
    "EngineRefused",
    "Finding",
    "InstanceTooLarge",
    "LoadedSpec",
    "ProcessEngine",
    "StepIncident",
    "TimerView",
    "TreeSize",
    "UnsafeXml",
    "UserTaskMeta",
    "UserTaskView",
    "WorkflowHandle",
    "collect_bundle",
    "file_hash",
    "parse_xml",
    "validate_bundle",
]
