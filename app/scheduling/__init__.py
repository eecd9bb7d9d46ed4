"""The unit's schedule (OG-5, HA-chat-staff): a week of scheduled shifts, their chat gaps, and the forms to change them."""
