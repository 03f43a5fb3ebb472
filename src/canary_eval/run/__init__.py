"""Calling the model: the engine (concurrency, retries, deadline), rate limits, providers, and
one run of a suite."""
