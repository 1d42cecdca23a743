from pathlib import Path

from streams.cli.plancheck import check_plan

ROOT = Path(__file__).resolve().parents[2]


def test_the_reference_plan_is_valid() -> None:
    assert check_plan(ROOT / "examples/plans/reference.yaml") == []


def test_every_error_is_reported_with_its_field_path_and_line(tmp_path: Path) -> None:
    plan = tmp_path / "bad.yaml"
    plan.write_text(
        "plan_id: x\n"
        "version: 0\n"
        "currency: CNY\n"
        "revenue_bands:\n"
        '  - {lower: "0", upper: "10", rate: "0.03"}\n'
        '  - {lower: "10", rate: "2"}\n'
        "surprise: 1\n"
    )
    assert check_plan(plan) == [
        f"{plan}:2: version: Input should be greater than or equal to 1",
        f"{plan}:6: revenue_bands.1.rate: Input should be less than or equal to 1",
        f"{plan}:7: surprise: Extra inputs are not permitted",
    ]


def test_a_rule_spanning_fields_names_the_plan(tmp_path: Path) -> None:
    plan = tmp_path / "gap.yaml"
    plan.write_text(
        "plan_id: x\nversion: 1\ncurrency: CNY\nrevenue_bands:\n"
        '  - {lower: "0", upper: "10", rate: "0.03"}\n'
        '  - {lower: "20", rate: "0.05"}\n'
    )
    (problem,) = check_plan(plan)
    assert "must be contiguous: a band ends at 10 but the next starts at 20" in problem


def test_unreadable_and_non_yaml_files_are_reported(tmp_path: Path) -> None:
    assert "cannot read" in check_plan(tmp_path / "missing.yaml")[0]
    broken = tmp_path / "broken.yaml"
    broken.write_text("plan_id: [unclosed\n")
    assert "not valid YAML" in check_plan(broken)[0]
