"""The timer worker: fires due BPMN timers and product deadlines, on any number of processes."""
