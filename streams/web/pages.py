"""The worker's web pages: metrics and health for operations, the JSON API behind
the board, and the board itself.

Every ``/api`` page asks for a bearer token (``streams.web.access``): none, or one the
worker does not know, gets 401; a token whose grant does not cover the page gets
403. Request values reach ClickHouse only as server-side query parameters.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from typing import Any, get_args

from domain.events import EARLIEST, LATEST
from projections.dimensions import Level, attainment, heatmap, target_audit
from projections.forecast import ForecastLevel, forecast
from projections.ledger import leaderboard
from projections.tracking import (
    GroupLevel,
    Measure,
    RankLevel,
    budget_accrual,
    group_leaderboard,
    ranking,
)
from streams.web import actions, statements
from streams.web.access import Grant, Role, bearer
from streams.web.served import Handler, Served

_PERIOD = re.compile(r"\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?")
_PERIOD_HELP = (
    f"period is like 2026, 2026-Q1 or 2026-03, in {EARLIEST.year}-{LATEST.year - 1}"
)


def valid_period(period: str) -> bool:
    """A year, quarter or month within the contract's dates (events outside them
    are refused, and a period past year 9999 has no end to compute)."""
    return bool(_PERIOD.fullmatch(period)) and (
        EARLIEST.year <= int(period[:4]) < LATEST.year
    )


def board_html() -> bytes:
    return resources.files("streams.web").joinpath("board.html").read_bytes()


# The board loads nothing from elsewhere; its script and styles are inline.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


async def _secure(request: Any, response: Any) -> None:
    """Every response, errors and faust's own included, gets the security headers;
    the API's answers are never cached (they carry a rep's pay)."""
    response.headers.update(SECURITY_HEADERS)
    if request.path.startswith("/api/"):
        response.headers["Cache-Control"] = "no-store"


def register(quotaflow: Served) -> None:
    """Add the pages to the faust app's web server."""
    # faust types app.web as its abstract Web; the aiohttp driver has web_app.
    web_app: Any = getattr(quotaflow.app.web, "web_app")  # noqa: B009
    web_app.on_response_prepare.append(_secure)
    _operations(quotaflow)
    _views(quotaflow)
    _targets(quotaflow)
    statements.register(quotaflow, _guard(quotaflow))
    actions.register(quotaflow, _guard(quotaflow))


def _guard(quotaflow: Served) -> Callable[..., Callable[[Handler], Handler]]:
    """The decorator of the /api pages: 401 without a known token, 403 where
    admin is needed; the handler gets the grant."""

    def guarded(*, admin: bool = False) -> Callable[[Handler], Handler]:
        def wrap(handler: Handler) -> Handler:
            async def page(web: Any, request: Any, **kwargs: Any) -> Any:
                token = bearer(request.headers.get("Authorization"))
                grant = quotaflow.access.grant_for(token)
                if grant is None:
                    return web.json(
                        {"error": "a valid access token is needed "
                                  "(Authorization: Bearer <token>)"},
                        status=401,
                        headers={"WWW-Authenticate": "Bearer"},
                    )  # fmt: skip
                if admin and grant.role is not Role.ADMIN:
                    return web.json({"error": "this page is for admins"}, status=403)
                return await handler(web, request, grant, **kwargs)

            return page

        return wrap

    return guarded


def _operations(quotaflow: Served) -> None:
    """Metrics, health, the board page, and who the token is."""
    app = quotaflow.app
    guarded = _guard(quotaflow)

    @app.page("/metrics")
    async def metrics(web: Any, _request: Any) -> Any:
        # aiohttp refuses a charset inside content_type; text exposition is UTF-8.
        return web.bytes(
            quotaflow.metrics.exposition(), content_type="text/plain; version=0.0.4"
        )

    @app.page("/health")
    async def health(web: Any, _request: Any) -> Any:
        live = quotaflow.failure is None
        failing = quotaflow.retries.failing
        ready = live and app.started and not app.rebalancing and not failing
        body: dict[str, object] = {"live": live, "ready": bool(ready)}
        if failing:
            # A ClickHouse write is being retried: batches wait, nothing is lost.
            body["clickhouse"] = "retrying"
        stopped = quotaflow.stopped_partitions
        if stopped:
            # Offset regression: the worker runs on, without those partitions.
            body["stopped_partitions"] = stopped
        return web.json(body, status=200 if ready else 503)

    @app.page("/board")
    async def board(web: Any, _request: Any) -> Any:
        # The page holds no data: it asks the API with the token typed into it.
        return web.html(board_html().decode())

    @app.page("/api/me")
    @guarded()
    async def me(web: Any, _request: Any, grant: Grant) -> Any:
        # The plan's currency too: the board shows every amount with it.
        plan = quotaflow.plan
        return web.json(
            {
                **grant.model_dump(mode="json"),
                "currency": plan.currency,
                "plan_id": plan.plan_id,
                "plan_version": plan.version,
            }
        )

    @app.page("/api/changes")
    @guarded()
    async def changes(web: Any, _request: Any, _grant: Grant) -> Any:
        # The board polls this cheap counter and reloads its views when it moves.
        return web.json({"changes": quotaflow.changes + quotaflow.hot.changes})


