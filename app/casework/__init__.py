"""The clinician's case page and the actions on it (pages over app.cases services), and documentation support."""
