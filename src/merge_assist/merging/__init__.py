"""Merge engine: the pure decision core (state, observations, actions, ``decide``).

The executor (GitLab calls, persistence) lives beside it and calls :func:`decide`; nothing in
the decision modules performs I/O. See ``docs/merge-engine.md``.
"""
