"""A real cluster on one machine, without containers: every role its own OS process.

PostgreSQL and Redis (given by URL), nginx load-balancing the API processes (and routing the
webhook to the listener), workers, the watcher, all against the GitLab sandbox
(``gitlab-sandbox serve``). ``scripts/cluster`` runs it for people (``server.cluster.cli``);
the cluster test drives it (``tests/cluster``). Everything listens on loopback, on free ports,
and lives in one state folder (``docs/operations.md``, "A cluster on one machine").
"""
