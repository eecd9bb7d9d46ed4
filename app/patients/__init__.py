"""Patients (residents): identity, guardianship from the population registry, protected identity."""
