"""The embedded default backend: a bare git repository in the data folder, driven by git.

Writes never need a working copy: the new content becomes a blob, a temporary index builds the
new tree, ``commit-tree`` makes the commit, and ``update-ref <new> <old>`` moves the branch only
if nobody moved it meanwhile (git's own compare-and-swap; several API processes may share the
folder). Within one process, writes to one repository are also queued on an asyncio lock so
they do not race each other just to retry.

git runs through ``gitlab.git_runner``'s clean environment (private HOME, no system config, no
prompts); contents travel through pipes as bytes, never through argv.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import signal
import tempfile
from collections import OrderedDict
from datetime import datetime
from pathlib import Path

from merge_assist.gitlab.git_runner import GitCommandError, GitResult, GitRunner, GitTimeout
from merge_assist.vault.storage import (
    CommitAuthor,
    FileExists,
    FileVersion,
    StaleVersion,
    StoredFile,
    VersionNotFound,
)

_SHA = re.compile(r"^[0-9a-f]{7,64}$")
_ZERO = "0" * 40
_WRITE_ATTEMPTS = 5
_HASH_CACHE_SIZE = 4096
_write_locks: dict[Path, asyncio.Lock] = {}
# Blobs never change, so the SHA-256 of a blob id is computed once per process.
_sha256_of_blob: OrderedDict[str, str] = OrderedDict()


def checked_version(version: str) -> str:
    """A version id as git must see it: a hex commit id (never an option or a ref name)."""
    value = version.strip().lower()
    if not _SHA.match(value):
        raise VersionNotFound(f"{version!r} is not a version id (a commit sha).")
    return value


class LocalGitStorage:
    """A vault kept in the bare repository ``repo_path`` on ``branch``, under ``folder``."""

    def __init__(
        self,
        repo_path: Path,
        *,
        branch: str = "main",
        folder: str = "",
        time_limit: float = 600.0,
    ) -> None:
        self.repo_path = repo_path
        self.branch = branch
        self.folder = folder.strip("/")
        self.runner = GitRunner(repo_path.parent / ".git-home", time_limit=time_limit)

    def __repr__(self) -> str:
        return f"LocalGitStorage({str(self.repo_path)!r}, branch={self.branch!r})"

    # plumbing ---------------------------------------------------------------------------
    async def _git(
        self, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
    ) -> bytes:
        """``git <args>`` in the repository; its stdout as bytes (raises on failure)."""
        result, stdout = await self._run(args, stdin, env)
        if result.returncode != 0:
            raise self.runner.failure(args, result)
        return stdout

    async def _run(
        self, args: tuple[str, ...], stdin: bytes | None, env: dict[str, str] | None
    ) -> tuple[GitResult, bytes]:
        environment = self.runner.environment() | {"GIT_LITERAL_PATHSPECS": "1"} | (env or {})
        process = await asyncio.create_subprocess_exec(
            *self.runner.command("-c", "core.quotepath=off", *args),
            cwd=self.repo_path,
            env=environment,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        try:
            stdout, stderr = await asyncio.wait_for(
                process.communicate(stdin), self.runner.time_limit
            )
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
            raise GitTimeout(f"git {args[0]} did not finish in time.") from None
        code = process.returncode if process.returncode is not None else -1
        return GitResult(code, "", stderr.decode("utf-8", errors="replace")), stdout

    async def ensure_repository(self) -> None:
        """Create the bare repository if it does not exist yet."""
        if (self.repo_path / "HEAD").exists():
            return
        self.repo_path.mkdir(parents=True, exist_ok=True)
        await self._git("init", "--bare", "--quiet", f"--initial-branch={self.branch}", ".")

    def _full(self, path: str) -> str:
        return f"{self.folder}/{path}" if self.folder else path

    def _relative(self, full: str) -> str | None:
        if not self.folder:
            return full
        prefix = self.folder + "/"
        return full[len(prefix) :] if full.startswith(prefix) else None

    async def _head(self) -> str | None:
        await self.ensure_repository()
        result, stdout = await self._run(
            ("rev-parse", "--verify", "--quiet", f"refs/heads/{self.branch}^{{commit}}"), None, None
        )
        return stdout.decode().strip() if result.returncode == 0 else None

    async def _last_commit(self, head: str | None, full: str) -> str | None:
        if head is None:
            return None
        out = await self._git("log", "-1", "--format=%H", head, "--", full)
        return out.decode().strip() or None

    # reading ----------------------------------------------------------------------------
    async def list_files(self) -> list[StoredFile]:
        """Every file under the folder with its newest version and size."""
        head = await self._head()
        if head is None:
            return []
        spec = [self.folder] if self.folder else []
        listing = await self._git("ls-tree", "-r", "-l", "-z", head, "--", *spec)
        sizes: dict[str, int] = {}
        for record in listing.decode("utf-8").split("\0"):
            if not record:
                continue
            meta, _, full = record.partition("\t")
            fields = meta.split()
            if len(fields) == 4 and fields[1] == "blob":
                sizes[full] = int(fields[3])
        newest = await self._newest_versions(head, spec, set(sizes))
        files = []
        for full, size in sorted(sizes.items()):
            relative = self._relative(full)
            if relative is not None and full in newest:
                files.append(StoredFile(relative, newest[full], size))
        return files

    async def _newest_versions(
        self, head: str, spec: list[str], wanted: set[str]
    ) -> dict[str, str]:
        """The newest commit touching each of ``wanted`` (one walk of the history)."""
        out = await self._git("log", "--format=%x01%H", "--name-only", head, "--", *spec)
        newest: dict[str, str] = {}
        commit = ""
        for line in out.decode("utf-8").splitlines():
            if line.startswith("\x01"):
                commit = line[1:]
            elif line and line in wanted and line not in newest:
                newest[line] = commit
        return newest

    async def read(self, path: str, version: str | None = None) -> bytes:
        """The bytes of ``path`` at ``version`` (newest when ``None``)."""
        rev = checked_version(version) if version else await self._head()
        if rev is None:
            raise VersionNotFound(f"{path!r} has no version yet.")
        result, stdout = await self._run(
            ("cat-file", "blob", f"{rev}:{self._full(path)}"), None, None
        )
        if result.returncode != 0:
            raise VersionNotFound(f"{path!r} has no version {rev[:12]}.")
        return stdout

    async def history(self, path: str) -> list[FileVersion]:
        """The commits that touched ``path``, newest first, with the content each left."""
        head = await self._head()
        if head is None:
            return []
        return await self._versions(("log", "-z", _LOG_FORMAT, head, "--", self._full(path)), path)

    async def version(self, path: str, version: str) -> FileVersion:
        """One version of ``path`` (a commit that touched it)."""
        rev = checked_version(version)
        head = await self._head()
        if head is None:
            raise VersionNotFound(f"{path!r} has no versions yet.")
        args = ("log", "-z", "-1", _LOG_FORMAT, rev, "--", self._full(path))
        result, _ = await self._run(("cat-file", "-e", f"{rev}^{{commit}}"), None, None)
        if result.returncode != 0:
            raise VersionNotFound(f"There is no version {version!r} of {path!r}.")
        versions = await self._versions(args, path)
        if not versions or (versions[0].id != rev and not versions[0].id.startswith(rev)):
            raise VersionNotFound(f"{version!r} is not a version of {path!r}.")
        return versions[0]

    async def _versions(self, log_args: tuple[str, ...], path: str) -> list[FileVersion]:
        out = await self._git(*log_args)
        commits = [_parse_commit(record) for record in out.decode("utf-8").split("\0") if record]
        if not commits:
            return []
        full = self._full(path)
        checks = "".join(f"{c[0]}:{full}\n" for c in commits).encode()
        blobs = (await self._git("cat-file", "--batch-check", stdin=checks)).decode().splitlines()
        versions = []
        for (sha, name, email, date, message), blob_line in zip(commits, blobs, strict=True):
            blob, kind, size = [*blob_line.split(), "", "", ""][:3]
            if kind != "blob":  # the commit deleted the file: not a version of its content
                continue
            versions.append(
                FileVersion(sha, name, email, message, date, int(size), await self._sha256(blob))
            )
        return versions

    async def _sha256(self, blob: str) -> str:
        cached = _sha256_of_blob.get(blob)
        if cached is None:
            content = await self._git("cat-file", "blob", blob)
            cached = hashlib.sha256(content).hexdigest()
            _sha256_of_blob[blob] = cached
            if len(_sha256_of_blob) > _HASH_CACHE_SIZE:
                _sha256_of_blob.popitem(last=False)
        return cached

    # writing ----------------------------------------------------------------------------
    async def write(
        self,
        path: str,
        content: bytes,
        *,
        message: str,
        author: CommitAuthor,
        base_version: str | None,
    ) -> FileVersion:
        """Commit ``content`` as the new version of ``path`` if ``base_version`` is current."""
        await self.ensure_repository()
        lock = _write_locks.setdefault(self.repo_path.resolve(), asyncio.Lock())
        async with lock:
            for _ in range(_WRITE_ATTEMPTS):
                commit = await self._try_write(path, content, message, author, base_version)
                if commit is not None:
                    return await self.version(path, commit)
        raise StaleVersion("The vault is busy with other changes; try the check-in again.")

    async def _try_write(
        self,
        path: str,
        content: bytes,
        message: str,
        author: CommitAuthor,
        base_version: str | None,
    ) -> str | None:
        """One compare-and-swap attempt: the new commit, or None if the branch moved."""
        head = await self._head()
        full = self._full(path)
        last = await self._last_commit(head, full)
        exists = last is not None and await self._exists(head, full)
        if base_version is None and exists:
            raise FileExists(f"{path!r} is already in the vault.")
        if base_version is not None and (last is None or last != checked_version(base_version)):
            raise StaleVersion(
                f"{path!r} changed since version {base_version[:12]}; download the newest "
                "version and apply your change to it."
            )
        blob = (await self._git("hash-object", "-w", "--stdin", stdin=content)).decode().strip()
        tree = await self._tree_with(head, full, blob)
        identity = {
            "GIT_AUTHOR_NAME": author.name,
            "GIT_AUTHOR_EMAIL": author.email,
            "GIT_COMMITTER_NAME": author.name,
            "GIT_COMMITTER_EMAIL": author.email,
        }
        parents = ["-p", head] if head else []
        commit_args = ("commit-tree", tree, *parents, "-F", "-")
        new = await self._git(*commit_args, stdin=message.encode("utf-8"), env=identity)
        commit = new.decode().strip()
        ref = f"refs/heads/{self.branch}"
        result, _ = await self._run(("update-ref", ref, commit, head or _ZERO), None, None)
        return commit if result.returncode == 0 else None

    async def _exists(self, head: str | None, full: str) -> bool:
        result, _ = await self._run(("cat-file", "-e", f"{head}:{full}"), None, None)
        return result.returncode == 0

    async def _tree_with(self, head: str | None, full: str, blob: str) -> str:
        """The tree of ``head`` with ``full`` set to ``blob`` (through a throw-away index)."""
        with tempfile.TemporaryDirectory(prefix="vault-index-") as scratch:
            env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
            if head:
                await self._git("read-tree", head, env=env)
            await self._git(
                "update-index", "--add", "--cacheinfo", f"100644,{blob},{full}", env=env
            )
            return (await self._git("write-tree", env=env)).decode().strip()


_LOG_FORMAT = "--format=%H%x1f%an%x1f%ae%x1f%aI%x1f%B"


def _parse_commit(record: str) -> tuple[str, str, str, datetime, str]:
    sha, name, email, date, message = record.lstrip("\n").split("\x1f", 4)
    return sha, name, email, datetime.fromisoformat(date), message.strip()


__all__ = ["GitCommandError", "LocalGitStorage", "checked_version"]
