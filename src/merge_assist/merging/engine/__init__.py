"""The pure merge engine: state, observations, actions, ``decide`` and its strategies.

Nothing here performs I/O (no database, no HTTP, no git): the runner (``merging.persistence``)
observes, calls :func:`merge_assist.merging.engine.decide.decide` and performs what it returns
through a ``QueuePort`` (``engine.port``). See ``docs/merge-engine.md``.
"""
