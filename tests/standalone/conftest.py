"""The shared GitLab project and its users (``tests.standalone.shared_project``)."""

from tests.standalone.shared_project import alice, bob, carol, sandbox

__all__ = ["alice", "bob", "carol", "sandbox"]
