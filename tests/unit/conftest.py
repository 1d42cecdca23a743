from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from domain.plan import Plan

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def reference_plan() -> Plan:
    document = yaml.safe_load((ROOT / "examples/plans/reference.yaml").read_text())
    return Plan.model_validate(document)


@pytest.fixture(scope="session")
def full_plan() -> Plan:
    document = yaml.safe_load((ROOT / "examples/plans/full.yaml").read_text())
    return Plan.model_validate(document)
