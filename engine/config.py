"""One frozen Config describes a run; a single field table drives validation, the URL and the CLI."""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, field, fields, replace

from .cells import CELLS as CELL_CLASSES
from .data import bundled_length

CELLS = tuple(CELL_CLASSES)  # from the registry (engine/cells/), in menu order
ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")
INITS = ("orthogonal", "identity", "normal", "torch")
TASKS = ("adding", "first", "copy", "sine", "nile", "co2", "sunspots", "text", "series")
CLIPS = ("none", "norm", "value")
OPTIMIZERS = ("sgd", "adam")
DTYPES = ("float32", "float64")
DEVICES = ("auto", "cpu", "cuda")


class ConfigError(ValueError):
    """A readable complaint about one Config field; `field` names it."""

    def __init__(self, field_name: str, message: str):
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.reason = message


def _f(default, help, choices=None, lo=None, hi=None):
    return field(default=default, metadata={"help": help, "choices": choices, "lo": lo, "hi": hi})


@dataclass(frozen=True)
class Config:
    """Everything that determines a run; equal Configs give identical results."""

    cell: str = _f("rnn", "recurrent cell: " + "; ".join(f"{c.label}: {c.description}" for c in CELL_CLASSES.values()), CELLS)
    activation: str = _f(
        "tanh", "nonlinearity phi of the cells that have one (vanilla RNN, IndRNN); gated cells use sigmoid/tanh", ACTIVATIONS
    )
    task: str = _f(
        "adding",
        "task: adding problem, remember-the-first-input, copy (delayed recall), noisy sine; real data (next-step): Nile flow, "
        "Mauna Loa CO2, sunspots, next character of a text; series: your own numbers (data passed beside the Config)",
        TASKS,
    )
    seq_len: int = _f(50, "number of time steps T the network is unrolled over", lo=1, hi=2000)
    hidden_size: int = _f(32, "number of hidden units H", lo=1, hi=1024)
    batch_size: int = _f(16, "number of independent sequences B per batch", lo=1, hi=512)
    init: str = _f("orthogonal", "initialisation of the recurrent weights before rescaling (identity also zeroes the biases: IRNN)", INITS)
    recurrent_scale: float = _f(
        1.0,
        "size of the recurrence: the spectral radius of W_hh (RNN, each gate block for LSTM/GRU), max |u_i| (IndRNN), max |lambda_i| (LRU)",
        lo=0.0,
        hi=10.0,
    )
    forget_bias: float = _f(0.0, "added to the LSTM forget-gate bias (1.0 keeps gradients alive)", lo=-10.0, hi=10.0)
    truncation: int = _f(0, "truncated BPTT: detach every K steps (0 = full BPTT)", lo=0, hi=2000)
    k1: int = _f(0, "TBPTT(k1, k2): backpropagate every k1 steps (0 = use truncation)", lo=0, hi=2000)
    k2: int = _f(0, "TBPTT(k1, k2): ... through k2 steps (0 = use truncation)", lo=0, hi=2000)
    clip: str = _f("none", "gradient clipping: none, by global norm, or by value", CLIPS)
    clip_threshold: float = _f(1.0, "clipping threshold theta (norm or per-element bound)", lo=0.0, hi=1e6)
    optimizer: str = _f("adam", "optimiser used by training", OPTIMIZERS)
    # 0.03: with Adam an LSTM learns the adding problem at T = 50 within 1000 steps (seeds 0-4); at 0.01, 3 of 5 seeds did not
    lr: float = _f(0.03, "learning rate", lo=0.0, hi=10.0)
    seed: int = _f(0, "random seed for the weights and the data", lo=0, hi=2**31 - 1)
    dtype: str = _f("float32", "floating-point precision of the computation", DTYPES)
    device: str = _f("auto", "where to compute: auto uses CUDA when present, else the CPU", DEVICES)

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            _check_field(f, value)
            # numpy integers and floats (np.int64(3), np.uint64(60), np.float32(0.9)) pass the checks as
            # numbers.Integral / numbers.Real but break torch seeding, indexing and JSON: keep plain Python values
            object.__setattr__(self, f.name, _plain(f, value))
        self._check_combinations()

    def _check_combinations(self):
        cell = CELL_CLASSES[self.cell]
        if not cell.uses_activation and self.activation != "tanh":
            with_phi = ", ".join(c.label for c in CELL_CLASSES.values() if c.uses_activation)
            raise ConfigError("activation", f"applies to {with_phi} only; {cell.label} has its own fixed nonlinearities")
        if not cell.has_forget_bias and self.forget_bias != 0.0:
            raise ConfigError("forget_bias", f"applies to cells with a forget gate (LSTM) only, not to cell={self.cell!r}")
        if self.task == "adding" and self.seq_len < 2:
            raise ConfigError("seq_len", "the adding task needs at least 2 time steps")
        length = bundled_length(self.task)
        if length is not None and self.seq_len > length - 2:
            raise ConfigError("seq_len", f"task {self.task} has {length} values: windows of seq_len steps need seq_len <= {length - 2}")
        for name in ("truncation", "k1", "k2"):
            if getattr(self, name) > self.seq_len:
                raise ConfigError(name, f"must be at most seq_len={self.seq_len} (got {getattr(self, name)})")
        if self.truncation and (self.k1 or self.k2):
            raise ConfigError("truncation", "give either truncation K or k1/k2, not both")
        if bool(self.k1) != bool(self.k2):
            raise ConfigError("k1" if not self.k1 else "k2", "k1 and k2 must be given together")
        if self.k1 > self.k2:
            raise ConfigError("k2", f"must be at least k1={self.k1} (got {self.k2}); otherwise some losses are never backpropagated")

    @property
    def tbptt(self) -> tuple[int, int] | None:
        """(k1, k2) of truncated BPTT, or None for full BPTT."""
        if self.truncation:
            return (self.truncation, self.truncation)
        if self.k1:
            return (self.k1, self.k2)
        return None

    def truncation_blocks(self) -> list[tuple[int, int, int]]:
        """[(end, lowest step reached, first loss step of the block)], last block first.

        TBPTT(k1, k2): after every k1 forward steps the losses of those steps are
        backpropagated to k2 steps before the block's (full-length) end, i.e. down to
        first + k1 - k2; a final partial block reaches just as far back as a full one would,
        so k1 = k2 = K is exactly "detach the state every K steps". Full BPTT is one block.
        """
        T = self.seq_len
        if self.tbptt is None:
            return [(T - 1, 0, 0)]
        k1, k2 = self.tbptt
        return [(min(first + k1, T) - 1, max(0, first + k1 - k2), first) for first in range(0, T, k1)][::-1]

    def replace(self, **changes) -> Config:
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return asdict(self)

    def to_query(self) -> dict[str, str]:
        """Readable URL parameters (only fields that differ from the defaults)."""
        default = Config()
        return {f.name: _format(getattr(self, f.name)) for f in fields(self) if getattr(self, f.name) != getattr(default, f.name)}

    @classmethod
    def from_query(cls, query: dict) -> Config:
        """Inverse of to_query; unknown keys are ignored, bad values raise ConfigError."""
        known = {f.name: f for f in fields(cls)}
        values = {}
        for key, raw in query.items():
            if key in known:
                if isinstance(raw, list):
                    raw = raw[-1]
                values[key] = parse_value(known[key], raw)
        return cls(**values)


