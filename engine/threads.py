"""The thread rule, written once: one BLAS/OpenMP thread unless the caller chose, set before torch builds its pool.

The engine's math is many small ops, where idle BLAS/OpenMP workers spinning against them make a
run slower, not faster (a CLI run: 45.6 s with the default pools, 4.2 s with one thread; the page's
streamed training ~3x slower on 2 cores). torch reads these variables once, when it is imported,
and never again, so the rule is applied before that: by importing the engine (engine/__init__.py),
by app.py before anything imports torch, and by the launcher (ui/serving/serve.py), whose
environment the Dockerfile's container inherits. For more threads: set any of the variables first,
or call torch.set_num_threads.
"""

from __future__ import annotations

import os
import sys

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def one_thread_unless_chosen(environ=None, modules=None) -> bool:
    """Set every THREAD_VARS to 1 unless the environment sets one of them or torch is imported; True when it set them.

    One variable set is the caller's choice, and the engine adds none; torch already imported has
    made its pool, which the engine never changes.
    """
    environ = os.environ if environ is None else environ
    modules = sys.modules if modules is None else modules
    if "torch" in modules or any(v in environ for v in THREAD_VARS):
        return False
    for var in THREAD_VARS:
        environ[var] = "1"
    return True
