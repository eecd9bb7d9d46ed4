"""People: users, units, presence, duties, and identity numbers with ages."""
