"""Running routines: the one place that changes a process instance."""
