"""The signed-in clinician's own things: the displayed title (OG-4-b) and personal phrase templates (OG-8.2)."""
