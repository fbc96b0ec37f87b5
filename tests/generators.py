"""Running a generator (an engine run, a download, a batch) to its end in tests; unlike
:func:`engines.core.protocol.drive`, the return value may be anything and the events are kept."""

from __future__ import annotations


def run_to_end(gen):
    """(the generator's return value, the list of what it yielded)."""
    events = []
    while True:
        try:
            events.append(next(gen))
        except StopIteration as stop:
            return stop.value, events


def result_of(gen):
    """The generator's return value (what it yielded is dropped)."""
    return run_to_end(gen)[0]
