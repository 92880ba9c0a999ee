"""The merge queue's HTTP API: endpoints, the reads behind them, priority changes, wake-ups."""
