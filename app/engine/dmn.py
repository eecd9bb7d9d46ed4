"""Decision tables as their hit policy says: SpiffWorkflow's DMN engine, with UNIQUE enforced.

SpiffWorkflow returns the first matching row for a UNIQUE table and stops looking, so a table whose
rows overlap silently depends on their order, and reordering rows in the editor changes the routing.
Here a UNIQUE table whose input matches more than one row fails the business-rule task, naming the
rows (it becomes an incident). A table whose order is meant declares hitPolicy="FIRST": SpiffWorkflow
collects every matching row for any policy but UNIQUE and COLLECT and returns the first, i.e. FIRST.
"""

from __future__ import annotations

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.spiff.parser import SpiffBpmnParser

UNIQUE = "UNIQUE"


class AmbiguousDecision(WorkflowTaskException):
    """A UNIQUE decision table matched more than one row."""


class StrictDMNEngine(DMNEngine):
    """DMNEngine whose UNIQUE hit policy means exactly one matching row (or none)."""

    def decide(self, task):
        table = self.decision_table
        if table.hit_policy != UNIQUE:
            return super().decide(task)
        matched = [rule for rule in table.rules if self._DMNEngine__check_rule(rule, task)]
        if len(matched) > 1:
            rows = ", ".join(f"{rule.id} (row {rule.row_number})" for rule in matched)
            raise AmbiguousDecision(
                f"decision table '{table.id}' has hit policy UNIQUE but its rows {rows} all match; "
                'make the rows exclusive, or declare hitPolicy="FIRST" if their order decides',
                task=task,
            )
        return matched


class DecisionParser(SpiffBpmnParser):
    """The spiff parser, building business-rule tasks on StrictDMNEngine."""

    def get_engine(self, decision_ref, node):
        return StrictDMNEngine(super().get_engine(decision_ref, node).decision_table)
