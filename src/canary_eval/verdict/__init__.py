"""Deciding: statistics, the comparison of a run with its reference, gates and the figures
they read."""
