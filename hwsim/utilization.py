"""Utilisation: the fraction of the run each unit, and the off-chip memory, is busy.

A unit is busy while any of its instructions runs on it. Most units are one engine resource,
so that is the union of their rows' [start, end) intervals over the run's seconds. A PIM unit
whose GEMVs are channel-local (hwsim.timing.pim_channels) is one resource per channel of its
memory, and GEMVs on different channels run side by side: its utilisation is the mean over the
channels of each channel's busy fraction (a row outside every KV region occupies all banks,
so it counts on every channel). Summing the rows' busy time instead counted up to one unit per
channel (7.1 for a batch of 64 on 32 channels). Each value is in [0, 1] by construction.
"""
from __future__ import annotations

import numpy as np


def busy_fractions(names: list, resource: np.ndarray, channel: np.ndarray | None,
                   start: np.ndarray, end: np.ndarray, seconds: float, target) -> dict:
    """{unit name: busy fraction} for the units `names` (hwsim.service.unit_index), from each
    row's engine start / end (s); `channel`: per row, the PIM channel it runs on (-1: none),
    or None without channel-local GEMVs."""
    out = {}
    for i, name in enumerate(names):
        rows = resource == i
        local = channel[rows] if channel is not None else None
        if not seconds:
            out[name] = 0.0
        elif local is not None and (local >= 0).any():
            out[name] = _channel_mean(start[rows], end[rows], local, target, name) / seconds
        else:
            out[name] = in_flight_seconds(start[rows], end[rows]) / seconds
    return out


def _channel_mean(start, end, local, target, name: str) -> float:
    """Mean over the PIM unit's memory channels of the seconds each is busy."""
    channels = target.memories[target.units[name].memory].channels
    everywhere = local < 0
    total = 0.0
    for c in range(channels):
        on = everywhere | (local == c)
        total += in_flight_seconds(start[on], end[on])
    return total / channels


def in_flight_seconds(start: np.ndarray, end: np.ndarray) -> float:
    """Length of the union of the intervals [start_i, end_i): each interval adds the part of
    it past the furthest end of the intervals that started before it."""
    if start.size == 0:
        return 0.0
    order = np.argsort(start, kind="stable")
    s, e = start[order], end[order]
    del order
    reach = np.maximum.accumulate(e, out=e)  # e is a copy: its reach in place
    # max(0, reach - max(s, before)), worked in one array (a long run's rows are millions)
    part = np.empty_like(s)
    part[0], part[1:] = s[0], reach[:-1]  # before: the reach of the intervals before each
    np.maximum(s, part, out=part)
    np.subtract(reach, part, out=part)
    np.maximum(0.0, part, out=part)
    return float(np.sum(part))
