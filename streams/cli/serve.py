"""``quotaflow run``, ``worker`` and ``generate``: the worker, and deals to fold."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from confluent_kafka import Producer

from streams.bench.demo import demo_messages, send_paced
from streams.bench.generator import SampleWorld, produce
from streams.cli.dlq import BROKER_FILE
from streams.cli.options import (
    BadRateOpt,
    RateOpt,
    SeedOpt,
    configure_logging,
    load_settings,
)
from streams.cli.query import ADDRESS_FILE
from streams.cli.tokens import admin_token
from streams.infra.runtime import InUse, PlanFileError, Runtime, runtime
from streams.infra.settings import BrokerMode, ClickHouseMode, Settings
from streams.infra.topics import (
    ACTIVITIES,
    CONTROL,
    DEALS,
    ORG,
    PAYMENTS,
    SATISFACTION,
    TARGETS,
    messages_on,
)
from streams.worker.app import QuotaFlowApp
from streams.worker.lifecycle import FAILED_EXIT_CODE, WorkerFailed, run_until_signalled

log = logging.getLogger("quotaflow")
SAMPLE_TOPICS = (DEALS, PAYMENTS, SATISFACTION, ORG, TARGETS, ACTIVITIES, CONTROL)
SAMPLE_REPS = 40


def _serve(rt: Runtime, on_started: Any = None) -> None:
    def make_app() -> QuotaFlowApp:
        return QuotaFlowApp(rt.settings, rt.store, rt.plan)

    def started(app: QuotaFlowApp) -> None:
        web = f"http://{rt.settings.web_host}:{rt.settings.web_port}"
        log.info("worker started; web on %s", web)
        # Found by `quotaflow query`, `statement` and `payroll --data-dir`.
        (rt.settings.data_dir / ADDRESS_FILE).write_text(web + "\n")
        (rt.settings.data_dir / BROKER_FILE).write_text(
            rt.settings.bootstrap_servers + "\n"
        )
        if on_started is not None:
            on_started(app)

    run_until_signalled(make_app, started)


def _run_guarded(fn: Any) -> None:
    try:
        fn()
    except (PlanFileError, InUse) as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    except WorkerFailed as exc:
        typer.secho(f"the worker failed: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(FAILED_EXIT_CODE) from exc


def run(  # noqa: PLR0913, PLR0917 - the command's options
    rate: Annotated[float, typer.Option(help="Sample events per second.")] = 20.0,
    seed: SeedOpt = 7,
    bad_rate: BadRateOpt = 0.01,
    web_port: Annotated[
        int | None, typer.Option(help="Port of board and metrics.")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Where embedded data lives.")
    ] = None,
    plan: Annotated[
        Path,
        typer.Option(envvar="QUOTAFLOW_PLAN_FILE", help="The plan in force."),
    ] = Path("examples/plans/full.yaml"),
    year_events: Annotated[
        int, typer.Option(min=1_000, help="Events in the sample year.")
    ] = 12_000,
    verbose: bool = False,
) -> None:
    """Start everything embedded: broker, ClickHouse, worker, and a sample sales year
    of a whole organisation flowing in (hires, targets, deals, payments, scores,
    activities, monthly closes, approvals, an inquiry, locks)."""
    configure_logging(verbose)
    settings = load_settings(
        broker_mode=BrokerMode.EMBEDDED,
        clickhouse_mode=ClickHouseMode.EMBEDDED,
        web_port=web_port,
        data_dir=data_dir,
        plan_file=plan,
    )
    reps = SAMPLE_REPS

    def main() -> None:
        with runtime(settings) as rt:
            token_file = admin_token(rt.settings)
            stop = threading.Event()
            producer = Producer(rt.settings.confluent_config())
            config = rt.settings.confluent_config()
            already = sum(messages_on(config, topic) for topic in SAMPLE_TOPICS)
            year = demo_messages(year_events, reps, seed, bad_rate)
            generator = threading.Thread(
                target=_send_year,
                args=(producer, year),
                kwargs={"rate": rate, "stop": stop, "skip": already},
                name="sample-year",
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
                # Gone before the broker stops: a producer left behind reports
                # every refused reconnection on stderr until the process ends.
                del producer
        log.info("stopped cleanly")

    _run_guarded(main)


def _send_year(producer: Producer, year: Any, **kwargs: Any) -> None:
    sent = send_paced(producer, year, **kwargs)
    if not kwargs["stop"].is_set():
        log.info("the sample year is complete (%d events sent)", sent)


def _banner(settings: Settings, rate: float, token_file: Path) -> None:
    web = f"http://{settings.web_host}:{settings.web_port}"
    port_flag = (
        f" --worker-url {web}" if settings.web_port != Settings().web_port else ""
    )
    typer.echo(
        f"\nQuotaFlow is running: {settings.embedded_broker.value} broker on "
        f"{settings.bootstrap_servers}, ClickHouse engine in "
        f"{settings.clickhouse_dir}, "
        f"~{rate:g} sample events/s: a sales year of {SAMPLE_REPS} reps with its "
        "targets, payments, closes, approvals and locks.\n"
        f"  board        {web}/board   (admin token: {token_file})\n"
        f"  metrics      {web}/metrics\n"
        f"  health       {web}/health\n"
        f"  leaderboard  quotaflow query leaderboard{port_flag}"
        f"   ({web}/api/leaderboard)\n"
        f"  statement    quotaflow query statement R-00001{port_flag}\n"
        f"  pay          quotaflow statement R-00001 2026-01{port_flag}\n"
        f"  set aside    {web}/api/dead-letters\n"
        "Press Ctrl-C to stop.\n"
    )


def worker(verbose: bool = False) -> None:
    """Run the worker alone, against the broker and ClickHouse the settings name."""
    configure_logging(verbose)
    settings = load_settings()
    log.info("settings: %s", settings.redacted())

    def main() -> None:
        with runtime(settings) as rt:
            _serve(rt)

    _run_guarded(main)


def generate(
    count: Annotated[int | None, typer.Option(help="Stop after this many.")] = None,
    rate: RateOpt = 20.0,
    seed: SeedOpt = 7,
    bad_rate: BadRateOpt = 0.0,
) -> None:
    """Send sample deals to the broker named by QUOTAFLOW_BOOTSTRAP_SERVERS."""
    configure_logging(verbose=False)
    settings = load_settings()
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
