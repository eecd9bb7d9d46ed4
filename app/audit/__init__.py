"""The append-only audit trail and the access log of patient data."""
