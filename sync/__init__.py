"""Offline-first sync between the till's outbox and the organizer's server."""
