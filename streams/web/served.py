"""What the web pages read of the worker that serves them (``QuotaFlowApp``), so the
web layer needs nothing of the worker's package."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import faust

from domain.plan import Plan
from projections.store import Store
from streams.infra.metrics import Metrics
from streams.infra.settings import Settings
from streams.web.access import AccessList

Handler = Callable[..., Awaitable[Any]]


class Counted(Protocol):
    @property
    def changes(self) -> int: ...


class Failing(Protocol):
    @property
    def failing(self) -> bool: ...


class Served(Protocol):
    """What the pages read of the worker that serves them (``QuotaFlowApp``), so
    the web layer needs nothing of the worker's package."""

    @property
    def app(self) -> faust.App: ...
    @property
    def access(self) -> AccessList: ...
    @property
    def metrics(self) -> Metrics: ...
    @property
    def retries(self) -> Failing: ...
    @property
    def store(self) -> Store: ...
    @property
    def reader(self) -> Store: ...
    @property
    def plan(self) -> Plan: ...
    @property
    def settings(self) -> Settings: ...
    @property
    def failure(self) -> BaseException | None: ...
    @property
    def changes(self) -> int: ...
    @property
    def hot(self) -> Counted: ...
    @property
    def stopped_partitions(self) -> list[str]: ...
    async def in_io(self, fn: Any, *args: Any) -> Any: ...
    async def in_read_io(self, fn: Any, *args: Any) -> Any: ...
