"""Live events for open dashboards: what they are (``events``), the fan-out to this process's
sockets (``hub``), the relay that carries them between processes over the bus (``relay``), the
app's hub and its relay (``app_hub``), and publishing after a commit (``publish``).

The WebSocket endpoint that serves them is ``server.updates``.
"""
