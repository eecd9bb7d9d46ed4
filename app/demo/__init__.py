"""Demo data: two regions, their units, staff in every role with today's schedules, and patients."""
