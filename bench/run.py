"""One benchmark run: a fresh sandbox, one contender, one world, bounded in real time."""

from __future__ import annotations

import json
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import observe
from bench.contenders import Contender, ContenderSetup, contender
from bench.metrics import Figures, MergeRequestRecord, RunRecord, figures, is_resolved, split_calls
from bench.sandbox import SandboxProcess
from bench.worlds import BOT_TOKEN, PROJECT, World

POLL_SECONDS = 1.0  # real seconds between two looks at the MRs
PROGRESS_SECONDS = 10.0

Progress = Callable[[str], None]


@dataclass
class RunOutcome:
    """What a run produced (``figures`` is None when it failed before t0)."""

    world: str
    contender: str
    seed: int
    clock_speed: float
    folder: Path
    real_seconds: float
    figures: Figures | None
    error: str | None = None
    record: RunRecord | None = None  # what the figures were computed from
    chaos: dict[str, Any] | None = None  # kills and injected faults of a chaos world

    def as_dict(self) -> dict[str, Any]:
        return {
            "world": self.world,
            "contender": self.contender,
            "seed": self.seed,
            "clock_speed": self.clock_speed,
            "folder": str(self.folder),
            "real_seconds": round(self.real_seconds, 1),
            "error": self.error,
            "figures": self.figures.as_dict() if self.figures else None,
            "chaos": self.chaos,
        }


@dataclass
class Watch:
    """What the harness saw while the contender worked."""

    t0: datetime
    assigned: dict[int, float]
    resolved: dict[int, float]
    complete: bool = False
    error: str | None = None
    kills: int = 0


def run(
    world: World, contender_name: str, folder: Path, limit_seconds: float, progress: Progress
) -> RunOutcome:
    """Run ``contender_name`` on ``world``; every process started is stopped on any exit."""
    folder.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    parameters = world.parameters
    outcome = RunOutcome(
        parameters.name, contender_name, parameters.seed, parameters.clock_speed, folder, 0.0, None
    )
    sandbox = SandboxProcess(world, folder)
    bot = contender(contender_name)
    try:
        sandbox.wait_until_answering()
        sandbox.wait_for_setup_pipelines()
        sandbox.set_speed(parameters.clock_speed)
        killed = parameters.kill_every_seconds is not None
        speed = parameters.clock_speed
        setup = ContenderSetup(
            sandbox.url, BOT_TOKEN, PROJECT, folder, speed, killed_during_run=killed
        )
        bot.start(setup)
        if parameters.fault_rate:
            sandbox.inject_faults(parameters.fault_rate)
        outcome.record, outcome.error, kills = _measure(
            world, sandbox, bot, folder, limit_seconds, progress, started
        )
        outcome.figures = figures(outcome.record)
        if parameters.chaotic:
            outcome.chaos = {"kills": kills, "faults": sandbox.fault_counters()}
    except Exception as error:  # a run that breaks is reported, the table goes on
        outcome.error = f"{type(error).__name__}: {error}"
    finally:
        bot.stop()
        sandbox.stop()
        outcome.real_seconds = time.monotonic() - started
        (folder / "result.json").write_text(json.dumps(outcome.as_dict(), indent=2))
    return outcome


def _measure(
    world: World,
    sandbox: SandboxProcess,
    bot: Contender,
    folder: Path,
    limit_seconds: float,
    progress: Progress,
    started: float,
) -> tuple[RunRecord, str | None, int]:
    calls_before = observe.bot_calls(sandbox)
    pipelines_before = max((p["id"] for p in sandbox.admin("GET", "pipelines")), default=0)
    watch = Watch(t0=sandbox.now(), assigned={}, resolved={})
    _watch(world, sandbox, bot, watch, started + limit_seconds, progress)
    end_s = (sandbox.now() - watch.t0).total_seconds()
    bot.stop()  # nothing changes while the results are read
    mrs = observe.merge_requests(sandbox)
    record = RunRecord(
        merge_requests=tuple(_mr_record(mrs[iid], iid, watch) for iid in world.iids),
        pipelines_after_t0=observe.pipeline_records(
            sandbox.admin("GET", "pipelines"), watch.t0, pipelines_before
        ),
        bot_calls=split_calls(observe.bot_calls(sandbox), calls_before),
        pairs=tuple((pair.first, pair.second) for pair in world.pairs),
        green_main=bool(sandbox.admin("GET", "green-main")["green"]),
        commits_adding=observe.commits_adding(sandbox, world, folder),
        end_s=end_s,
        complete=watch.complete,
    )
    (folder / "record.json").write_text(json.dumps(_plain(record), indent=1, default=str))
    shutil.rmtree(folder / "target.git", ignore_errors=True)
    return record, watch.error, watch.kills


