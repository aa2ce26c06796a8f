"""The cell registry: every module in this package that defines CELL (a Cell subclass) is a cell.

Adding a cell is one new file here plus one reference test; Config's choices, the CLI,
and the UI (labels, help, gates, cost) read `CELLS`.
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import Back, Cell, Cost, Gate, Path, Pre, Product, Step, Tape


def _discover() -> dict:
    found = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        cls = getattr(module, "CELL", None)
        if cls is not None:
            found.append(cls)
    return {cls.name: cls for cls in sorted(found, key=lambda c: (c.order, c.name))}


CELLS: dict[str, type[Cell]] = _discover()  # name -> cell class, in menu order; class attributes describe the cell


def get_cell(name: str, activation: str = "tanh") -> Cell:
    """An instance of the named cell (cells that use an activation take it here)."""
    cls = CELLS[name]
    return cls(activation) if cls.uses_activation else cls()


__all__ = ["Back", "CELLS", "Cell", "Cost", "Gate", "Path", "Pre", "Product", "Step", "Tape", "get_cell"]
