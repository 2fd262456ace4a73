"""Routing: the ticket's life after intake."""
