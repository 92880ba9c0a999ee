"""Operations on one working copy: fetch, checkout, branch, merge, rebase, push, inspect."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from merge_assist.gitlab.git_runner import GitPushRejected, GitResult, GitRunner

_REJECTION_MARKERS = ("[rejected]", "[remote rejected]", "stale info", "non-fast-forward")


@dataclass(frozen=True)
class MergeOutcome:
    """A merge either made commit ``sha`` or stopped on ``conflicts`` (and was aborted)."""

    sha: str | None = None
    conflicts: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.sha is not None


@dataclass(frozen=True)
class RebaseOutcome:
    """A rebase either moved the branch to ``sha`` or stopped on ``conflicts`` (aborted)."""

    sha: str | None = None
    conflicts: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.sha is not None


def _checked_ref(value: str) -> str:
    """Refuse revisions that git would read as options (``-x``, ``--upload-pack=``)."""
    if not value or value.startswith("-") or "\0" in value or "\n" in value:
        raise ValueError(f"Not a usable git revision: {value!r}.")
    return value


def _full_branch_ref(name: str) -> str:
    return name if name.startswith("refs/") else f"refs/heads/{_checked_ref(name)}"


class GitRepository:
    """A working copy (or bare repository) at ``path`` driven through a :class:`GitRunner`."""

    def __init__(self, path: Path, runner: GitRunner) -> None:
        self.path = path
        self.runner = runner

    def __repr__(self) -> str:
        return f"GitRepository({str(self.path)!r})"

    async def run(self, *args: str, check: bool = True) -> GitResult:
        """``git <args>`` inside this repository."""
        return await self.runner.run(*args, cwd=self.path, check=check)

    async def configure_identity(self, name: str, email: str) -> None:
        """Author and committer of commits made here (repository config, no secrets)."""
        await self.run("config", "user.name", name)
        await self.run("config", "user.email", email)

    async def remote_url(self, remote: str = "origin") -> str:
        """The URL of ``remote`` as stored in ``.git/config``."""
        return (await self.run("remote", "get-url", _checked_ref(remote))).stdout.strip()

    async def fetch(
        self,
        refspecs: tuple[str, ...] | list[str] = (),
        *,
        remote: str = "origin",
        depth: int | None = None,
        prune: bool = False,
    ) -> None:
        """Fetch ``refspecs`` (all configured refs when empty) from ``remote``."""
        args = ["fetch", "--quiet", "--no-tags"]
        if depth:
            args += ["--depth", str(depth)]
        if prune:
            args.append("--prune")
        await self.run(*args, _checked_ref(remote), *(_checked_ref(r) for r in refspecs))

    async def checkout(self, ref: str, *, detach: bool = False, force: bool = False) -> None:
        """Switch the working copy to ``ref``."""
        args = ["checkout", "--quiet"]
        if detach:
            args.append("--detach")
        if force:
            args.append("--force")
        await self.run(*args, _checked_ref(ref), "--")

    async def create_branch(
        self, name: str, start_point: str = "HEAD", *, checkout: bool = True, force: bool = False
    ) -> None:
        """Create branch ``name`` at ``start_point`` (``force`` resets an existing one)."""
        name, start_point = _checked_ref(name), _checked_ref(start_point)
        if checkout:
            await self.run("checkout", "--quiet", "-B" if force else "-b", name, start_point)
        else:
            await self.run("branch", *(["--force"] if force else []), name, start_point)

    async def rev_parse(self, rev: str) -> str:
        """The object id ``rev`` names (raises if it names nothing)."""
        result = await self.run("rev-parse", "--verify", "--end-of-options", _checked_ref(rev))
        return result.stdout.strip()

    async def tree_id(self, rev: str = "HEAD") -> str:
        """The tree of commit ``rev``: equal trees mean equal content, whatever the history."""
        return await self.rev_parse(f"{_checked_ref(rev)}^{{tree}}")

    async def commit(self, message: str, *, add_all: bool = True, allow_empty: bool = False) -> str:
        """Commit the working copy (``git add -A`` first when ``add_all``); the new sha."""
        if add_all:
            await self.run("add", "--all")
        args = ["commit", "--quiet", "--no-verify", "-m", message]
        if allow_empty:
            args.append("--allow-empty")
        await self.run(*args)
        return await self.rev_parse("HEAD")

    async def conflicted_paths(self) -> tuple[str, ...]:
        """Paths left unmerged by a merge or rebase in progress."""
        result = await self.run("diff", "--name-only", "--diff-filter=U", "-z")
        return tuple(sorted(p for p in result.stdout.split("\0") if p))

    async def merge(self, ref: str, message: str, *, no_ff: bool = True) -> MergeOutcome:
        """Merge ``ref`` into the current branch; on conflict abort and name the paths."""
        args = ["merge", "--quiet", "--no-edit", "--no-ff" if no_ff else "--ff", "-m", message]
        result = await self.run(*args, _checked_ref(ref), check=False)
        if result.returncode == 0:
            return MergeOutcome(sha=await self.rev_parse("HEAD"))
        conflicts = await self.conflicted_paths()
        if not conflicts:
            raise self.runner.failure(("merge", ref), result)
        await self.run("merge", "--abort")
        return MergeOutcome(conflicts=conflicts)

    async def rebase(self, onto: str) -> RebaseOutcome:
        """Rebase the current branch onto ``onto``; on conflict abort and name the paths."""
        result = await self.run("rebase", "--quiet", _checked_ref(onto), check=False)
        if result.returncode == 0:
            return RebaseOutcome(sha=await self.rev_parse("HEAD"))
        conflicts = await self.conflicted_paths()
        if await self._rebase_in_progress():
            await self.run("rebase", "--abort")
        if not conflicts:
            raise self.runner.failure(("rebase", onto), result)
        return RebaseOutcome(conflicts=conflicts)

    async def _rebase_in_progress(self) -> bool:
        git_dir = Path((await self.run("rev-parse", "--absolute-git-dir")).stdout.strip())
        return (git_dir / "rebase-merge").exists() or (git_dir / "rebase-apply").exists()

    async def push(
        self,
        ref: str,
        *,
        branch: str | None = None,
        remote: str = "origin",
        force_with_lease: str | bool = False,
        force: bool = False,
        push_options: tuple[str, ...] = (),
    ) -> None:
        """Push local ``ref`` to remote ``branch`` (default: the same name).

        ``push_options`` are sent with ``-o`` (GitLab reads ``ci.skip``, ``merge_request.*``).

        ``force_with_lease`` as a sha is a compare-and-swap: the push only happens if the
        remote branch is still at that sha (``""`` means "must not exist yet"); ``True`` uses
        the remote-tracking ref. A refusal raises :class:`GitPushRejected`.
        """
        target = branch or ref
        if target == "HEAD":
            raise ValueError("Pushing HEAD needs the remote branch name.")
        destination = _full_branch_ref(target)
        args = ["push", "--porcelain"]
        if force_with_lease is True:
            args.append(f"--force-with-lease={destination}")
        elif isinstance(force_with_lease, str):
            args.append(f"--force-with-lease={destination}:{force_with_lease}")
        if force:
            args.append("--force")
        for option in push_options:
            args.extend(("-o", option))
        refspec = f"{_checked_ref(ref)}:{destination}"
        result = await self.run(*args, _checked_ref(remote), refspec, check=False)
        if result.returncode == 0:
            return
        error = self.runner.failure(("push", remote, refspec), result)
        text = result.stdout + result.stderr
        if any(marker in text for marker in _REJECTION_MARKERS):
            raise GitPushRejected(error.message, returncode=result.returncode)
        raise error
