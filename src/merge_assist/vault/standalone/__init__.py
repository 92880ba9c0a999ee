"""The vault in standalone mode: check-outs are GitLab's LFS locks, files live in GitLab.

Locks go through GitLab's Git LFS lock API (``locks.GitLabLockStore``), their reasons in a
shared JSON document of the bound project (``merge_assist.standalone.shared_json``);
``vault_locks.GitLabVaultLocks`` is the vault's ``LockStore`` on top, and ``access`` gives one
request its storage and locks. See ``docs/standalone.md``.
"""
