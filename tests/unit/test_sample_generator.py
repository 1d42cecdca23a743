from itertools import islice

import pytest

from domain.events import InvalidEvent, decode_event
from streams.bench.generator import SampleWorld, produce


def test_same_seed_gives_the_same_events() -> None:
    first = list(islice(SampleWorld(seed=3).messages(bad_rate=0.1), 200))
    again = list(islice(SampleWorld(seed=3).messages(bad_rate=0.1), 200))
    other = list(islice(SampleWorld(seed=4).messages(bad_rate=0.1), 200))
    assert first == again
    assert first != other


def test_generated_deals_are_valid_and_varied() -> None:
    deals = [decode_event(v) for _, v in islice(SampleWorld(seed=1).messages(), 500)]
    assert len({d.event_id for d in deals}) == 500
    assert {d.region for d in deals} == {"east", "north", "south", "west"}
    assert len({d.product_line for d in deals}) >= 4
    assert any(d.new_customer for d in deals)
    assert any(not d.new_customer for d in deals)
    assert any(len(d.splits) == 2 for d in deals)
    amounts = sorted(d.amount for d in deals)
    assert amounts[0] < 20_000 < amounts[250] < 200_000 < amounts[-1]


def test_malformed_share_is_roughly_the_bad_rate_and_each_is_refused() -> None:
    bad = 0
    for _, value in islice(SampleWorld(seed=2).messages(bad_rate=0.2), 1000):
        try:
            decode_event(value)
        except InvalidEvent:
            bad += 1
    assert 150 <= bad <= 250


@pytest.mark.parametrize("seed", [1, 2])
def test_customers_are_new_only_on_their_first_order(seed: int) -> None:
    seen: set[str] = set()
    for _, value in islice(SampleWorld(seed=seed).messages(), 600):
        deal = decode_event(value)
        assert deal.new_customer == (deal.customer_id not in seen)
        seen.add(deal.customer_id)


def test_skipping_continues_the_same_sequence_where_an_earlier_run_stopped() -> None:
    whole = list(islice(SampleWorld(seed=5).messages(bad_rate=0.05), 300))
    sent: list[tuple[bytes, bytes]] = []

    class Recorder:
        def produce(self, _topic: str, key: bytes, value: bytes) -> None:
            sent.append((key, value))

        def poll(self, _timeout: float) -> None:
            return None

        def flush(self, _timeout: float) -> int:
            return 0

    produce(
        Recorder(), SampleWorld(seed=5), count=100, rate=None, bad_rate=0.05, skip=200
    )  # type: ignore[arg-type]
    assert sent == whole[200:300]
