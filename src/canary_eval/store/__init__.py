"""What outlives a run: the baseline and the history, written atomically."""
