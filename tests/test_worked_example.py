"""Seed 002 §3.4 / seed 000 §4: every printed number, to 8 decimals, from the engine."""

import pytest

from chainrule.explain import format_worked_example, worked_example

SEED_NUMBERS = {
    "z1": 0.08,
    "h1": 0.51998934,
    "o1": 0.60944600,
    "E_total": 0.02397190,
    "dE/dW5": 0.02592286,
    "W5+": 0.43703857,
    "W6+": 0.38685205,
    "W7+": 0.69629578,
    "W8+": 0.59624247,
    "dE/dW1": 0.00080888,
    "W1+": 0.29959556,
    "W2+": 0.24919112,
    "W3+": 0.39964496,
    "W4+": 0.34928991,
    "E_total after": 0.02323634,
}


@pytest.mark.parametrize("key", list(SEED_NUMBERS))
def test_seed_number_to_8_decimals(key):
    assert round(worked_example()[key], 8) == pytest.approx(SEED_NUMBERS[key], abs=1e-12)


def test_report_prints_the_seed_numbers():
    text = format_worked_example()
    for needle in ("E_total = 0.02397190", "W5+ = 0.43703857", "W1+ = 0.29959556",
                   "E_total after one update = 0.02323634"):
        assert needle in text
