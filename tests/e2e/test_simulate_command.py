"""`quotaflow simulate`: SPEC §8's offline fold, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

QUOTAFLOW = str(Path(sys.executable).parent / "quotaflow")
ROOT = Path(__file__).resolve().parents[2]
PLAN = str(ROOT / "examples/plans/reference.yaml")
EVENTS = str(ROOT / "examples/events/reference.jsonl")


def simulate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [QUOTAFLOW, "simulate", *args], capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip


def test_reference_events_give_the_hand_computed_totals() -> None:
    # D-1 100,000 new customer at 3% + 1.5% = 4,500; paid in full within 30 days
    #      x1.10 = 4,950; score 96 -> 2% of 100,000 = 2,000. D-2 half of 600,000 on top
    #      of 100,000 YTD, all in the 3% band = 9,000; the payment of 300,000 arrived
    #      before the deal, 16 days after closing: 9,000 x 300,000/600,000 x 1.10
    #      = 4,950.
    # D-2 9,000 and 4,950 likewise; D-3 50,000 cloud inside the x2 SPIFF = 3,000;
    #      D-4 80,000 = 2,400, cancelled -> reversed.
    # Line 6 repeats line 1 (ignored); line 11 sends money as a JSON float (rejected).
    result = simulate("--plan", PLAN, "--events", EVENTS)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["reps"] == {
        "R-1": {"earned_commission": "13500.00", "payable_commission": "9900.00",
                "bonus": "2000.00", "points": "0"},
        "R-2": {"earned_commission": "12000.00", "payable_commission": "4950.00",
                "bonus": "0.00", "points": "0"},
    }  # fmt: skip
    assert [r["line"] for r in report["rejected"]] == [11]
    assert "decimal string" in report["rejected"][0]["reason"]


def test_the_full_plan_adds_points_and_instant_rewards_to_the_same_events() -> None:
    # Points: R-1 D-1 new customer 50 + ticket ≥100,000 30 + paid in full within 30
    # days 15 = 95; D-2 (an existing customer: repeat purchase 20) with ticket
    # ≥500,000 80, × share 0.5 = 50 -> 145. R-2: D-2 50, D-3 repeat purchase 20; D-4's
    # points are clawed back with it -> 70. Lightning: each rep signed 300,000 of D-2
    # on 15 April, more than 100,000 -> 1,000, on top of R-1's satisfaction bonus.
    full = str(ROOT / "examples/plans/full.yaml")
    result = simulate("--plan", full, "--events", EVENTS)
    assert result.returncode == 0, result.stderr
    reps = json.loads(result.stdout)["reps"]
    assert (reps["R-1"]["points"], reps["R-1"]["bonus"]) == ("145", "3000.00")
    assert (reps["R-2"]["points"], reps["R-2"]["bonus"]) == ("70", "1000.00")
    assert reps["R-1"]["earned_commission"] == "13500.00"


def test_explain_lists_the_reps_lines_with_their_reasons() -> None:
    result = simulate("--plan", PLAN, "--events", EVENTS, "--explain", "R-2")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "× 2 (SPIFF june-cloud)" in text
    assert "deal cancelled: contract void" in text
    assert "[crm-5]" in text
    assert "R-1" not in text


def test_unreadable_input_is_reported_not_crashed_on(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_bytes(b'\n{"event_type": "DealClosed"}\n\xff\xfe\n[]\n')
    result = simulate("--plan", PLAN, "--events", str(events))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["reps"] == {}
    assert [r["line"] for r in report["rejected"]] == [2, 3, 4]


def test_missing_files_exit_2_with_a_clear_message(tmp_path: Path) -> None:
    no_plan = simulate("--plan", str(tmp_path / "x.yaml"), "--events", EVENTS)
    assert no_plan.returncode == 2
    assert "cannot read plan file" in no_plan.stderr
    no_events = simulate("--plan", PLAN, "--events", str(tmp_path / "x.jsonl"))
    assert no_events.returncode == 2
    assert "cannot read" in no_events.stderr


def test_a_candidate_plan_reprices_the_same_events(tmp_path: Path) -> None:
    candidate = tmp_path / "candidate.yaml"
    text = Path(PLAN).read_text().replace('rate: "0.03"', 'rate: "0.04"')
    candidate.write_text(text.replace("version: 1", "version: 2"))
    result = simulate("--plan", str(candidate), "--events", EVENTS)
    report = json.loads(result.stdout)
    # R-2 in the 4% band: 300,000 -> 12,000; 50,000 x 2 -> 4,000.
    assert report["reps"]["R-2"]["earned_commission"] == "16000.00"


def test_statements_of_a_rep_month_by_month_with_an_approval_and_two_locks(
    tmp_path: Path,
) -> None:
    # R-1 (reference events): February: D-1 earns 4,500, its payment releases 4,950.
    # March: the satisfaction bonus of 2,000. April: D-2 earns 9,000; May: its
    # payment releases 4,950. February is approved and locked: 4,950 paid. March
    # is locked unapproved (the reference plan asks approval of every amount due):
    # held, its 2,000 carried into April, then May (2,000 + 4,950 = 6,950 due).
    def control(event_type: str, n: int, at: str, **fields: str) -> str:
        event_id = f"ops-{event_type}-{n}"
        return json.dumps({"event_id": event_id, "event_type": event_type,
                           "schema_version": 1, "occurred_at": at, "source": "ops",
                           **fields})  # fmt: skip

    april = "2026-04-02T09:00:00+08:00"
    steps = [
        control("PeriodClosed", 1, "2026-03-01T00:00:00+08:00", period="2026-02"),
        control(
            "StatementApproved",
            1,
            april,
            rep_id="R-1",
            period="2026-02",
            approved_by="M-1",
        ),
        control("PeriodLocked", 1, april, period="2026-02", locked_by="finance"),
        control("PeriodClosed", 2, "2026-04-01T00:00:00+08:00", period="2026-03"),
        control("PeriodLocked", 2, april, period="2026-03", locked_by="finance"),
    ]
    events = tmp_path / "events.jsonl"
    events.write_text(Path(EVENTS).read_text() + "\n".join(steps) + "\n")
    result = simulate("--plan", PLAN, "--events", str(events), "--statements", "R-1")
    assert result.returncode == 0, result.stderr
    found = {s["period"]: s for s in json.loads(result.stdout)}
    assert [(p, s["status"], s["opening"], s["closing"], s["paid"], s["carried"])
            for p, s in found.items()] == [
        ("2026-02", "locked", "0.00", "4950.00", "4950.00", "0.00"),
        ("2026-03", "held", "0.00", "2000.00", "0.00", "2000.00"),
        ("2026-04", "draft", "2000.00", "2000.00", "0.00", "2000.00"),
        ("2026-05", "draft", "2000.00", "6950.00", "0.00", "6950.00"),
    ]  # fmt: skip
    assert (found["2026-02"]["approved_by"], found["2026-02"]["locked_by"]) == (
        "M-1",
        "finance",
    )
    assert found["2026-04"]["sums"]["earned"] == "9000.00"
