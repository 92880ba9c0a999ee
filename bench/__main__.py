"""``python -m bench``: run the merge-queue benchmark (see bench/README.md)."""

from __future__ import annotations

import json
import signal
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from bench import run as runs
from bench.contenders import CONTENDERS, TABLE_CONTENDERS
from bench.table import markdown
from bench.train_model import modelled_figures
from bench.worlds import STANDARD, TABLE_WORLDS, World, standard_world

MODELLED_TRAIN = "gitlab-train"

RESULTS = Path(__file__).resolve().parent / "results"
app = typer.Typer(no_args_is_help=True, help="Merge-queue benchmark against gitlab-sandbox.")


def _names(text: str, known: list[str] | tuple[str, ...], what: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise typer.BadParameter(f"unknown {what} {unknown}; choose among {', '.join(known)}")
    return names


def _stop_on_termination() -> None:
    """SIGTERM and SIGHUP end the run like Ctrl+C: every started process is stopped."""

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    for kind in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(kind, stop)


def _progress(line: str) -> None:
    typer.echo(f"{datetime.now():%H:%M:%S} {line}", err=True)


def _modelled(world: World) -> dict[str, Any]:
    """The row of the modelled GitLab merge train (no processes; no API calls modelled)."""
    figures = modelled_figures(world).as_dict()
    figures.update(api_calls=None, api_calls_per_merged=None, git_requests=None)
    return {
        "world": world.parameters.name,
        "contender": f"{MODELLED_TRAIN} (modelled)",
        "seed": world.parameters.seed,
        "error": None,
        "figures": figures,
    }


def _measured(
    world: World, name: str, folder: Path, repeat: int, limit_minutes: float, run: str = ""
) -> dict[str, Any]:
    params = world.parameters
    run_folder = folder / f"{params.name}-{name}-s{params.seed}-r{repeat + 1}"
    _progress(f"{run}[{params.name} {name}] starting (seed {params.seed}, "
              f"clock x{params.clock_speed:g}) in {run_folder}")  # fmt: skip
    outcome = runs.run(world, name, run_folder, limit_minutes * 60, _progress)
    _progress(f"[{params.name} {name}] finished in {outcome.real_seconds:.0f} s real"
              + (f" - {outcome.error}" if outcome.error else ""))  # fmt: skip
    return outcome.as_dict()


def run_table(
    worlds: list[str],
    contenders: list[str],
    *,
    clock_speed: float | None,
    seed: int | None,
    repeats: int,
    limit_minutes: float,
    results: Path,
) -> Path:
    """Every contender on every world, one run after another; the table grows after each run."""
    _stop_on_termination()
    folder = results / datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    outcomes: list[dict[str, Any]] = []
    measured = [name for name in contenders if name != MODELLED_TRAIN]
    total, started = len(worlds) * repeats * len(measured), 0
    for world_name in worlds:
        for repeat in range(repeats):
            world = standard_world(
                world_name,
                seed=None if seed is None else seed + repeat,
                clock_speed=clock_speed,
            )
            for name in contenders:
                if name == MODELLED_TRAIN:
                    outcomes.append(_modelled(world))
                else:
                    started += 1  # "run 3 of 12": how far the table is
                    run = f"run {started} of {total} "
                    outcomes.append(_measured(world, name, folder, repeat, limit_minutes, run))
                (folder / "table.json").write_text(json.dumps(outcomes, indent=2))
                (folder / "table.md").write_text(markdown(outcomes))
    return folder


@app.command("table")
def table(
    worlds: Annotated[str, typer.Option(help="Comma-separated worlds.")] = ",".join(TABLE_WORLDS),
    contenders: Annotated[
        str, typer.Option(help=f"Comma-separated contenders ({MODELLED_TRAIN}: modelled).")
    ] = ",".join((*TABLE_CONTENDERS, MODELLED_TRAIN)),
    clock_speed: Annotated[float | None, typer.Option(help="Override the worlds' clock.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed (repeat k uses seed + k).")] = None,
    repeats: Annotated[int, typer.Option(min=1, help="Runs per world and contender.")] = 1,
    limit_minutes: Annotated[float, typer.Option(help="Real-time limit per run.")] = 25.0,
    results: Annotated[Path, typer.Option(help="Results folder.")] = RESULTS,
) -> None:
    """The standard table: every contender on every world; JSON and Markdown in the results."""
    world_names = _names(worlds, list(STANDARD), "world")
    contender_names = _names(contenders, [*CONTENDERS, MODELLED_TRAIN], "contender")
    started = time.monotonic()
    folder = run_table(world_names, contender_names, clock_speed=clock_speed, seed=seed,
                       repeats=repeats, limit_minutes=limit_minutes, results=results)  # fmt: skip
    typer.echo((folder / "table.md").read_text())
    typer.echo(f"Results in {folder} ({(time.monotonic() - started) / 60:.1f} min)")


@app.command("run")
def run(
    world: Annotated[str, typer.Option(help="The world.")] = "A",
    contender: Annotated[str, typer.Option(help="The contender.")] = "ma-batch",
    clock_speed: Annotated[float | None, typer.Option(help="Override the world's clock.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the world and the sandbox.")] = None,
    limit_minutes: Annotated[float, typer.Option(help="Real-time limit.")] = 25.0,
    results: Annotated[Path, typer.Option(help="Results folder.")] = RESULTS,
) -> None:
    """One contender on one world."""
    table(world, contender, clock_speed, seed, 1, limit_minutes, results)


if __name__ == "__main__":
    app()
