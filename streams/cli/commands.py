"""The ``quotaflow`` command line."""

from __future__ import annotations

import gc
import json
import logging
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Annotated, Any

import typer
from confluent_kafka import Producer

from domain.ledger import line_as_json
from domain.plan import Plan
from domain.replay import replay, summary
from projections.ledger import leaderboard, rep_statement
from projections.store import Store
from streams.bench.fold import DEFAULT_REPS, bench_fold
from streams.bench.generator import SampleWorld, produce
from streams.bench.query import bench_query
from streams.bench.stream import bench_stream
from streams.cli.plancheck import check_plan
from streams.cli.rebuild import rebuild_command
from streams.cli.tokens import admin_token, token_cli, token_for_query
from streams.infra.runtime import PlanFileError, Runtime, load_plan, open_store, runtime
from streams.infra.settings import BrokerMode, ClickHouseMode, EmbeddedBroker, Settings
from streams.infra.topics import DEALS, messages_on
from streams.log.dlq import dead_letters, resubmit, select
from streams.worker.app import QuotaFlowApp
from streams.worker.lifecycle import FAILED_EXIT_CODE, WorkerFailed, run_until_signalled

log = logging.getLogger("quotaflow")
cli = typer.Typer(
    help="QuotaFlow: real-time, explainable sales incentives.", no_args_is_help=True
)
query_cli = typer.Typer(help="Read live figures from ClickHouse.", no_args_is_help=True)
cli.add_typer(query_cli, name="query")
bench_cli = typer.Typer(help="Benchmarks that print figures.", no_args_is_help=True)
cli.add_typer(bench_cli, name="bench")
plan_cli = typer.Typer(help="Incentive plan documents.", no_args_is_help=True)
cli.add_typer(plan_cli, name="plan")
dlq_cli = typer.Typer(
    help="Dead letters on the broker QUOTAFLOW_BOOTSTRAP_SERVERS names.",
    no_args_is_help=True,
)
cli.add_typer(dlq_cli, name="dlq")
cli.add_typer(token_cli, name="token")
cli.command("rebuild")(rebuild_command)
ReasonOpt = Annotated[
    str | None, typer.Option(help="Only dead letters with this reason code.")
]
OffsetOpt = Annotated[
    list[int] | None,
    typer.Option("--offset", help="Only this dead letter (repeatable)."),
]


@plan_cli.command("schema")
def plan_schema() -> None:
    """Print the JSON Schema of a plan document."""
    typer.echo(json.dumps(Plan.model_json_schema(), indent=2, ensure_ascii=False))


@plan_cli.command("check")
def plan_check(path: Path) -> None:
    """Report every error of a plan file with its field path and line."""
    problems = check_plan(path)
    for problem in problems:
        typer.secho(problem, fg=typer.colors.RED, err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"{path}: valid plan")


