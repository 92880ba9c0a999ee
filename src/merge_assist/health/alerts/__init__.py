"""Alerts: rules over a snapshot of the product's state, incidents, and their notifications."""
