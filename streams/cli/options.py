"""What several commands share: options, settings from the environment, logging."""

from __future__ import annotations

import logging
from typing import Annotated, Any

import typer

from streams.infra.settings import Settings

SeedOpt = Annotated[int, typer.Option(help="Seed of the sample-event generator.")]
RateOpt = Annotated[float, typer.Option(help="Sample deals per second.")]
BadRateOpt = Annotated[
    float, typer.Option(help="Share of deliberately malformed events.")
]


def configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("faust", "mode", "aiokafka", "kafka"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def load_settings(**overrides: Any) -> Settings:
    settings = Settings()
    return settings.model_copy(
        update={k: v for k, v in overrides.items() if v is not None}
    )
