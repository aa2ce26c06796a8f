"""RNN Gradient Flow Lab engine: unroll, BPTT, per-step gradient traces (torch + numpy only)."""

from .config import Config, ConfigError
from .model import Model, run
from .tasks import TASKS
from .trace import Snapshot, Trace, TrainingLog, to_json
from .train import train

__all__ = ["Config", "ConfigError", "Model", "Snapshot", "TASKS", "Trace", "TrainingLog", "run", "to_json", "train"]
