"""Processes: serve, api, demo, workers; migrations command."""
