"""Standalone mode: each user runs Merge Assist on their own machine; GitLab arbitrates.

What every standalone piece shares: the binding to one GitLab project (``binding``), JSON
documents in it changed by ``last_commit_id`` compare-and-swap commits (``shared_json``), and
where an instance keeps its data (``paths``). The vault's locks live in ``vault.standalone``,
the messages store in ``messaging.standalone_store``, the launcher in ``server.standalone``.
See ``docs/standalone.md``.
"""
