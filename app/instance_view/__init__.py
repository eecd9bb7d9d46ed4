"""The instance page: the diagram with its state marked, the history, task data for those allowed, incidents with retry."""
