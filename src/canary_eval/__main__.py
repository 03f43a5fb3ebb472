"""`python -m canary_eval` runs the command line."""

from canary_eval.cli import main

main()