@dataclass(frozen=True)
class TrainingConfig:
    """How long Run trains and how often it reports: one range and one default for the page, its links, train() and the CLI."""

    # 1000: with the default lr an LSTM learns the adding problem at T = 50 within this many steps on most seeds
    steps: int = _f(1000, "number of training steps", lo=1, hi=5000)
    every: int = _f(5, "a snapshot every K steps (and at the first and the last)", lo=1, hi=100)

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            _check_field(f, value)
            object.__setattr__(self, f.name, _plain(f, value))


def _field(name: str):
    """The table entry of a Config or TrainingConfig field (KeyError for any other name)."""
    found = [f for cls in (Config, TrainingConfig) for f in fields(cls) if f.name == name]
    if not found:
        raise KeyError(name)
    return found[0]


def field_info(name: str) -> dict:
    """Help text, choices, range and default of a Config or TrainingConfig field (for the UI, the links and the CLI)."""
    f = _field(name)
    return dict(f.metadata, default=f.default, type=f.type)


def check_value(name: str, raw):
    """One field's value, from a string (URL, command line) or as given, checked alone against its table entry.

    The same parse and the same check as Config's and TrainingConfig's own, for a form that reads one
    field at a time; combinations are Config's to check. Raises ConfigError naming the field.
    """
    f = _field(name)
    value = parse_value(f, raw)
    _check_field(f, value)
    return _plain(f, value)


def parse_value(f, raw):
    """Turn a string (URL, command line) into the field's type, or raise ConfigError."""
    if not isinstance(raw, str):
        return raw
    if f.type in ("int", int):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f.name, f"must be an integer (got {_show(raw)})") from None
    if f.type in ("float", float):
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f.name, f"must be a number (got {_show(raw)})") from None
    return raw


def _format(value) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def _check_field(f, value):
    """Raise ConfigError naming the field for any value of the wrong type or range (never another exception)."""
    meta = f.metadata
    kind = f.type if isinstance(f.type, str) else f.type.__name__
    if meta["choices"] is not None:
        if not isinstance(value, str) or value not in meta["choices"]:
            raise ConfigError(f.name, f"must be one of {', '.join(meta['choices'])} (got {_show(value)})")
        return
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ConfigError(f.name, f"must be an integer (got {_show(value)})")
        if not meta["lo"] <= value <= meta["hi"]:
            raise ConfigError(f.name, f"must be an integer from {meta['lo']} to {meta['hi']} (got {_show(value)})")
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f.name, f"must be a finite number (got {_show(value)})")
    try:
        finite = math.isfinite(value)
    except (OverflowError, TypeError, ValueError):
        finite = False
    if not finite:
        raise ConfigError(f.name, f"must be a finite number (got {_show(value)})")
    lo, hi = meta["lo"], meta["hi"]
    if f.name == "forget_bias":
        if not lo <= value <= hi:
            raise ConfigError(f.name, f"must be between {lo} and {hi} (got {_show(value)})")
    elif not lo < value <= hi:
        raise ConfigError(f.name, f"must be greater than {lo} and at most {hi:g} (got {_show(value)})")


def _plain(f, value):
    """The checked value as the field's plain Python type: int, float or str."""
    if f.metadata["choices"] is not None:
        return str(value)
    kind = f.type if isinstance(f.type, str) else f.type.__name__
    return int(value) if kind == "int" else float(value)


def _show(value) -> str:
    """A short repr of a bad value for the message (huge integers and arrays cut)."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - any object may be passed; the message must still be built
        text = f"a {type(value).__name__}"
    return text if len(text) <= 40 else text[:37] + "..."
