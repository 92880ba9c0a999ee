"""The git wrapper on real repositories: file:// remotes, and real HTTP with Basic auth."""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from merge_assist.gitlab.git import (
    GitCli,
    GitCommandError,
    GitPushRejected,
    GitRepository,
    GitTimeout,
)
from merge_assist.gitlab.git_runner import TOKEN_VARIABLE

TOKEN = "glpat-gitwrappertest012345"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@pytest.fixture
def cli(tmp_path: Path) -> GitCli:
    return GitCli(tmp_path / "home", token=TOKEN, time_limit=60)


@pytest.fixture
async def origin(cli: GitCli, tmp_path: Path) -> GitRepository:
    """A bare repository with ``main`` (a.txt), ``clean`` (+b.txt) and ``clash`` (edits a.txt)."""
    bare = await cli.init(tmp_path / "remotes" / "origin.git", bare=True)
    seed = await cli.init(tmp_path / "seed")
    await seed.configure_identity("Seeder", "seed@example.com")
    write(seed.path / "a.txt", "one\n")
    await seed.commit("first")
    await seed.run("remote", "add", "origin", bare.path.as_uri())
    await seed.push("main")
    await seed.create_branch("clean", "main")
    write(seed.path / "b.txt", "bee\n")
    await seed.commit("add b")
    await seed.push("clean")
    await seed.create_branch("clash", "main")
    write(seed.path / "a.txt", "clash\n")
    await seed.commit("clash on a")
    await seed.push("clash")
    await seed.checkout("main")
    write(seed.path / "a.txt", "main moved\n")
    await seed.commit("main moves a")
    await seed.push("main")
    await bare.run("update-server-info")  # for the dumb-HTTP clone test
    return bare


async def clone(cli: GitCli, origin: GitRepository, dest: Path) -> GitRepository:
    repo = await cli.clone(origin.path.as_uri(), dest, branch="main")
    await repo.configure_identity("Merge Assist", "bot@example.com")
    return repo


async def test_clone_keeps_the_token_out_of_argv_config_and_url(
    cli: GitCli, origin: GitRepository, tmp_path: Path
) -> None:
    repo = await clone(cli, origin, tmp_path / "work")

    assert await repo.remote_url() == origin.path.as_uri()
    assert TOKEN not in read(repo.path / ".git" / "config")
    assert TOKEN not in " ".join(cli.command("clone", "--", origin.path.as_uri(), "x"))
    assert TOKEN not in read(cli.askpass)
    assert TOKEN not in read(cli.config_file)
    assert TOKEN not in repr(cli)
    assert cli.environment()[TOKEN_VARIABLE] == TOKEN  # only in the child's environment


async def test_environment_is_clean_and_stores_no_credentials(
    cli: GitCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "do-not-leak")
    monkeypatch.setenv("GIT_TRACE_CURL", "1")

    env = cli.environment()
    listing = (await cli.run("config", "--global", "--list")).stdout

    assert "AWS_SECRET_ACCESS_KEY" not in env
    assert "GIT_TRACE_CURL" not in env
    assert env["GIT_TERMINAL_PROMPT"] == "0"
    assert env["GIT_CONFIG_NOSYSTEM"] == "1"
    assert env["HOME"] == str(cli.home)
    assert "credential.helper=\n" in listing
    assert TOKEN_VARIABLE not in GitCli(cli.home).environment()


async def test_urls_with_credentials_are_refused(cli: GitCli, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="credentials"):
        await cli.clone(f"https://oauth2:{TOKEN}@gitlab.example.com/g/p.git", tmp_path / "x")


async def test_merge_returns_the_new_commit(
    cli: GitCli, origin: GitRepository, tmp_path: Path
) -> None:
    repo = await clone(cli, origin, tmp_path / "work")
    await repo.fetch(["+refs/heads/*:refs/remotes/origin/*"])
    await repo.create_branch("batch-1", "origin/main")

    outcome = await repo.merge("origin/clean", "Merge clean")

    assert outcome.ok
    assert outcome.sha == await repo.rev_parse("HEAD")
    assert read(repo.path / "b.txt") == "bee\n"
    parents = (await repo.run("rev-list", "--parents", "-n", "1", "HEAD")).stdout.split()
    assert len(parents) == 3  # a merge commit (--no-ff)


async def test_merge_conflict_is_reported_and_aborted(
    cli: GitCli, origin: GitRepository, tmp_path: Path
) -> None:
    repo = await clone(cli, origin, tmp_path / "work")
    await repo.fetch(["+refs/heads/*:refs/remotes/origin/*"])
    head = await repo.rev_parse("HEAD")

    outcome = await repo.merge("origin/clash", "Merge clash")

    assert not outcome.ok
    assert outcome.conflicts == ("a.txt",)
    assert await repo.rev_parse("HEAD") == head
    assert (await repo.run("status", "--porcelain")).stdout == ""


