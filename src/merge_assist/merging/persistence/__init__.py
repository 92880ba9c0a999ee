"""The merge engine's database side: tables, the compare-and-swap state store, the runner's
step loop and what each step writes (projection rows, history, log lines, live events)."""
