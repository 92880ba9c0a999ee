"""GitLab's push check for Git LFS locks, as a pre-receive hook receive-pack runs.

``lib/gitlab/checks/diff_check.rb`` (``lfs_file_locks_validation``) refuses a push whose new
commits change a path someone else holds an LFS lock on: ``'<path>' is locked in Git LFS by
@<username>``. The sandbox writes each repository's locks to ``LOCKS_FILE`` (one
``path<TAB>username`` a line) and points ``core.hooksPath`` at a folder holding ``HOOK``,
which reads them and the pusher (``GL_USERNAME``, as GitLab's hooks get it) while the pushed
objects are still in quarantine.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

LOCKS_FILE = "sandbox-lfs-locks"

HOOK = '''#!{python}
"""pre-receive: refuse changes to paths locked in Git LFS by someone else (GitLab's check)."""
import os
import subprocess
import sys

ZERO = "0" * 40
locks = {{}}
try:
    with open("{locks_file}", encoding="utf-8") as handle:
        for line in handle:
            path, _, owner = line.rstrip("\\n").partition("\\t")
            locks[path] = owner
except FileNotFoundError:
    sys.exit(0)
pusher = os.environ.get("GL_USERNAME", "")


def run(*args):
    return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout


for line in sys.stdin:
    old, new, _ref = line.split()
    if new == ZERO or not locks:
        continue
    if old == ZERO:
        revs = run("rev-list", new, "--not", "--all")
    else:
        revs = run("rev-list", old + ".." + new)
    for commit in revs.split():
        changed = run("diff-tree", "--no-commit-id", "--name-only", "-r", "--root", commit)
        for path in changed.splitlines():
            owner = locks.get(path)
            if owner and owner != pusher:
                print("GitLab: '%s' is locked in Git LFS by @%s" % (path, owner), file=sys.stderr)
                sys.exit(1)
'''


def install_hook(folder: Path) -> Path:
    """Write the pre-receive hook into ``folder`` (idempotent); the folder to use as
    ``core.hooksPath``."""
    folder.mkdir(parents=True, exist_ok=True)
    hook = folder / "pre-receive"
    text = HOOK.format(python=sys.executable, locks_file=LOCKS_FILE)
    if not hook.exists() or hook.read_text() != text:
        hook.write_text(text)
        hook.chmod(0o755)
    return folder


def write_locks(repo_path: Path, locks: Iterable[tuple[str, str]]) -> None:
    """Record a repository's locks (path, owner's username) for the hook."""
    lines = "".join(f"{path}\t{owner}\n" for path, owner in locks)
    target = repo_path / LOCKS_FILE
    if lines:
        target.write_text(lines, encoding="utf-8")
    else:
        target.unlink(missing_ok=True)
