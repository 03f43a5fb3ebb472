"""The vendor simulator: an OpenAI-compatible server that answers the bundled support-bot canary
set the way a real model version would, for the demo, for `canary simulate` and for tests.

    with serve(SimulatorConfig(version="stable", latency_scale=0.02)) as sim:
        ...  # point a suite at sim.base_url
        sim.set_version("drifted")  # the silent vendor update

It also writes realistic production logs for `canary monitor` (`write_production_logs`).
"""

from canary_eval.simulator.config import SimulatorConfig
from canary_eval.simulator.faults import Fault, parse_fault, parse_script
from canary_eval.simulator.logs import write_production_logs
from canary_eval.simulator.server import RunningSimulator, serve, serve_forever
from canary_eval.simulator.vendor import SimulatorStats
from canary_eval.simulator.versions import (
    MODEL_ALIAS,
    MODEL_VERSIONS,
    VERSIONS,
    ModelVersion,
    answers_correctly,
    decide,
)

__all__ = [
    "MODEL_ALIAS",
    "MODEL_VERSIONS",
    "VERSIONS",
    "Fault",
    "ModelVersion",
    "RunningSimulator",
    "SimulatorConfig",
    "SimulatorStats",
    "answers_correctly",
    "decide",
    "parse_fault",
    "parse_script",
    "serve",
    "serve_forever",
    "write_production_logs",
]
