import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def fitted_cost_figures(monkeypatch):
    """Every test sees the cost model's fitted figures: the app's background probe (engine/calibration.py) would
    otherwise rescale the estimates of this whole process at a moment set by the clock. Tests of the calibration
    set their own HostScale and Starter."""
    from engine import calibration, cost

    monkeypatch.setattr(cost, "HOST", cost.HostScale())
    monkeypatch.setattr(calibration, "SERVER", calibration.Starter(lambda: None, wait=lambda: None))
