from decimal import Decimal

import pytest
from pydantic import ValidationError

from domain.bands import marginal_total, slice_across_bands
from domain.plan import Plan, RateBand

D = Decimal
REFERENCE_BANDS = (
    RateBand(lower=D(0), upper=D(500_000), rate=D("0.03")),
    RateBand(lower=D(500_000), upper=D(1_000_000), rate=D("0.05")),
    RateBand(lower=D(1_000_000), rate=D("0.07")),
)


def test_ytd_revenue_of_1_2_million_earns_54000_under_marginal_bands() -> None:
    # SPEC §2: 500,000 at 3% + 500,000 at 5% + 200,000 at 7% = 54,000
    assert marginal_total(D(1_200_000), REFERENCE_BANDS) == D(54_000)


@pytest.mark.parametrize(
    ("revenue", "expected"),
    [
        (D(0), D(0)),
        (D(100_000), D(3_000)),
        (D(500_000), D(15_000)),
        (D(500_001), D("15000.05")),
        (D(1_000_000), D(40_000)),
    ],
)
def test_marginal_total_at_and_around_band_edges(
    revenue: Decimal, expected: Decimal
) -> None:
    assert marginal_total(revenue, REFERENCE_BANDS) == expected


def test_deal_crossing_band_edge_is_split_across_bands() -> None:
    slices = slice_across_bands(D(400_000), D(300_000), REFERENCE_BANDS)
    assert [(s.band_index, s.amount, s.rate) for s in slices] == [
        (0, D(100_000), D("0.03")),
        (1, D(200_000), D("0.05")),
    ]
    assert sum(s.earned for s in slices) == D(13_000)


def test_deal_spanning_all_three_bands_gets_three_slices() -> None:
    slices = slice_across_bands(D(0), D(1_200_000), REFERENCE_BANDS)
    assert [s.amount for s in slices] == [D(500_000), D(500_000), D(200_000)]


def test_deal_entirely_inside_open_top_band_earns_top_rate() -> None:
    (only,) = slice_across_bands(D(2_000_000), D(10_000), REFERENCE_BANDS)
    assert (only.band_index, only.earned) == (2, D(700))


def _plan(bands: list[dict[str, str]]) -> Plan:
    return Plan.model_validate(
        {"plan_id": "p", "version": 1, "currency": "CNY", "revenue_bands": bands}
    )


def test_plan_with_gap_between_bands_is_rejected_naming_the_gap() -> None:
    with pytest.raises(ValidationError, match=r"contiguous.*500000.*600000"):
        _plan(
            [
                {"lower": "0", "upper": "500000", "rate": "0.03"},
                {"lower": "600000", "rate": "0.05"},
            ]
        )


def test_plan_whose_last_band_is_closed_is_rejected() -> None:
    with pytest.raises(ValidationError, match="open-ended"):
        _plan([{"lower": "0", "upper": "500000", "rate": "0.03"}])


def test_plan_not_starting_at_zero_is_rejected() -> None:
    with pytest.raises(ValidationError, match="start at 0"):
        _plan([{"lower": "10", "rate": "0.03"}])


def test_band_with_upper_below_lower_is_rejected() -> None:
    with pytest.raises(ValidationError, match="must be above"):
        RateBand(lower=D(10), upper=D(5), rate=D("0.01"))
