"""Building a wired sandbox: the store, CI listeners and the services around them."""

from __future__ import annotations

import functools

from gitlab_sandbox.clock import SandboxClock
from gitlab_sandbox.sandbox import Sandbox, SandboxConfig
from gitlab_sandbox.services.pipelines import on_run_change


def build_sandbox(config: SandboxConfig, *, clock: SandboxClock | None = None) -> Sandbox:
    """A sandbox whose CI status changes reach MRs, webhooks and auto-merge."""
    sandbox = Sandbox(config, clock=clock)
    sandbox.pipeline_listeners.append(functools.partial(on_run_change, sandbox))
    return sandbox
