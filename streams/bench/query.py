"""``quotaflow bench query``: how fast the read side answers over a large ledger.

ClickHouse generates the rows itself (``INSERT ... SELECT ... FROM numbers``), in
chunks, so filling ten million lines takes a minute and not an hour. Then each query
the API serves is timed through the same function the API calls. Figures are printed,
never asserted.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from projections.dimensions import heatmap
from projections.ledger import leaderboard, rep_statement
from projections.migrations import migrate
from projections.store import Store

Progress = Callable[[str], None]
CHUNK = 1_000_000
PERIOD = "2026-Q1"  # the heatmap's period: one of the eight quarters generated
LINES_PER_DEAL = 5
REGIONS = "['east', 'north', 'south', 'west', 'central', 'overseas']"
PRODUCT_LINES = "['cloud', 'iot', 'security', 'data', 'services']"

# A rep's number is skewed (u^1.5 of a uniform u): a few reps book far more lines than
# most, as in a real sales force. A line belongs to one of its rep's deals.
# Kinds: 80 % earned, 12 % payable, 5 % bonus, 3 % points; 3 % of the commission
# lines are clawbacks (negative). Lines spread over 2025 and 2026.
_LEDGER = """
INSERT INTO ledger_lines
    (line_id, rep_id, deal_id, kind, rule, plan_id, plan_version, amount, currency,
     occurred_at, formula, inputs, source_event_ids, version)
SELECT
    concat('L-', leftPad(toString(number), 10, '0')),
    concat('R-', leftPad(toString(rep), 6, '0')),
    concat('D-', leftPad(toString(rep), 6, '0'), '-', toString(deal)),
    kind,
    multiIf(kind = 'bonus', 'satisfaction', kind = 'points', 'new_customer',
            kind = 'payable', 'paid_in_time', concat('band_', toString(pick % 3 + 1))),
    'reference',
    toUInt32(1 + pick % 2),
    toDecimal64(if(kind = 'points', round(size * 10), size * 10 / 3 * sign), 2),
    if(kind = 'points', 'PTS', 'CNY'),
    toDateTime64('2025-01-01 00:00:00', 3, 'UTC') + toIntervalSecond(at),
    concat('revenue ', toString(toDecimal64(size * 100, 2)), ' x 3.33%'),
    concat('{"revenue": "', toString(toDecimal64(size * 100, 2)), '"}'),
    [concat('e-', toString(number))],
    number
FROM (
    SELECT number,
        toUInt64(floor({reps:UInt64}
                       * pow((cityHash64(number, 1) % 1000000) / 1000000, 1.5)))
            AS rep,
        cityHash64(number, 2) % {deals:UInt64} AS deal,
        cityHash64(number, 3) % 100 AS pick,
        multiIf(pick < 80, 'earned', pick < 92, 'payable', pick < 97, 'bonus', 'points')
            AS kind,
        round(exp(3 + 4 * (cityHash64(number, 4) % 10000) / 10000), 2) AS size,
        if(kind IN ('earned', 'payable') AND cityHash64(number, 5) % 100 < 3, -1, 1)
            AS sign,
        cityHash64(number, 6) % (730 * 86400) AS at
    FROM numbers({start:UInt64}, {count:UInt64})
)
"""

# One credit per rep and deal, in the rep's region; 3 % of the deals are cancelled.
_CREDITS = f"""
INSERT INTO deal_credits
    (rep_id, deal_id, customer_id, product_line, region, closed_at, year, quarter,
     month, credited, margin, cancelled, version)
SELECT rep_id, deal_id, customer_id, product_line, region, closed,
    toString(toYear(closed)),
    concat(toString(toYear(closed)), '-Q', toString(toQuarter(closed))),
    formatDateTime(closed, '%Y-%m'),
    credited, credited * 0.3, cancelled, number
FROM (
    SELECT number,
        intDiv(number, {{deals:UInt64}}) AS rep,
        concat('R-', leftPad(toString(rep), 6, '0')) AS rep_id,
        concat('D-', leftPad(toString(rep), 6, '0'), '-',
               toString(number % {{deals:UInt64}})) AS deal_id,
        concat('C-', toString(cityHash64(number, 7) % 50000)) AS customer_id,
        {PRODUCT_LINES}[1 + cityHash64(number, 8) % 5] AS product_line,
        {REGIONS}[1 + rep % 6] AS region,
        toDateTime64('2025-01-01 00:00:00', 3, 'UTC')
            + toIntervalSecond(cityHash64(number, 9) % (730 * 86400)) AS closed,
        toDecimal64(round(exp(8 + 5 * (cityHash64(number, 10) % 10000) / 10000), 2), 2)
            AS credited,
        cityHash64(number, 11) % 100 < 3 AS cancelled
    FROM numbers({{start:UInt64}}, {{count:UInt64}})
)
"""  # noqa: S608 - constants only

_DIRECTORY = f"""
INSERT INTO rep_directory
    (rep_id, team_id, region, role, grade, hired_at, left_at, version)
SELECT concat('R-', leftPad(toString(number), 6, '0')),
    concat('T-', toString(intDiv(number, 12))), {REGIONS}[1 + number % 6],
    'account_manager', concat('P', toString(4 + number % 4)),
    toDateTime64('2020-01-01 00:00:00', 3, 'UTC'), NULL, number