SeedOpt = Annotated[int, typer.Option(help="Seed of the sample-event generator.")]
RateOpt = Annotated[float, typer.Option(help="Sample deals per second.")]
BadRateOpt = Annotated[
    float, typer.Option(help="Share of deliberately malformed events.")
]


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("faust", "mode", "aiokafka", "kafka"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _settings(**overrides: Any) -> Settings:
    settings = Settings()
    return settings.model_copy(
        update={k: v for k, v in overrides.items() if v is not None}
    )


def _serve(rt: Runtime, on_started: Any = None) -> None:
    def make_app() -> QuotaFlowApp:
        return QuotaFlowApp(rt.settings, rt.store, rt.plan)

    def started(app: QuotaFlowApp) -> None:
        log.info(
            "worker started; web on http://%s:%s",
            rt.settings.web_host,
            rt.settings.web_port,
        )
        if on_started is not None:
            on_started(app)

    run_until_signalled(make_app, started)


def _run_guarded(fn: Any) -> None:
    try:
        fn()
    except PlanFileError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    except WorkerFailed as exc:
        typer.secho(f"the worker failed: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(FAILED_EXIT_CODE) from exc


@cli.command()
def run(
    rate: RateOpt = 5.0,
    seed: SeedOpt = 7,
    bad_rate: BadRateOpt = 0.01,
    web_port: Annotated[
        int | None, typer.Option(help="Port of board and metrics.")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Where embedded data lives.")
    ] = None,
    verbose: bool = False,
) -> None:
    """Start everything embedded: broker, ClickHouse, worker and sample deals."""
    _configure_logging(verbose)
    settings = _settings(
        broker_mode=BrokerMode.EMBEDDED,
        clickhouse_mode=ClickHouseMode.EMBEDDED,
        web_port=web_port,
        data_dir=data_dir,
    )

    def main() -> None:
        with runtime(settings) as rt:
            token_file = admin_token(rt.settings)
            stop = threading.Event()
            producer = Producer(rt.settings.confluent_config())
            world = SampleWorld(seed=seed)
            already = messages_on(rt.settings.confluent_config(), DEALS)
            generator = threading.Thread(
                target=produce,
                args=(producer, world),
                kwargs={
                    "count": None,
                    "rate": rate,
                    "bad_rate": bad_rate,
                    "stop": stop,
                    "skip": already,
                },
                name="sample-deals",
                daemon=True,
            )

            def started(_app: QuotaFlowApp) -> None:
                generator.start()
                _banner(rt.settings, rate, token_file)

            try:
                _serve(rt, started)
            finally:
                stop.set()
                if generator.is_alive():
                    generator.join(30)
        log.info("stopped cleanly")

    _run_guarded(main)


def _banner(settings: Settings, rate: float, token_file: Path) -> None:
    web = f"http://{settings.web_host}:{settings.web_port}"
    port_flag = (
        f" --worker-url {web}" if settings.web_port != Settings().web_port else ""
    )
    typer.echo(
        f"\nQuotaFlow is running: {settings.embedded_broker.value} broker on "
        f"{settings.bootstrap_servers}, ClickHouse engine in "
        f"{settings.clickhouse_dir}, "
        f"~{rate:g} sample deals/s.\n"
        f"  board        {web}/board   (admin token: {token_file})\n"
        f"  metrics      {web}/metrics\n"
        f"  health       {web}/health\n"
        f"  leaderboard  quotaflow query leaderboard{port_flag}"
        f"   ({web}/api/leaderboard)\n"
        f"  statement    quotaflow query statement R-E101{port_flag}\n"
        f"  set aside    {web}/api/dead-letters\n"
        "Press Ctrl-C to stop.\n"
    )


@cli.command()
def worker(verbose: bool = False) -> None:
    """Run the worker alone, against the broker and ClickHouse the settings name."""
    _configure_logging(verbose)
    settings = _settings()
    log.info("settings: %s", settings.redacted())

    def main() -> None:
        with runtime(settings) as rt:
            _serve(rt)

    _run_guarded(main)


@cli.command()
def generate(
    count: Annotated[int | None, typer.Option(help="Stop after this many.")] = None,
    rate: RateOpt = 20.0,
    seed: SeedOpt = 7,
    bad_rate: BadRateOpt = 0.0,
) -> None:
    """Send sample deals to the broker named by QUOTAFLOW_BOOTSTRAP_SERVERS."""
    _configure_logging(verbose=False)
    settings = _settings()
    stop = threading.Event()
    try:
        sent = produce(
            Producer(settings.confluent_config()),
            SampleWorld(seed=seed),
            count=count,
            rate=rate,
            bad_rate=bad_rate,
            stop=stop,
        )
    except KeyboardInterrupt:
        stop.set()
        return
    typer.echo(f"sent {sent} deals to {settings.bootstrap_servers}")


@cli.command()
def simulate(
    plan: Annotated[list[Path], typer.Option(help="Plan file(s) in force.")],
    events: Annotated[Path, typer.Option(help="Events, one JSON object per line.")],
    explain: Annotated[
        str | None, typer.Option(help="Print this rep's ledger lines instead.")
    ] = None,
) -> None:
    """Fold a file of events with the stream's domain code; print the totals as JSON.

    Also the what-if tool: run the same events under a candidate plan.
    """
    try:
        plans = [load_plan(path) for path in plan]
        raw = events.read_bytes().splitlines()
    except PlanFileError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    except OSError as exc:
        typer.secho(
            f"cannot read {events}: {exc.strerror}", fg=typer.colors.RED, err=True
        )
        raise typer.Exit(2) from exc
    result = replay(plans, raw)
    if explain is None:
        typer.echo(json.dumps(summary(result), ensure_ascii=False))
        return
    _echo_statement(
        explain,
        [
            {
                **line_as_json(line),
                "plan": f"{line.plan_id} v{line.plan_version}",
            }
            for line in result.lines
            if line.rep_id == explain
        ],
    )


@bench_cli.command("fold")
def bench_fold_command(
    events: Annotated[
        int, typer.Option(help="Events in the year.", min=1, max=5_000_000)
    ] = 50_000,
    reps: Annotated[
        int, typer.Option(help="Reps, in teams of 8 in 4 regions.", min=1)
    ] = DEFAULT_REPS,
    plan: Annotated[Path, typer.Option(help="Plan file.")] = Path(
        "examples/plans/reference.yaml"
    ),
    seed: Annotated[int, typer.Option(help="Seed of the generated year.")] = 11,
) -> None:
    """Events/s of parsing, decode + validation, the fold (file and Kafka order),
    per-event cost across the run and the state's bytes per event, on one core."""
    try:
        figures = bench_fold(
            load_plan(plan),
            events,
            reps,
            seed,
            progress=lambda text: typer.echo(f"bench fold: {text}", err=True),
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--events") from exc
    typer.echo(json.dumps({k: round(v, 1) for k, v in figures.items()}))


@bench_cli.command("stream")
def bench_stream_command(
    events: Annotated[int, typer.Option(help="How many sample events.")] = 20_000,
    partitions: Annotated[int, typer.Option(help="Partitions per topic.")] = 6,
    broker: Annotated[
        EmbeddedBroker, typer.Option(help="Embedded broker to measure on.")
    ] = EmbeddedBroker.NOIDA,
    batch_size: Annotated[int, typer.Option(help="Agent batch size.")] = 2000,
) -> None:
    """Events/s end to end: topics -> worker -> ClickHouse, on embedded engines."""
    _configure_logging(verbose=False)
    with tempfile.TemporaryDirectory(prefix="quotaflow-bench-") as data_dir:
        figures = bench_stream(
            events,
            partitions,
            Path(data_dir),
            broker,
            batch_size,
            lambda text: typer.echo(text, err=True),
        )
    typer.echo(json.dumps(figures))


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
    if data_dir is not None and data_dir.exists() and any(data_dir.iterdir()):
        typer.secho(f"{data_dir} is not empty", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    with tempfile.TemporaryDirectory(prefix="quotaflow-bench-") as temporary:
        store = Store.embedded(data_dir or Path(temporary), "quotaflow_bench")
        try:
            figures = bench_query(
                store, lines, reps, runs, lambda text: typer.echo(text, err=True)
            )
        finally:
            store.close()
    typer.echo(json.dumps(figures))


@dlq_cli.command("list")
def dlq_list(reason: ReasonOpt = None, offset: OffsetOpt = None) -> None:
    """What was set aside, oldest first: offset, reason, origin and detail."""
    config = _settings().confluent_config()
    letters = select(dead_letters(config), reason=reason, offsets=offset or ())
    typer.echo(f"{'offset':>7}  {'reason':<26} {'from':<22} detail")
    for letter in letters:
        origin = (
            f"{letter.source_topic}/{letter.source_partition}@{letter.source_offset}"
        )
        typer.echo(
            f"{letter.offset:>7}  {letter.reason:<26} {origin:<22} {letter.detail}"
        )
    typer.echo(f"{len(letters)} dead letter(s)", err=True)


@dlq_cli.command("replay")
def dlq_replay(
    reason: ReasonOpt = None,
    offset: OffsetOpt = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Every dead letter (else name some).")
    ] = False,
) -> None:
    """Send dead letters back to the topic they came from, after a fix."""
    if not (all_ or reason or offset):
        typer.secho(
            "say which dead letters to replay: --reason CODE, --offset N or --all",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(2)
    config = _settings().confluent_config()
    letters = select(dead_letters(config), reason=reason, offsets=offset or ())
    sent = resubmit(config, letters)
    typer.echo(f"replayed {sent} dead letter(s) to their source topics")


WorkerUrlOpt = Annotated[
    str | None,
    typer.Option(
        help="Worker that owns the embedded ClickHouse (default: from settings)."
    ),
]
DirectOpt = Annotated[
    bool, typer.Option(help="Open ClickHouse directly instead of asking the worker.")
]


TokenOpt = Annotated[
    str | None,
    typer.Option(
        envvar="QUOTAFLOW_TOKEN",
        help="Access token (default: the embedded run's admin token, if here).",
    ),
]


def _from_worker(url: str | None, path: str, token: str | None) -> Any:
    settings = Settings()
    base = url or f"http://{settings.web_host}:{settings.web_port}"
    request = urllib.request.Request(f"{base}{path}")  # noqa: S310 - the worker's URL
    sent = token_for_query(settings, token)
    if sent:
        request.add_header("Authorization", f"Bearer {sent}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.load(response)
    except urllib.error.HTTPError as exc:
        refusal = json.load(exc).get("error", exc.reason)
        typer.secho(
            f"the worker refused ({exc.code}): {refusal}", fg=typer.colors.RED, err=True
        )
        raise typer.Exit(1) from exc
    except (urllib.error.URLError, OSError) as exc:
        typer.secho(
            f"cannot reach the QuotaFlow worker at {base} ({exc}); is `quotaflow run` "
            "running? With a ClickHouse server, use --direct.",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(1) from exc


def _direct(fn: Any, *args: Any) -> Any:
    store = open_store(Settings())
    try:
        return [row.model_dump(mode="json") for row in fn(store, *args)]
    finally:
        store.close()


@query_cli.command("leaderboard")
def query_leaderboard(
    limit: int = 10,
    worker_url: WorkerUrlOpt = None,
    direct: DirectOpt = False,
    token: TokenOpt = None,
) -> None:
    """Reps ranked by commission booked so far."""
    rows = (
        _direct(leaderboard, limit)
        if direct
        else _from_worker(worker_url, f"/api/leaderboard?limit={limit}", token)
    )
    typer.echo(f"{'rank':>4}  {'rep':<10} {'commission':>14} {'deals':>6}")
    for row in rows:
        typer.echo(
            f"{row['rank']:>4}  {row['rep_id']:<10} "
            f"{row['commission']:>14} {row['deals']:>6}"
        )


@query_cli.command("statement")
def query_statement(
    rep_id: str,
    worker_url: WorkerUrlOpt = None,
    direct: DirectOpt = False,
    token: TokenOpt = None,
) -> None:
    """Every ledger line of one rep, with why it is that amount."""
    quoted = urllib.parse.quote(rep_id, safe="")
    lines = (
        _direct(rep_statement, rep_id)
        if direct
        else _from_worker(worker_url, f"/api/reps/{quoted}/statement", token)
    )
    _echo_statement(rep_id, lines)


def _echo_statement(rep_id: str, lines: list[dict[str, Any]]) -> None:
    """A rep's ledger lines, one a row: amount, kind, deal, rule, plan, why, sources."""
    if not lines:
        typer.echo(f"no ledger lines for {rep_id}")
    for line in lines:
        typer.echo(
            f"{line['amount']:>12} {line['currency']} {line['kind']:<8} "
            f"{line['deal_id']:<12} {line['rule']} ({line['plan']}): {line['formula']} "
            f"[{', '.join(line['source_event_ids'])}]"
        )


# The fold's state is millions of small objects that live for the whole process, and
# the cyclic collector scans them again and again at its default thresholds: decode +
# fold of 100,000 events went from 7,500 to 9,500 events/s (the 1,000-rep year of
# `quotaflow bench fold`) with a first generation of 50,000 allocations.
GC_THRESHOLDS = (50_000, 50, 100)


def main() -> None:
    gc.set_threshold(*GC_THRESHOLDS)
    cli(prog_name="quotaflow")


if __name__ == "__main__":
    main()
