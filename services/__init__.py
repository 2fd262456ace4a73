"""The three services: intake, routing, notify."""
