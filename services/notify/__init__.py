"""Notify: every outbound message, exactly once per (event, recipient, channel)."""
