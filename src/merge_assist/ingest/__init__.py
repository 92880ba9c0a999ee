"""Ingest: the webhook listener (event inbox) and the watcher (periodic reconcile wake-ups)."""
