"""RNN Gradient Flow Lab engine: unroll, BPTT, per-step gradient traces (torch + numpy only).

`run`, `train` and `Model` are loaded on first use. Config reads its cell choices from the
cell registry (engine/cells/), which imports torch.

Threads: the engine's math is many small ops, where idle BLAS/OpenMP workers spinning against
them make a run slower, not faster (a CLI run: 45.6 s with the default pools, 4.2 s with one
thread). So importing the engine sets OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and
MKL_NUM_THREADS to 1, as the app does, unless the environment already sets one of them or numpy or
torch are already imported (then the caller has chosen; the engine never changes a running
pool). For more threads: set those variables before the import, or call torch.set_num_threads.
"""

import os as _os
import sys as _sys

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
if not ({"numpy", "torch"} & set(_sys.modules) or any(v in _os.environ for v in _THREAD_VARS)):
    for _var in _THREAD_VARS:
        _os.environ[_var] = "1"

from .config import Config, ConfigError  # noqa: E402 - after the thread defaults

# phase is bound at import (~10 ms), not on first use like run/train: the function shares its name
# with its module, and a lazy attribute would turn into the module once anything imports engine.phase.
from .phase import phase  # noqa: E402
from .tasks import TASKS  # noqa: E402
from .trace import Snapshot, Trace, TrainingLog, to_json  # noqa: E402

__all__ = ["Config", "ConfigError", "Model", "Snapshot", "TASKS", "Trace", "TrainingLog", "phase", "run", "to_json", "train"]


def __getattr__(name):
    if name in ("run", "Model"):
        from . import model

        return getattr(model, name)
    if name == "train":
        from .training import train

        return train
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