def _watch(
    world: World,
    sandbox: SandboxProcess,
    bot: Contender,
    watch: Watch,
    deadline: float,
    progress: Progress,
) -> None:
    """Assign MRs as they arrive and note when each is resolved, until all are or time is up."""
    bot_id = observe.bot_user_id(sandbox)
    arrivals = sorted(zip(world.arrivals, world.iids, strict=True))
    label = f"{world.parameters.name} {bot.name}"
    next_progress = 0.0
    killer = Killer.for_world(world, bot)
    while True:
        now_s = (sandbox.now() - watch.t0).total_seconds()
        if killer is not None and killer.due(now_s):
            progress(f"[{label}] killing {bot.name} (SIGKILL) at simulated {now_s:,.0f} s")
            killer.kill_and_restart()
            watch.kills += 1
            killer.schedule_after((sandbox.now() - watch.t0).total_seconds())
        while arrivals and arrivals[0][0] <= now_s:
            _, iid = arrivals.pop(0)
            observe.assign_to_bot(sandbox, iid, bot_id)
            watch.assigned[iid] = (sandbox.now() - watch.t0).total_seconds()
        _note_resolved(sandbox, watch, now_s)
        if len(watch.resolved) == len(world.iids):
            watch.complete = True
        elif bot.process is not None and not bot.process.running:
            watch.error = f"{bot.name} exited; see {bot.process.log}"
        elif time.monotonic() > deadline:
            watch.error = "incomplete: the real-time limit was reached"
        if time.monotonic() >= next_progress or watch.complete or watch.error:
            progress(f"[{label}] resolved {len(watch.resolved)}/{len(world.iids)}  "
                     f"simulated {now_s:,.0f} s")  # fmt: skip
            next_progress = time.monotonic() + PROGRESS_SECONDS
        if watch.complete or watch.error:
            return
        time.sleep(POLL_SECONDS)


class Killer:
    """Kills the contender (SIGKILL) and restarts it at seeded random simulated times: the next
    kill comes a random 0.3 to 1.7 times ``kill_every_seconds`` after the restart, so the
    contender always gets some time to work (taking its projects over costs a lease period)."""

    def __init__(self, bot: Any, every_seconds: float, seed: int) -> None:
        self.bot = bot
        self.every = every_seconds
        self.random = random.Random(f"kills:{seed}")
        self.next_s = self._gap()

    @classmethod
    def for_world(cls, world: World, bot: Contender) -> Killer | None:
        every = world.parameters.kill_every_seconds
        if every is None:
            return None
        if not hasattr(bot, "kill_and_restart"):
            raise RuntimeError(f"{bot.name} cannot be killed and restarted by the harness")
        return cls(bot, every, world.parameters.seed)

    def _gap(self) -> float:
        return self.random.uniform(0.3, 1.7) * self.every

    def due(self, now_s: float) -> bool:
        return now_s >= self.next_s

    def kill_and_restart(self) -> None:
        self.bot.kill_and_restart()

    def schedule_after(self, now_s: float) -> None:
        self.next_s = now_s + self._gap()


def _note_resolved(sandbox: SandboxProcess, watch: Watch, now_s: float) -> None:
    mrs = observe.merge_requests(sandbox)
    for iid in watch.assigned:
        mr = mrs[iid]
        if iid in watch.resolved or not is_resolved(mr["state"], observe.with_bot(mr)):
            continue
        merged_s = observe.seconds_after(watch.t0, mr.get("merged_at"))
        watch.resolved[iid] = merged_s if merged_s is not None else now_s


def _mr_record(mr: dict[str, Any], iid: int, watch: Watch) -> MergeRequestRecord:
    return MergeRequestRecord(
        iid=iid,
        state=mr["state"],
        with_bot=observe.with_bot(mr),
        assigned_s=watch.assigned.get(iid),
        merged_s=observe.seconds_after(watch.t0, mr.get("merged_at")),
        resolved_s=watch.resolved.get(iid),
    )


def _plain(record: RunRecord) -> dict[str, Any]:
    return asdict(record)
