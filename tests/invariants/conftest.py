"""Report how often each known violation (known_violations.py) was tolerated in this run."""
from tests.invariants.check import TOLERATED


def pytest_terminal_summary(terminalreporter):
    if TOLERATED:
        terminalreporter.write_line("known violations tolerated (tests/invariants/"
                                    "known_violations.py):")
        for why, count in sorted(TOLERATED.items()):
            terminalreporter.write_line(f"  {count:5d}  {why}")
