"""Merge-queue benchmark harness against gitlab-sandbox (see README.md)."""
