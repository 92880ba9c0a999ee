"""Tree objects read through ``cat-file`` and written as loose objects, edited in memory.

Editing a commit's tree this way touches only the directories on the changed paths: no index,
no work tree and no extra process per file. Objects are written exactly as git writes loose
objects (zlib of ``"<type> <size>\\0" + data``, named by its SHA-1), so git reads them as its own.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from gitlab_sandbox.git.objects import GitError
from gitlab_sandbox.git.process import ObjectReader

TREE_MODE = "40000"
FILE_MODE = "100644"
EXECUTABLE_MODE = "100755"
SYMLINK_MODE = "120000"
SUBMODULE_MODE = "160000"


def encode_name(name: str) -> bytes:
    """A path component as the bytes git stores (round-trips undecodable names)."""
    return name.encode("utf-8", "surrogateescape")


def decode_name(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def parse_tree(data: bytes) -> list[tuple[str, str, str]]:
    """``(mode, name, sha)`` of every entry of a raw tree object, in stored order."""
    entries: list[tuple[str, str, str]] = []
    position = 0
    while position < len(data):
        space = data.index(b" ", position)
        nul = data.index(b"\0", space)
        mode = data[position:space].decode()
        name = decode_name(data[space + 1 : nul])
        entries.append((mode, name, data[nul + 1 : nul + 21].hex()))
        position = nul + 21
    return entries


def serialize_tree(entries: dict[str, tuple[str, str]]) -> bytes:
    """A raw tree object from ``name -> (mode, sha)``, in git's order (trees sort as ``name/``)."""

    def sort_key(name: str) -> bytes:
        raw = encode_name(name)
        return raw + b"/" if entries[name][0] == TREE_MODE else raw

    return b"".join(
        entries[name][0].encode()
        + b" "
        + encode_name(name)
        + b"\0"
        + bytes.fromhex(entries[name][1])
        for name in sorted(entries, key=sort_key)
    )


def write_loose_object(git_dir: Path, kind: str, data: bytes) -> str:
    """Store an object (``blob``, ``tree``...) in the repository and return its SHA-1."""
    raw = f"{kind} {len(data)}".encode() + b"\0" + data
    sha = hashlib.sha1(raw, usedforsecurity=False).hexdigest()
    folder = git_dir / "objects" / sha[:2]
    target = folder / sha[2:]
    if target.exists():
        return sha
    folder.mkdir(exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix="tmp_obj_")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(zlib.compress(raw, 1))
        os.chmod(temporary, 0o444)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return sha


def validate_path(path: str) -> list[str]:
    """The components of a file path given to the commits API, or GitError when it is unsafe."""
    if not path or path.startswith("/") or "\0" in path or "\n" in path:
        raise GitError(f"The file path {path!r} is not valid.")
    parts = path.split("/")
    for part in parts:
        if part in ("", ".", ".."):
            raise GitError("Path cannot include directory traversal or empty components.")
        if part.lower() == ".git":
            raise GitError("Path cannot include a .git directory.")
    return parts


@dataclass
class _Directory:
    sha: str | None
    loaded: bool = False
    dirty: bool = False
    entries: dict[str, tuple[str, str]] = field(default_factory=dict)
    children: dict[str, _Directory] = field(default_factory=dict)


class TreeEditor:
    """Edits a tree in memory by path, loading only the directories it walks through."""

    def __init__(self, git_dir: Path, reader: ObjectReader, root_tree: str | None) -> None:
        self._git_dir = git_dir
        self._reader = reader
        self._root = _Directory(sha=root_tree, loaded=root_tree is None)

    def lookup(self, path: str) -> tuple[str, str] | None:
        """``(mode, sha)`` at ``path`` (file or directory), or None."""
        parts = path.split("/")
        directory = self._walk(parts[:-1], create=False)
        if directory is None:
            return None
        return self._load(directory).entries.get(parts[-1])

    def put(self, path: str, mode: str, sha: str) -> None:
        """Place a blob at ``path``, creating the directories above it."""
        parts = path.split("/")
        directory = self._walk(parts[:-1], create=True)
        assert directory is not None
        existing = directory.entries.get(parts[-1])
        if existing is not None and existing[0] == TREE_MODE:
            raise GitError("A directory with this name already exists")
        directory.entries[parts[-1]] = (mode, sha)
        directory.dirty = True

    def remove(self, path: str) -> None:
        """Remove the entry at ``path``; directories left empty disappear, as in git."""
        parts = path.split("/")
        trail = self._trail(parts[:-1], create=False)
        if trail is None or parts[-1] not in trail[-1].entries:
            raise GitError("A file with this name doesn't exist")
        directory = trail[-1]
        del directory.entries[parts[-1]]
        directory.children.pop(parts[-1], None)
        for visited in trail:
            visited.dirty = True

    def write(self) -> str:
        """Write every changed directory and return the root tree's SHA-1."""
        sha = self._write(self._root)
        return sha if sha is not None else write_loose_object(self._git_dir, "tree", b"")

    def _write(self, directory: _Directory) -> str | None:
        if not directory.dirty:
            return directory.sha
        for name, child in list(directory.children.items()):
            child_sha = self._write(child)
            if child_sha is None:
                directory.entries.pop(name, None)
                del directory.children[name]
            else:
                directory.entries[name] = (TREE_MODE, child_sha)
        if not directory.entries:
            return None
        directory.sha = write_loose_object(self._git_dir, "tree", serialize_tree(directory.entries))
        directory.dirty = False
        return directory.sha

    def _load(self, directory: _Directory) -> _Directory:
        if not directory.loaded:
            assert directory.sha is not None
            found = self._reader.contents(directory.sha)
            if found is None or found[1] != "tree":
                raise GitError(f"tree {directory.sha} is missing from the repository")
            directory.entries = {name: (mode, sha) for mode, name, sha in parse_tree(found[2])}
            directory.loaded = True
        return directory

    def _walk(self, parts: list[str], *, create: bool) -> _Directory | None:
        trail = self._trail(parts, create=create)
        if trail is None:
            return None
        if create:
            for visited in trail:
                visited.dirty = True
        return trail[-1]

    def _trail(self, parts: list[str], *, create: bool) -> list[_Directory] | None:
        """The directories from the root down to ``parts`` (loaded), or None when absent."""
        directory = self._root
        trail = [directory]
        for part in parts:
            self._load(directory)
            child = directory.children.get(part)
            if child is None:
                entry = directory.entries.get(part)
                if entry is not None and entry[0] != TREE_MODE:
                    if not create:
                        return None
                    raise GitError("A file with this name already exists")
                if entry is None and not create:
                    return None
                child = _Directory(sha=entry[1] if entry else None, loaded=entry is None)
                directory.children[part] = child
            directory = child
            trail.append(directory)
        self._load(directory)
        return trail
