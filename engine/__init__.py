"""RNN Gradient Flow Lab engine: unroll, BPTT, per-step gradient traces (torch + numpy only).

`run`, `train` and `Model` are loaded on first use. Config reads its cell choices from the
cell registry (engine/cells/), which imports torch.
"""

from .config import Config, ConfigError

# phase is bound at import (~10 ms), not on first use like run/train: the function shares its name
# with its module, and a lazy attribute would turn into the module once anything imports engine.phase.
from .phase import phase
from .tasks import TASKS
from .trace import Snapshot, Trace, TrainingLog, to_json

__all__ = ["Config", "ConfigError", "Model", "Snapshot", "TASKS", "Trace", "TrainingLog", "phase", "run", "to_json", "train"]


def __getattr__(name):
    if name in ("run", "Model"):
        from . import model

        return getattr(model, name)
    if name == "train":
        from .training import train

        return train
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
