"""``quotaflow bench``: benchmarks that print figures.

Each command imports its benchmark when it runs: they bring the fold, the
generators and the clients in, which every other command (``worker`` first, whose
restart waits for its imports) would otherwise load for nothing.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from streams.bench import DEFAULT_REPS
from streams.cli.options import configure_logging
from streams.infra.runtime import PlanFileError, load_plan
from streams.infra.settings import EmbeddedBroker

bench_cli = typer.Typer(help="Benchmarks that print figures.", no_args_is_help=True)

# Options the stream and kill benchmarks share.
PlanFile = Annotated[Path, typer.Option(help="Plan file.")]
Partitions = Annotated[int, typer.Option(help="Partitions per topic.")]
Broker = Annotated[EmbeddedBroker, typer.Option(help="Embedded broker to measure on.")]
YearReps = Annotated[int, typer.Option(min=1, help="Reps of the generated year.")]
TeamReps = Annotated[int, typer.Option(help="Reps, in teams of 8 in 4 regions.", min=1)]
YearSeed = Annotated[int, typer.Option(help="Seed of the generated year.")]
REFERENCE_PLAN = Path("examples/plans/reference.yaml")


@bench_cli.command("fold")
def bench_fold_command(
    events: Annotated[
        int, typer.Option(help="Events in the year.", min=1, max=5_000_000)
    ] = 50_000,
    reps: TeamReps = DEFAULT_REPS,
    plan: PlanFile = REFERENCE_PLAN,
    seed: YearSeed = 11,
) -> None:
    """Events/s of parsing, decode + validation, the fold (file and Kafka order),
    per-event cost across the run and the state's bytes per event, on one core."""
    from streams.bench.fold import bench_fold  # noqa: PLC0415 - see the module

    _year_bench("fold", bench_fold, plan, events, reps, seed, digits=1)


# bench(plan, events, reps, seed, progress) -> figures
YearBench = Callable[..., dict[str, float]]


def _year_bench(
    name: str,
    bench: YearBench,
    plan: Path,
    events: int,
    reps: int,
    seed: int,
    *,
    digits: int,
) -> None:
    """Run a bench over a generated year and print its figures as one JSON object."""
    try:
        figures = bench(
            load_plan(plan), events, reps, seed,
            lambda text: typer.echo(f"bench {name}: {text}", err=True),
        )  # fmt: skip
    except PlanFileError as exc:
        _plan_missing(exc)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--events") from exc
    typer.echo(json.dumps({k: round(v, digits) for k, v in figures.items()}))


@bench_cli.command("stream")
def bench_stream_command(  # noqa: PLR0913, PLR0917 - the command's options
    events: Annotated[int, typer.Option(help="How many sample events.")] = 20_000,
    partitions: Partitions = 6,
    broker: Broker = EmbeddedBroker.NOIDA,
    batch_size: Annotated[int, typer.Option(help="Agent batch size.")] = 2000,
    rate: Annotated[
        float, typer.Option(min=0, help="Sustained phase: events/s (0: skip it).")
    ] = 5_000,
    seconds: Annotated[
        float, typer.Option(min=0, help="Sustained phase: how long.")
    ] = 60,
    reps: YearReps = 1_000,
    plan: PlanFile = REFERENCE_PLAN,
) -> None:
    """Raw consume ceiling, events/s end to end (topics -> worker -> ClickHouse),
    latency at a sustained rate, and a restart's recovery, on embedded engines."""
    from streams.bench.stream import bench_stream  # noqa: PLC0415 - see the module

    configure_logging(verbose=False)
    _plan_found(plan)
    with tempfile.TemporaryDirectory(prefix="quotaflow-bench-") as data_dir:
        figures = bench_stream(
            events,
            partitions,
            Path(data_dir),
            broker,
            batch_size,
            lambda text: typer.echo(text, err=True),
            rate,
            seconds,
            reps,
            plan.resolve(),
        )
    typer.echo(json.dumps(figures))


