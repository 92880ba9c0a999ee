"""``HEAD .../repository/files/:path``: the file's metadata as X-Gitlab-* headers, as GitLab."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

import gitlab
import pytest


def test_head_gives_metadata_without_content(client: Callable[[str], gitlab.Gitlab]) -> None:
    project = client("alice").projects.get("acme/app")
    full = project.files.get("src/app.py", ref="main")
    headers = project.files.head("src/app.py", ref="main")
    content = base64.b64decode(full.content)
    assert headers["X-Gitlab-Size"] == str(len(content))
    assert headers["X-Gitlab-Content-Sha256"] == hashlib.sha256(content).hexdigest()
    assert headers["X-Gitlab-Blob-Id"] == full.blob_id
    assert headers["X-Gitlab-Last-Commit-Id"] == full.last_commit_id
    assert headers["X-Gitlab-Commit-Id"] == full.commit_id
    assert headers["X-Gitlab-File-Path"] == "src/app.py"
    assert headers["X-Gitlab-File-Name"] == "app.py"
    assert headers["X-Gitlab-Ref"] == "main"
    assert headers["X-Gitlab-Execute-Filemode"] == "false"


def test_head_of_a_missing_file_is_404(client: Callable[[str], gitlab.Gitlab]) -> None:
    project = client("alice").projects.get("acme/app")
    with pytest.raises(gitlab.GitlabHeadError) as missing:
        project.files.head("nope.txt", ref="main")
    assert missing.value.response_code == 404
    with pytest.raises(gitlab.GitlabHttpError) as outsider:
        client("outsider").http_head("/projects/acme%2Fapp/repository/files/README.md?ref=main")
    assert outsider.value.response_code == 404