FROM numbers({{count:UInt64}})
"""  # noqa: S608 - constants only


# What the worker keeps as it books: each rep's standing (earned so far, deals
# credited), versioned by the rep's latest line.
_TOTALS = """
INSERT INTO rep_totals (rep_id, earned, deals, version)
SELECT l.rep_id, l.earned, ifNull(c.deals, 0), l.version
FROM (
    SELECT rep_id, sumIf(amount, kind = 'earned') AS earned, max(version) AS version
    FROM ledger_lines FINAL GROUP BY rep_id
) AS l
LEFT JOIN (
    SELECT rep_id, toUInt32(count()) AS deals FROM deal_credits FINAL GROUP BY rep_id
) AS c ON c.rep_id = l.rep_id
"""

# And each rep partition's heatmap cells (six partitions; the bench's credits are
# one per deal, so a credit is a deal).
_HEAT = """
INSERT INTO heat_cells
    (period, region, product_line, partition, revenue, deals, version)
SELECT period, region, product_line, cityHash64(rep_id) % 6 AS part,
       sum(credited), count(), 1
FROM deal_credits FINAL
ARRAY JOIN [year, quarter, month] AS period
WHERE NOT cancelled
GROUP BY period, region, product_line, part
"""


def fill(store: Store, lines: int, reps: int, progress: Progress) -> float:
    """Fill a migrated store with ``lines`` ledger lines of ``reps`` reps, their deal
    credits, the rep directory, the reps' standings and the heatmap's cells;
    return the seconds it took."""
    deals = max(1, lines // reps // LINES_PER_DEAL)
    started = time.perf_counter()
    store.command(_DIRECTORY, {"count": reps})
    _chunked(store, _CREDITS, "deal_credits", reps * deals, {"deals": deals}, progress)
    _chunked(
        store, _LEDGER, "ledger_lines", lines, {"reps": reps, "deals": deals}, progress
    )
    store.command(_TOTALS)
    store.command(_HEAT)
    progress(f"rep_totals, heat_cells ({time.perf_counter() - started:.1f} s)")
    return time.perf_counter() - started


def _chunked(
    store: Store,
    sql: str,
    table: str,
    total: int,
    parameters: dict[str, int],
    progress: Progress,
) -> None:
    started = time.perf_counter()
    for start in range(0, total, CHUNK):
        count = min(CHUNK, total - start)
        store.command(sql, {**parameters, "start": start, "count": count})
        progress(
            f"{table}: {start + count:,} / {total:,} "
            f"({time.perf_counter() - started:.1f} s)"
        )


def percentile(sorted_ms: Sequence[float], share: float) -> float:
    """The nearest-rank percentile of an ascending list."""
    rank = max(1, math.ceil(share * len(sorted_ms)))
    return sorted_ms[rank - 1]


def timed(call: Callable[[int], Sequence[Any]], runs: int) -> dict[str, float]:
    """p50, p99 and max in ms of ``runs`` calls (after one untimed warm-up), and the
    mean number of rows a call returned."""
    call(-1)
    took, rows = [], 0
    for run in range(runs):
        started = time.perf_counter()
        rows += len(call(run))
        took.append((time.perf_counter() - started) * 1000)
    took.sort()
    return {
        "p50_ms": round(percentile(took, 0.50), 2),
        "p99_ms": round(percentile(took, 0.99), 2),
        "max_ms": round(took[-1], 2),
        "rows": round(rows / runs, 1),
    }


def bench_query(
    store: Store, lines: int, reps: int, runs: int, progress: Progress
) -> dict[str, Any]:
    """Fill an empty store, then time the leaderboard, the heatmap and statements of
    reps drawn at random (a fixed seed), through the API's own query functions."""
    migrate(store)
    fill_s = fill(store, lines, reps, progress)
    (counted,) = store.rows("SELECT count() FROM ledger_lines FINAL")
    drawn = random.Random(5)  # noqa: S311 - which reps to ask for, not a secret
    statement_reps = [f"R-{drawn.randrange(reps):06d}" for _ in range(runs + 1)]
    figures: dict[str, Any] = {
        "lines": counted[0],
        "reps": reps,
        "fill_s": round(fill_s, 1),
        # FINAL merges across parts at read time; background merges change the count.
        "ledger_parts_before": _parts(store),
    }
    queries: dict[str, Callable[[int], Sequence[Any]]] = {
        "leaderboard": lambda _: leaderboard(store, 10),
        "heatmap": lambda _: heatmap(store, PERIOD),
        "statement": lambda run: rep_statement(store, statement_reps[run]),
    }
    for name, call in queries.items():
        progress(f"timing {name} {runs} times ...")
        figures[name] = got = timed(call, runs)
        progress(f"{name}: p50 {got['p50_ms']} ms, p99 {got['p99_ms']} ms")
    figures["ledger_parts_after"] = _parts(store)
    return figures


def _parts(store: Store) -> int:
    (row,) = store.rows(
        "SELECT count() FROM system.parts WHERE active AND database = currentDatabase()"
        " AND table = 'ledger_lines'"
    )
    return int(row[0])
