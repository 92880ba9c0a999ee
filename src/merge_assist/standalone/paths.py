"""Where a standalone instance keeps its data, and the settings it runs with.

The data (SQLite database, generated secret key) lives in the user's data folder
(``platformdirs``: ``~/.local/share/merge-assist``, ``%LOCALAPPDATA%\\merge-assist``,
``~/Library/Application Support/merge-assist``), or in ``MERGE_ASSIST_DATA_DIR``. Never in the
folder a PyInstaller one-file executable unpacks itself into (``sys._MEIPASS``): that folder is
deleted when the program exits, and the original lost every lock and message that way.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from pydantic import SecretStr

from merge_assist.kit.settings import SECRET_KEY_FILE, Settings, load_or_create_key_file

LOOPBACK = "127.0.0.1"


class UnsafeDataFolder(ValueError):
    """The data folder would be lost when the program exits (inside the unpack folder)."""


def unpack_folder() -> Path | None:
    """The temporary folder a PyInstaller one-file executable runs from (None otherwise)."""
    found = getattr(sys, "_MEIPASS", None)
    return Path(found) if found else None


def standalone_data_dir(settings: Settings, *, unpacked_into: Path | None = None) -> Path:
    """The data folder of a standalone instance: the configured one, never the unpack folder.

    ``unpacked_into`` defaults to :func:`unpack_folder`; tests pass a simulated one.
    """
    folder = settings.data_dir.expanduser().resolve()
    unpack = unpacked_into if unpacked_into is not None else unpack_folder()
    if unpack is not None and folder.is_relative_to(unpack.expanduser().resolve()):
        raise UnsafeDataFolder(
            f"The data folder {folder} is inside the executable's temporary unpack folder "
            f"{unpack}, which is deleted when the program exits. Set MERGE_ASSIST_DATA_DIR to "
            "a lasting folder (or leave it unset to use your user data folder)."
        )
    return folder


def standalone_settings(settings: Settings, *, unpacked_into: Path | None = None) -> Settings:
    """``settings`` for one user on their machine: loopback only, data in the user data folder,
    SQLite there (unless a database is configured), a secret key generated there (0600), and
    the user signing in with their GitLab token is this instance's administrator (unless
    ``MERGE_ASSIST_GITLAB_LOGIN_DEFAULT_ROLE`` says otherwise)."""
    folder = standalone_data_dir(settings, unpacked_into=unpacked_into)
    folder.mkdir(parents=True, exist_ok=True)
    if os.name == "posix":
        folder.chmod(stat.S_IRWXU)  # the database holds encrypted tokens: owner only
    key = settings.secret_key
    if key is None or not key.get_secret_value():
        key = SecretStr(load_or_create_key_file(folder / SECRET_KEY_FILE))
    update: dict[str, object] = {
        "data_dir": folder,
        "host": LOOPBACK,
        "secret_key": key,
        "standalone": True,
    }
    if "gitlab_login_default_role" not in settings.model_fields_set:
        # The user owns this instance; what they may do to others' locks GitLab decides.
        update["gitlab_login_default_role"] = "admin"
    return settings.model_copy(update=update)