def _views(quotaflow: Served) -> None:
    """The shared views: leaderboards, attainment, heatmap, forecasts, budget."""
    app, store, io = quotaflow.app, quotaflow.reader, quotaflow.in_read_io
    guarded = _guard(quotaflow)

    @app.page("/api/leaderboard")
    @guarded()
    async def ranked(web: Any, request: Any, _grant: Grant) -> Any:
        """Reps by commission so far; with level=team or region, groups by the
        commission of a period; with ``measure`` (revenue, attainment, commission
        or points) and a period, reps, teams or regions ranked by that measure."""
        try:
            limit = min(max(int(request.query.get("limit", "10")), 1), 1000)
        except ValueError:
            return web.json({"error": "limit must be a whole number"}, status=400)
        level = request.query.get("level", "rep")
        measure = request.query.get("measure")
        if measure is not None:
            period = request.query.get("period", "")
            if measure not in get_args(Measure) or level not in get_args(RankLevel):
                msg = "measure is revenue, attainment, commission or points; "
                msg += "level is rep, team or region"
                return web.json({"error": msg}, status=400)
            if not valid_period(period):
                return web.json({"error": _PERIOD_HELP}, status=400)
            rows: list[Any] = await io(ranking, store, level, period, measure, limit)
        elif level == "rep":
            rows = await io(leaderboard, store, limit)
        elif level in get_args(GroupLevel):
            period = request.query.get("period", "")
            if not valid_period(period):
                return web.json({"error": _PERIOD_HELP}, status=400)
            rows = await io(group_leaderboard, store, level, period, limit)
        else:
            return web.json({"error": "level is rep, team or region"}, status=400)
        return web.json([row.model_dump(mode="json") for row in rows])

    @app.page("/api/attainment")
    @guarded()
    async def attained(web: Any, request: Any, _grant: Grant) -> Any:
        level = request.query.get("level", "rep")
        period = request.query.get("period", "")
        if level not in get_args(Level) or not valid_period(period):
            levels = "level is rep, team, region or product_line"
            return web.json({"error": f"{levels}; {_PERIOD_HELP}"}, status=400)
        rows = await io(attainment, store, level, period)
        return web.json([row.model_dump(mode="json") for row in rows])

    @app.page("/api/heatmap")
    @guarded()
    async def heat(web: Any, request: Any, _grant: Grant) -> Any:
        period = request.query.get("period", "")
        if not valid_period(period):
            return web.json({"error": _PERIOD_HELP}, status=400)
        rows = await io(heatmap, store, period)
        return web.json([row.model_dump(mode="json") for row in rows])

    @app.page("/api/forecast")
    @guarded()
    async def forecasts(web: Any, request: Any, _grant: Grant) -> Any:
        """Run-rate forecasts of reps or teams for a period, at ``as_of`` (an
        ISO time with its offset; now by default), with their alerts."""
        level = request.query.get("level", "rep")
        period = request.query.get("period", "")
        if level not in get_args(ForecastLevel) or not valid_period(period):
            return web.json(
                {"error": f"level is rep or team; {_PERIOD_HELP}"}, status=400
            )
        try:
            as_of = _as_of(request.query.get("as_of"))
        except ValueError as exc:
            return web.json({"error": str(exc)}, status=400)
        rows = await io(forecast, store, level, period, as_of)
        return web.json([row.model_dump(mode="json") for row in rows])

    @app.page("/api/budget")
    @guarded(admin=True)
    async def budget(web: Any, request: Any, _grant: Grant) -> Any:
        """What the plan has accrued against its budget and the reserve."""
        rules = quotaflow.plan.budget
        if rules is None:
            return web.json({"error": "the plan sets no budget"}, status=404)
        period = request.query.get("period") or None
        if period is not None and not valid_period(period):
            return web.json({"error": _PERIOD_HELP}, status=400)
        found = await io(budget_accrual, store, rules, quotaflow.plan.plan_id, period)
        return web.json(found.model_dump(mode="json"))


def _targets(quotaflow: Served) -> None:
    """The target tree's audit view."""
    app, store, io = quotaflow.app, quotaflow.reader, quotaflow.in_read_io
    guarded = _guard(quotaflow)

    @app.page("/api/targets/changes")
    @guarded()
    async def target_changes(web: Any, request: Any, _grant: Grant) -> Any:
        """目标分解 audit: every accepted target change (who, when, why, before,
        after), newest first, of a ``period`` and a ``node`` when given."""
        period = request.query.get("period", "")
        if period and not valid_period(period):
            return web.json({"error": _PERIOD_HELP}, status=400)
        node = request.query.get("node", "")
        rows = await io(target_audit, store, period, node)
        return web.json([row.model_dump(mode="json") for row in rows])


def _as_of(given: str | None) -> datetime:
    if not given:
        return datetime.now(UTC)
    at = datetime.fromisoformat(given)
    if at.tzinfo is None:
        msg = "as_of needs its UTC offset, like 2026-03-31T18:00:00+08:00"
        raise ValueError(msg)
    return at
