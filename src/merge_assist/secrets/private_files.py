"""Owner-only files written atomically and guarded by a lock file (the file provider's I/O)."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from merge_assist.secrets.errors import SecretStoreError

PRIVATE_MODE = 0o600


def write_private(path: Path, content: bytes) -> None:
    """Replace ``path`` with ``content`` atomically: temp file (0600), fsync, rename, fsync dir.

    A reader sees the old file or the new one, never half of one, even after a crash.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # mkstemp creates the file 0600 and in the same folder, so the rename is atomic.
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, PRIVATE_MODE)
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def read_private(path: Path) -> bytes | None:
    """The content of ``path`` (``None`` if absent), refusing files others can read or write.

    Like ssh with private keys, we refuse rather than warn: a warning in a log is easily missed,
    while a keys file readable by others has already leaked every secret it protects.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise SecretStoreError(
                f"{path} is a symbolic link; point the setting at the file itself."
            ) from error
        raise SecretStoreError(f"{path} cannot be opened ({error.strerror}).") from error
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise SecretStoreError(f"{path} is not a regular file.")
        if info.st_mode & 0o077:
            raise SecretStoreError(
                f"{path} is readable or writable by other users "
                f"(mode {stat.S_IMODE(info.st_mode):04o}); run `chmod 600 {path}` and "
                "consider the secrets it protects exposed."
            )
        return handle.read()


@contextlib.contextmanager
def locked(lock_path: Path, *, shared: bool = False) -> Iterator[None]:
    """Hold a ``flock`` on ``lock_path`` (created 0600) for the block: exclusive unless ``shared``.

    Every read-modify-write of the store holds it exclusively, so concurrent writers (threads
    with their own descriptors, or other processes) never lose each other's changes; readers
    hold it shared so they never see a keys file and a secrets file from different moments.
    """
    lock_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, PRIVATE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
