"""The desk's plain values and rules: orders, bars, fills, clocks, intervals, round trips.

Pure: no I/O, no front end, no SDK. Every other layer builds on these.
"""
