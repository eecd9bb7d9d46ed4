"""The resident's pages (patient or guardian): submit a case, follow and answer it."""
