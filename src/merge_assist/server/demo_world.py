"""The demo's GitLab world: one project, a bot, two developers and a stream of merge requests."""

from __future__ import annotations

from typing import Any

BOT = "merge-assist-bot"
GROUP = "demo"
PROJECT = f"{GROUP}/widgets"
CAM_PROJECT = f"{GROUP}/cam-programs"
CAM_FOLDER = "programs"
BREAKS_CI = "sandbox-ci: fail"
# Shop-floor programs for the vault: G-code (text) and Mastercam parts (binary, NUL bytes).
CAM_FILES = {
    "bracket/op10-rough.nc": "%\nO1001 (BRACKET OP10 ROUGH)\nG21 G90 G17\nT1 M6\nS8000 M3\n"
    "G0 X0 Y0 Z5\nG1 Z-2 F300\nG1 X40 F800\nG1 Y25\nG1 X0\nG1 Y0\nG0 Z25\nM30\n%\n",
    "bracket/op20-finish.nc": "%\nO1002 (BRACKET OP20 FINISH)\nG21 G90 G17\nT2 M6\n"
    "S12000 M3\nG0 X-1 Y-1 Z5\nG1 Z-2.5 F200\nG1 X41 F600\nG1 Y26\nG1 X-1\nG1 Y-1\n"
    "G0 Z25\nM30\n%\n",
    "bracket/bracket.mcam": "MCAM\u0000\u0001\u0002 part=bracket stock=AL6061 ops=2\u0000",
    "housing/housing.mcam": "MCAM\u0000\u0001\u0002 part=housing stock=AL7075 ops=5\u0000",
    "housing/op10-face.tap": "%\nO2001 (HOUSING FACE)\nG21 G90\nT3 M6\nS6000 M3\n"
    "G0 X-5 Y0 Z5\nG1 Z0 F200\nG1 X105 F1200\nG0 Z25\nM30\n%\n",
}


def _mr(number: int, author: str, files: dict[str, str], title: str) -> dict[str, Any]:
    return {
        "project": PROJECT,
        "source_branch": f"feature/{number:02d}",
        "target_branch": "main",
        "title": title,
        "author": author,
        "assignees": [BOT],
        "files": files,
    }


def _person(username: str, name: str, token: str | None) -> dict[str, Any]:
    email = f"{username}@example.com"
    person: dict[str, Any] = {"username": username, "name": name, "email": email}
    if token:
        person["tokens"] = [{"name": "dashboard", "value": token, "scopes": ["api"]}]
    return person


def demo_scenario(bot_token: str, people_tokens: dict[str, str] | None = None) -> dict[str, Any]:
    """A project with ten MRs assigned to the bot: two break CI, one conflicts with another.

    ``people_tokens`` gives alice and bob personal access tokens (scope ``api``), so they can
    sign in to the dashboard with the GitLab Token tab.
    """
    tokens = people_tokens or {}
    mrs = [
        _mr(n, "alice" if n % 2 else "bob", {f"widgets/w{n:02d}.py": f"WIDGET = {n}\n"}, t)
        for n, t in enumerate(
            [
                "Add gear widget",
                "Add spring widget",
                "Add lever widget",
                "Add cam widget",
                "Add pulley widget",
                "Add ratchet widget",
            ],
            start=1,
        )
    ]
    mrs.append(_mr(7, "alice", {"widgets/w08.py": f"# {BREAKS_CI}\n"}, "Refactor axle widget"))
    mrs.append(_mr(8, "bob", {"widgets/w09.py": f"# {BREAKS_CI}\n"}, "Speed up bearing widget"))
    mrs.append(_mr(9, "bob", {"README.md": "# Widgets (renamed)\n"}, "Rename the project"))
    mrs.append(_mr(10, "alice", {"README.md": "# Gadgets\n"}, "Rename to gadgets"))
    world: dict[str, Any] = {
        "seed": 7,
        "clock_speed": 30,
        "ci": {"duration_seconds": [60, 240], "runner_capacity": 2, "flake_rate": 0.0},
        "users": [
            {"username": "root", "admin": True},
            {
                "username": BOT,
                "name": "Merge Assist Bot",
                "bot": True,
                "tokens": [{"name": "merge-assist", "value": bot_token, "scopes": ["api"]}],
            },
            _person("alice", "Alice Machinist", tokens.get("alice")),
            _person("bob", "Bob Programmer", tokens.get("bob")),
        ],
        # The shop's GitLab group: the demo lets its members sign in (as members).
        "groups": [
            {
                "path": GROUP,
                "name": "Demo shop",
                "members": {"alice": "developer", "bob": "developer"},
            }
        ],
        "projects": [
            {
                "path": PROJECT,
                "default_branch": "main",
                "settings": {
                    "merge_method": "merge",
                    "only_allow_merge_if_pipeline_succeeds": True,
                },
                "members": {BOT: "maintainer", "alice": "developer", "bob": "developer"},
                "protected_branches": [
                    {
                        "name": "main",
                        "push_access_level": "maintainer",
                        "merge_access_level": "developer",
                    }
                ],
                "files": {"README.md": "# Widgets\n", "widgets/__init__.py": ""},
            }
        ],
        "merge_requests": mrs,
    }
    world["projects"].append(_cam_project())
    return world


def _cam_project() -> dict[str, Any]:
    """The shop's CNC programs, kept in the vault (developers commit their own check-ins)."""
    return {
        "path": CAM_PROJECT,
        "default_branch": "main",
        "members": {BOT: "maintainer", "alice": "developer", "bob": "developer"},
        "protected_branches": [
            {"name": "main", "push_access_level": "developer", "merge_access_level": "developer"}
        ],
        "files": {
            "README.md": "# CAM programs\n\nChecked out and in through Merge Assist's vault.\n",
            **{f"{CAM_FOLDER}/{name}": content for name, content in CAM_FILES.items()},
        },
    }
