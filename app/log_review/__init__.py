"""Loggkontroll: who opened which patient's case, sampled reviews with the reviewer's verdict; every search is logged."""
