"""Retry delays: exponential with full jitter, capped, honouring Retry-After."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from sync.backoff import Backoff, parse_retry_after

NOW = 1_800_000_000.0


def fixed(value: float) -> Backoff:
    """Return a Backoff whose jitter always draws value (0 <= value < 1)."""
    return Backoff(base=1.0, cap=300.0, rand=lambda: value, clock=lambda: NOW)


def test_the_bound_doubles_per_attempt() -> None:
    top = fixed(0.999999)
    assert [round(top.next_delay(attempt)) for attempt in range(6)] == [1, 2, 4, 8, 16, 32]


def test_full_jitter_spreads_delays_from_zero_to_the_bound() -> None:
    assert fixed(0.0).next_delay(5) == 0.0
    assert fixed(0.5).next_delay(5) == 16.0
    assert fixed(0.25).next_delay(2, None) == 1.0


def test_delays_are_capped_at_five_minutes() -> None:
    top = fixed(0.999999)
    assert top.next_delay(9) == pytest.approx(300.0, rel=1e-5)
    assert top.next_delay(10_000) <= 300.0
    assert fixed(0.5).next_delay(20) == 150.0


def test_retry_after_seconds_is_a_lower_bound() -> None:
    assert fixed(0.0).next_delay(0, "30") == 30.0
    assert fixed(0.999999).next_delay(8, "30") == pytest.approx(256.0, rel=1e-5)


def test_retry_after_never_exceeds_the_cap() -> None:
    assert fixed(0.0).next_delay(0, "86400") == 300.0


def test_retry_after_as_an_http_date() -> None:
    header = formatdate(NOW + 120, usegmt=True)
    assert fixed(0.0).next_delay(0, header) == pytest.approx(120.0)
    past = formatdate(NOW - 120, usegmt=True)
    assert fixed(0.0).next_delay(0, past) == 0.0


@pytest.mark.parametrize("header", [None, "", "soon", "nan", "inf", "Mon, 99 Foo 2026"])
def test_unreadable_retry_after_is_ignored(header: str | None) -> None:
    assert parse_retry_after(header, now=NOW) is None
    assert fixed(0.5).next_delay(1, header) == 1.0


def test_negative_retry_after_means_no_wait() -> None:
    assert parse_retry_after("-5", now=NOW) == 0.0


def test_without_an_attempt_the_backoff_counts_itself_until_reset() -> None:
    backoff = fixed(0.999999)
    assert [round(backoff.next_delay()) for _ in range(3)] == [1, 2, 4]
    backoff.reset()
    assert round(backoff.next_delay()) == 1


def test_a_custom_base_and_cap() -> None:
    backoff = Backoff(base=0.01, cap=0.05, rand=lambda: 0.999999)
    assert backoff.next_delay(0) == pytest.approx(0.01, rel=1e-5)
    assert backoff.next_delay(10) == pytest.approx(0.05, rel=1e-5)


def test_the_default_jitter_stays_within_bounds() -> None:
    backoff = Backoff()
    delays = [backoff.next_delay(3) for _ in range(200)]
    assert all(0.0 <= delay <= 8.0 for delay in delays)
    assert len(set(delays)) > 1


@pytest.mark.parametrize("base, cap", [(0, 1), (1, 0), (-1, 5)])
def test_nonsense_settings_are_refused(base: float, cap: float) -> None:
    with pytest.raises(ValueError):
        Backoff(base=base, cap=cap)