async def test_rebase_moves_the_branch_or_aborts_on_conflict(
    cli: GitCli, origin: GitRepository, tmp_path: Path
) -> None:
    repo = await clone(cli, origin, tmp_path / "work")
    await repo.fetch(["+refs/heads/*:refs/remotes/origin/*"])

    await repo.create_branch("clean", "origin/clean")
    rebased = await repo.rebase("origin/main")
    assert rebased.ok
    assert await repo.rev_parse("HEAD~1") == await repo.rev_parse("origin/main")

    await repo.create_branch("clash", "origin/clash")
    before = await repo.rev_parse("HEAD")
    conflicted = await repo.rebase("origin/main")
    assert not conflicted.ok
    assert conflicted.conflicts == ("a.txt",)
    assert await repo.rev_parse("HEAD") == before
    assert (await repo.run("status", "--porcelain")).stdout == ""
    assert not (repo.path / ".git" / "rebase-merge").exists()


async def test_push_with_lease_is_a_compare_and_swap(
    cli: GitCli, origin: GitRepository, tmp_path: Path
) -> None:
    repo = await clone(cli, origin, tmp_path / "work")
    main_before = await origin.rev_parse("main")
    write(repo.path / "c.txt", "sea\n")
    tested = await repo.commit("tested change")

    with pytest.raises(GitPushRejected) as rejected:
        await repo.push("HEAD", branch="main", force_with_lease="0" * 40)
    assert await origin.rev_parse("main") == main_before
    assert TOKEN not in rejected.value.message

    await repo.push("HEAD", branch="main", force_with_lease=main_before)
    assert await origin.rev_parse("main") == tested
    assert await origin.tree_id("main") == await repo.tree_id("HEAD")


async def test_push_without_lease_refuses_non_fast_forward(
    cli: GitCli, origin: GitRepository, tmp_path: Path
) -> None:
    repo = await clone(cli, origin, tmp_path / "work")
    await repo.fetch(["+refs/heads/*:refs/remotes/origin/*"])
    await repo.create_branch("old", "origin/clash")

    with pytest.raises(GitPushRejected):
        await repo.push("old", branch="main")


async def test_error_output_is_redacted(cli: GitCli, origin: GitRepository, tmp_path: Path) -> None:
    repo = await clone(cli, origin, tmp_path / "work")

    with pytest.raises(GitCommandError) as caught:
        await repo.checkout(TOKEN)  # git echoes the unknown revision back

    assert TOKEN not in caught.value.message
    assert "[redacted]" in caught.value.message
    assert caught.value.returncode != 0


async def test_option_like_revisions_are_refused(cli: GitCli, tmp_path: Path) -> None:
    repo = cli.open(tmp_path)
    with pytest.raises(ValueError, match="revision"):
        await repo.checkout("--upload-pack=evil")


class _BasicAuthRepoHandler(SimpleHTTPRequestHandler):
    """Serves bare repositories over git's dumb HTTP protocol behind HTTP Basic auth."""

    expected: str = ""
    seen: list[str]

    def do_GET(self) -> None:
        header = self.headers.get("Authorization", "")
        self.seen.append(header)
        if header != self.expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="GitLab"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def http_remote(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    expected = "Basic " + base64.b64encode(f"oauth2:{TOKEN}".encode()).decode()
    handler = type("Handler", (_BasicAuthRepoHandler,), {"expected": expected, "seen": seen})
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(handler, directory=str(tmp_path / "remotes"))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/origin.git", seen
    server.shutdown()
    server.server_close()


async def test_clone_over_http_authenticates_through_askpass(
    cli: GitCli, origin: GitRepository, tmp_path: Path, http_remote: tuple[str, list[str]]
) -> None:
    url, seen = http_remote

    repo = await cli.clone(url, tmp_path / "over-http", branch="main")

    assert await repo.rev_parse("HEAD") == await origin.rev_parse("main")
    assert await repo.remote_url() == url
    assert TOKEN not in read(repo.path / ".git" / "config")
    expected = "Basic " + base64.b64encode(f"oauth2:{TOKEN}".encode()).decode()
    assert seen[0] == ""  # nothing sent until the server asks
    assert expected in seen


async def test_failed_authentication_is_reported_without_the_token(
    origin: GitRepository, tmp_path: Path, http_remote: tuple[str, list[str]]
) -> None:
    url, _seen = http_remote
    wrong = GitCli(tmp_path / "other-home", token="glpat-wrongtoken0123456789")

    with pytest.raises(GitCommandError) as caught:
        await wrong.clone(url, tmp_path / "denied")

    assert "Authentication failed" in caught.value.message
    assert "glpat-wrongtoken0123456789" not in caught.value.message
    assert TOKEN not in caught.value.message


async def test_without_a_token_git_fails_instead_of_prompting(
    origin: GitRepository, tmp_path: Path, http_remote: tuple[str, list[str]]
) -> None:
    url, _seen = http_remote
    anonymous = GitCli(tmp_path / "anon-home")

    with pytest.raises(GitCommandError, match="terminal prompts disabled"):
        await anonymous.clone(url, tmp_path / "anon")


async def test_a_hung_git_is_killed_at_its_time_limit(tmp_path: Path) -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/g/p.git"
        impatient = GitCli(tmp_path / "home", token=TOKEN, time_limit=1)

        with pytest.raises(GitTimeout, match="did not finish within 1 seconds"):
            await impatient.clone(url, tmp_path / "never")
