"""Workers: project leases, heartbeats, and the loop that runs the engine for owned projects."""
