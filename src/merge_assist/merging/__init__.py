"""Merge queue, in four layers (top imports bottom, never the reverse; import-linter checks it):

* ``api``: the queue's HTTP endpoints and their reads (listing, stats, queue log, priority).
* ``adapter``: the GitLab side: the ``QueuePort`` over GitLab and git, and the worker's runtime.
* ``persistence``: the database side: tables, the state store, the runner's step loop and what
  it writes (projection, history, log lines, live events), the stored project settings.
* ``engine``: the pure decision core (state, observations, actions, ``decide``); no I/O.

``schemas`` holds the queue's shapes as the dashboard sees them, over HTTP and in live events,
so both ``api`` and ``persistence`` use it. See ``docs/merge-engine.md``.
"""
