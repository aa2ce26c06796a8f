"""RNN Gradient Flow Lab engine: unroll, BPTT, per-step gradient traces (torch + numpy only).

`run`, `step_terms`, `train` and `Model` are loaded on first use. Config reads its cell choices from the
cell registry (engine/cells/), which imports torch.

Threads: importing the engine applies the thread rule of engine/threads.py (one BLAS/OpenMP
thread unless the environment sets one, or torch is already imported) before torch loads.
"""

from .threads import one_thread_unless_chosen

one_thread_unless_chosen()

from .config import Config, ConfigError, TrainingConfig  # noqa: E402 - after the thread rule

# phase is bound at import (~10 ms), not on first use like run/train: the function shares its name
# with its module, and a lazy attribute would turn into the module once anything imports engine.phase.
from .phase import phase  # noqa: E402
from .tasks import TASKS  # noqa: E402
from .trace import Snapshot, Trace, TrainingLog, to_json  # noqa: E402

__all__ = [
    "Config",
    "ConfigError",
    "TrainingConfig",
    "Model",
    "Snapshot",
    "TASKS",
    "Trace",
    "TrainingLog",
    "phase",
    "run",
    "step_terms",
    "to_json",
    "train",
]


def __getattr__(name):
    if name in ("run", "Model", "step_terms"):
        from . import model

        return getattr(model, name)
    if name == "train":
        from .training import train

        return train
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
