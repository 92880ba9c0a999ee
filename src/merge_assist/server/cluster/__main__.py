"""``python -m merge_assist.server.cluster``: see ``server.cluster.cli``."""

from merge_assist.server.cluster.cli import app

app()
