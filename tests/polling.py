"""Waiting for an eventual effect (an event consumer's work) in a test."""

from __future__ import annotations

import time


def wait_for(fetch, done, seconds: float = 20.0, every: float = 0.1):
    """fetch() again until done(value) or `seconds` have passed; the last value (the test asserts on it)."""
    deadline = time.monotonic() + seconds
    while True:
        value = fetch()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(every)
