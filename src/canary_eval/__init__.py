"""canary-eval: canary evals for production LLM features.

Load a suite, call the production model, score every output, compare with the baseline, and
exit non-zero when quality, behaviour or operations fall past a threshold.
"""

__version__ = "0.1.0"
