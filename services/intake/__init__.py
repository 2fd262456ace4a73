"""Intake: the citizen's front door."""
