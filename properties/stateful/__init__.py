"""Stateful machines over the models under test: a generic one derived from the model graph
and one written for the reference backend's domain. See ``properties/test_stateful.py``."""

from ._base import MachineContext, SandboxMachine, run_machine
from ._state import DeletePlan, ExpectedState, Ref
from .generic import generic_machine
from .reference import reference_machine

__all__ = [
    "DeletePlan",
    "ExpectedState",
    "MachineContext",
    "Ref",
    "SandboxMachine",
    "generic_machine",
    "reference_machine",
    "run_machine",
]
