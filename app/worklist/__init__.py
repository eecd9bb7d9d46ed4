"""The clinician's pages: the patient list (Patientliggaren, reading only the task projection), the
acknowledgement inbox, personal phrase templates, the profile, the overall-responsible duty and the
end of a shift. Routes live in views modules registered on one blueprint (routes.py); queries in
queries.py (the list) and staff_queries.py (the rest); what a user changes about themself in app.profile.
"""
