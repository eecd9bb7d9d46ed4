"""The local system administrator: users and roles per unit, ended employments, phrase templates, opening hours and cover."""
