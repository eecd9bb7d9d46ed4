"""Documentation support: journal-note drafts in the region's template and registration records."""