def _plan_found(plan: Path) -> None:
    """A missing plan says so before the engines start."""
    try:
        load_plan(plan)
    except PlanFileError as exc:
        _plan_missing(exc)


def _empty(data_dir: Path | None) -> None:
    """A directory given for the engines must be empty (it is kept after)."""
    if data_dir is not None and data_dir.exists() and any(data_dir.iterdir()):
        typer.secho(f"{data_dir} is not empty", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)


def _plan_missing(exc: PlanFileError) -> NoReturn:
    """One sentence, not a traceback: the default plan is relative to the
    project's directory."""
    typer.secho(f"{exc} (run from the project directory, or pass --plan)",
                fg=typer.colors.RED, err=True)  # fmt: skip
    raise typer.Exit(2) from exc


@bench_cli.command("query")
def bench_query_command(
    lines: Annotated[
        int, typer.Option(min=1, help="Ledger lines to fill.")
    ] = 10_000_000,
    reps: Annotated[
        int, typer.Option(min=1, help="Reps the lines belong to.")
    ] = 100_000,
    runs: Annotated[int, typer.Option(min=1, help="Timed calls of each query.")] = 200,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="An empty directory for the engine (kept); else a temp one."),
    ] = None,
) -> None:
    """p50/p99/max ms of leaderboard, heatmap and statement over a filled ClickHouse."""
    from projections.store import Store  # noqa: PLC0415 - see the module
    from streams.bench.query import bench_query  # noqa: PLC0415 - see the module

    _empty(data_dir)
    with tempfile.TemporaryDirectory(prefix="quotaflow-bench-") as temporary:
        store = Store.embedded(data_dir or Path(temporary), "quotaflow_bench")
        try:
            figures = bench_query(
                store, lines, reps, runs, lambda text: typer.echo(text, err=True)
            )
        finally:
            store.close()
    typer.echo(json.dumps(figures))


@bench_cli.command("kill")
def bench_kill_command(  # noqa: PLR0913, PLR0917 - the command's options
    events: Annotated[
        int, typer.Option(min=1, help="Events of history before the kill.")
    ] = 100_000,
    tail: Annotated[
        int, typer.Option(min=0, help="Events produced while the worker is away.")
    ] = 1_000,
    partitions: Partitions = 6,
    broker: Broker = EmbeddedBroker.NOIDA,
    reps: YearReps = 1_000,
    snapshot_seconds: Annotated[
        float, typer.Option(min=0.1, help="The worker's checkpoint interval.")
    ] = 5.0,
    plan: PlanFile = REFERENCE_PLAN,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="An empty directory for the broker and the workers (kept, with "
            "the workers' logs); else a temporary one."
        ),
    ] = None,
) -> None:
    """Seconds a worker process killed with SIGKILL takes to come back and catch up,
    after a history of EVENTS, on an embedded broker."""
    from streams.bench.kill import bench_kill  # noqa: PLC0415 - see the module

    configure_logging(verbose=False)
    _plan_found(plan)
    _empty(data_dir)
    with tempfile.TemporaryDirectory(prefix="quotaflow-bench-") as temporary:
        figures = bench_kill(
            events,
            tail,
            partitions,
            broker,
            reps,
            plan.resolve(),
            (data_dir or Path(temporary)).resolve(),
            lambda text: typer.echo(text, err=True),
            snapshot_seconds,
        )
    typer.echo(json.dumps(figures))


@bench_cli.command("snapshot")
def bench_snapshot_command(
    events: Annotated[
        int, typer.Option(help="Events in the year.", min=100, max=1_000_000)
    ] = 30_000,
    reps: TeamReps = 60,
    plan: PlanFile = REFERENCE_PLAN,
    seed: YearSeed = 11,
) -> None:
    """KB and ms of the busiest rep's checkpoint after a year (in pieces, and as one
    whole-world entry), and of the round after one more of its events."""
    from streams.bench.snapshot import bench_snapshot  # noqa: PLC0415 - see the module

    _year_bench("snapshot", bench_snapshot, plan, events, reps, seed, digits=2)
