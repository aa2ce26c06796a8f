"""Real data for the series and text tasks: the bundled files in data/, and the user's own numbers or text.

Parsing is a pure function of the bytes (or str) it is given: a clean result or a DataError
saying what is wrong, never another exception, and nothing is written anywhere. Limits are
stated here and enforced before any work: 5 MB, 100,000 values, 100,000 characters.

How a series becomes a task (windows): a window of T values is the input and the same window
one step later the target (next-step prediction, a loss at every step). Windows start at
every position 0 .. N-T-1; the first 80 % of starts are the training split, the rest the test
split. The series is normalised with the mean and standard deviation of the values the
training windows cover, so nothing of the test split leaks into the scaling.
Text: the same windows over characters, one-hot input over a fixed alphabet (printable
ASCII, newline, and one 'other' symbol), cross-entropy of the next character at every step.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAX_BYTES = 5 * 1024 * 1024  # also .streamlit/config.toml's server.maxUploadSize (in MB)
MAX_VALUES = 100_000
MAX_CHARS = 100_000
MAX_COLUMNS = 1000
MAX_MAGNITUDE = 1e15  # larger values would overflow float32 once squared in the loss
MIN_VALUES = 3
TRAIN_SHARE = 0.8
DATA_DIR = Path(__file__).resolve().parents[1] / "data"

OTHER = "¤"  # shown for every character outside the alphabet
ALPHABET = "\n" + "".join(chr(c) for c in range(32, 127)) + OTHER
CHAR_INDEX = {c: i for i, c in enumerate(ALPHABET)}
VOCAB = len(ALPHABET)  # 97

GAP_WORDS = {"", "na", "n/a", "nan", "null", "none", "-", "?", "#n/a"}  # an empty or marked-missing cell: a gap
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


@dataclass(frozen=True)
class Builtin:
    file: str
    column: str
    count: int
    what: str
    source: str


SERIES = {
    "nile": Builtin(
        "nile.csv", "flow", 100, "annual flow of the Nile at Aswan, 1871-1970 (10^8 m^3)", "Cobb 1978, Biometrika 65(2); public domain"
    ),
    "co2": Builtin(
        "co2_monthly.csv",
        "co2_ppm",
        452,
        "monthly atmospheric CO2 at Mauna Loa, 1964-05 to 2001-12 (ppm)",
        "Keeling & Whorf 2004, CDIAC; public domain",
    ),
    "sunspots": Builtin("sunspots.csv", "sunspots", 309, "yearly sunspot number, 1700-2008", "NOAA NGDC; public domain"),
}
TEXT = Builtin("gettysburg.txt", "", 1476, "Lincoln's Gettysburg Address (1863)", "Library of Congress, Bliss copy; public domain")


class DataError(ValueError):
    """User data that cannot be used, with a message for the person who gave it."""


@dataclass(frozen=True)
class Series:
    """A clean series (float64, finite) and what was read to get it."""

    values: np.ndarray
    source: str  # where it came from: a bundled file, an upload's name, "pasted"
    column: str | None = None  # the column used, by name (or its number when there is no header)
    columns: tuple = ()  # every column the table had (the page offers them)
    gaps: tuple = ()  # 1-based row numbers of the empty or missing cells that were dropped
    sha256: str = ""

    def summary(self) -> str:
        """'read 100 values (456 to 1370), column flow; 2 gaps dropped (rows 5, 9)'."""
        v = self.values
        words = f"read {len(v):,} values ({v.min():.6g} to {v.max():.6g})"
        if self.column is not None and len(self.columns) > 1:
            words += f", column {self.column}"
        if self.gaps:
            shown = ", ".join(str(r) for r in self.gaps[:5]) + (", ..." if len(self.gaps) > 5 else "")
            many = "s" * (len(self.gaps) > 1)
            words += f"; {len(self.gaps)} empty or missing cell{many} dropped (row{many} {shown})"
        else:
            words += "; no gaps"
        return words


@dataclass(frozen=True)
class Text:
    """Text ready for the character task: the characters outside the alphabet count as one 'other' symbol."""

    text: str
    source: str
    other: int = 0  # characters read as OTHER
    sha256: str = ""

    def summary(self) -> str:
        words = f"read {len(self.text):,} characters, {len(set(self.text))} distinct"
        return words + (f"; {self.other:,} outside printable ASCII read as '{OTHER}'" if self.other else "")


def sha256_of(data) -> str:
    """sha256 of a series' float64 values (little-endian) or of a text's UTF-8 bytes."""
    if isinstance(data, str):
        return hashlib.sha256(data.encode("utf-8")).hexdigest()
    return hashlib.sha256(np.ascontiguousarray(data, dtype="<f8").tobytes()).hexdigest()


def decode(raw, what: str = "file") -> str:
    """bytes -> str (UTF-8, a UTF-8 or UTF-16 BOM honoured and dropped), or DataError; a str passes with its BOM dropped."""
    if isinstance(raw, str):
        if len(raw) > MAX_BYTES:
            raise DataError(f"the {what} is too large: {len(raw):,} characters; the limit is {MAX_BYTES // 2**20} MB")
        return raw.lstrip("\ufeff")
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise DataError(f"the {what} must be text or bytes (got a {type(raw).__name__})")
    raw = bytes(raw)
    if len(raw) > MAX_BYTES:
        raise DataError(f"the {what} is too large: {len(raw) / 2**20:.1f} MB; the limit is {MAX_BYTES // 2**20} MB")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16").lstrip("\ufeff")
        except UnicodeDecodeError:
            raise DataError(f"the {what} starts like UTF-16 but is not valid UTF-16 text") from None
    if b"\x00" in raw[:8192]:
        raise DataError(f"the {what} looks binary (it holds NUL bytes): give a CSV or plain text file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataError(f"the {what} is not UTF-8 text (byte {err.start} cannot be read): give a CSV or plain text file") from None


def _delimiter(lines: list[str]) -> str | None:
    """';' or tab when the first data line has one (then a decimal comma is allowed), else ',', else None (whitespace)."""
    first = next((ln for ln in lines if ln.strip()), "")
    for d in (";", "\t", ","):
        if d in first:
            return d
    return None


def _number(cell: str, decimal_comma: bool):
    """float, None for a gap, or the cell itself (str) when it is not a number."""
    if NUMBER.fullmatch(cell):  # the common case first: a plain number (100,000 cells: ~0.1 s)
        return float(cell)
    text = cell.strip().strip('"').strip()
    if text.lower() in GAP_WORDS:
        return None
    if decimal_comma and text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    if not NUMBER.fullmatch(text):
        return text
    return float(text)


def _trim(row: list[str]) -> list[str]:
    """A row without its trailing empty cells ('5;;' has one cell, not three)."""
    end = len(row)
    while end > 1 and not row[end - 1].strip():
        end -= 1
    return row[:end]


def read_table(raw, what: str = "file") -> tuple[list[str], list[list[str]], bool, bool]:
    """(column names, [(line number, cells)], has_header, decimal_comma) of a CSV or pasted text, or DataError.

    Line numbers count from 1 as an editor shows them; blank lines are skipped but keep their numbers.
    """
    text = decode(raw, what)
    lines = text.splitlines()
    if not any(ln.strip() for ln in lines):
        raise DataError(f"the {what} is empty: give at least {MIN_VALUES} numbers, one per line or in one column")
    delim = _delimiter(lines)
    if delim is None:
        numbered = [(i, r) for i, r in enumerate(map(str.split, lines), 1) if r]  # split() drops blanks: no empty cells
        if len(numbered) == 1:
            numbered = [(1, [c]) for c in numbered[0][1]]  # numbers pasted on one line, separated by spaces: one column
    else:
        reader = csv.reader(io.StringIO(text), delimiter=delim)
        numbered = [(reader.line_num, r) for r in reader]
        numbered = [(n, r if r[-1].strip() else _trim(r)) for n, r in numbered if r and (r[-1].strip() or any(c.strip() for c in r))]
    rows = [r for _, r in numbered]
    width = max(len(r) for r in rows)
    if width > MAX_COLUMNS:
        raise DataError(f"the {what} has {width:,} columns; the limit is {MAX_COLUMNS:,}")
    decimal_comma = delim in (";", "\t", None)
    first = [_number(c, decimal_comma) for c in rows[0]]
    has_header = any(isinstance(v, str) for v in first)
    if has_header:
        names = [c.strip().strip('"') or f"column {i + 1}" for i, c in enumerate(rows[0])]
        names += [f"column {i + 1}" for i in range(len(names), width)]
        body = numbered[1:]
    else:
        names = [f"column {i + 1}" for i in range(width)]
        body = numbered
    return names, body, has_header, decimal_comma


def parse_series(raw, column=None, source: str = "pasted", what: str = "file") -> Series:
    """Numbers from CSV bytes/text or a pasted list -> Series, or DataError. Never another exception.

    column: a name, a 0-based index, or None (a single column, else the last one: files like
    'year,value' keep the value last). Empty cells and NA/NaN markers are gaps: dropped and
    listed. Any other text, inf, or a magnitude above 1e15 is refused with its row. A decimal
    comma is read in files separated by ';', tabs or spaces (the European CSV convention); in
    a comma-separated file '3,14' is two cells, so such numbers need ';' between columns.
    """
    try:
        return _parse_series(raw, column, source, what)
    except DataError:
        raise
    except (ValueError, TypeError, OverflowError, csv.Error, MemoryError, RecursionError) as err:
        raise DataError(f"the {what} could not be read as numbers ({type(err).__name__}: {str(err)[:80]})") from None


def _parse_series(raw, column, source, what) -> Series:
    names, body, has_header, decimal_comma = read_table(raw, what)
    index = _column_index(names, column, what)
    values, gaps = [], []
    where = f"column {names[index]!r}" if has_header else f"column {index + 1}"
    for line, row in body:
        cell = row[index] if index < len(row) else ""
        v = _number(cell, decimal_comma)
        if v is None:
            gaps.append(line)
            continue
        if isinstance(v, str):
            shown = v if len(v) <= 20 else v[:17] + "..."
            low = v.lower().lstrip("+-")
            if low in ("inf", "infinity"):
                raise DataError(f"row {line}, {where}: {shown!r} is infinite; give finite numbers")
            raise DataError(f"row {line}, {where}: {shown!r} is not a number (a gap may be an empty cell or NA)")
        if not abs(v) <= MAX_MAGNITUDE:
            raise DataError(f"row {line}, {where}: {cell.strip()[:20]!r} is too large (the limit is ±1e15)")
        values.append(v)
        if len(values) > MAX_VALUES:
            raise DataError(f"the {what} has more than {MAX_VALUES:,} values; the limit is {MAX_VALUES:,}")
    if len(values) < MIN_VALUES:
        raise DataError(f"the {what} has {len(values)} number{'s' * (len(values) != 1)}; give at least {MIN_VALUES}")
    a = np.asarray(values, dtype=np.float64)
    if a.min() == a.max():
        raise DataError(f"all {len(a):,} values are equal ({a[0]:g}): there is nothing to predict")
    return Series(a, source, names[index], tuple(names), tuple(gaps), sha256_of(a))


def _column_index(names: list[str], column, what: str) -> int:
    if column is None:
        return len(names) - 1
    if isinstance(column, (int, np.integer)) and not isinstance(column, bool):
        if 0 <= column < len(names):
            return int(column)
        raise DataError(f"column {column} does not exist: the {what} has {len(names)} column(s), numbered from 0")
    if isinstance(column, str):
        if column in names:
            return names.index(column)
        if column.strip().isdigit() and int(column) < len(names):
            return int(column)
        shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
        raise DataError(f"no column named {column[:40]!r}; the {what} has: {shown}")
    raise DataError(f"column must be a name or a number (got a {type(column).__name__})")


def parse_text(raw, source: str = "pasted", what: str = "text") -> Text:
    """Text for the character task, or DataError: at most 100,000 characters, at least 3; CRLF read as newline, tabs as spaces."""
    text = decode(raw, what).replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    if len(text) > MAX_CHARS:
        raise DataError(f"the {what} has {len(text):,} characters; the limit is {MAX_CHARS:,}")
    if len(text.strip()) < MIN_VALUES:
        raise DataError(f"the {what} is too short: give at least {MIN_VALUES} characters")
    other = sum(c not in CHAR_INDEX for c in text)
    return Text(text, source, other, sha256_of(text))


def as_series(data, source: str = "array") -> Series:
    """A Series from one already in memory (a Series, or a 1-D array of numbers), checked like a file."""
    if isinstance(data, Series):
        return data
    if isinstance(data, (str, bytes)):
        return parse_series(data, source=source)
    try:
        a = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError("a series must be a 1-D array of numbers") from None
    if a.ndim != 1:
        raise DataError(f"a series must be 1-D (got shape {a.shape})")
    if len(a) > MAX_VALUES:
        raise DataError(f"the series has {len(a):,} values; the limit is {MAX_VALUES:,}")
    if len(a) < MIN_VALUES:
        raise DataError(f"the series has {len(a)} values; give at least {MIN_VALUES}")
    if not np.isfinite(a).all() or np.abs(a).max() > MAX_MAGNITUDE:
        raise DataError("the series holds NaN, inf or values beyond ±1e15")
    if a.min() == a.max():
        raise DataError(f"all {len(a):,} values are equal ({a[0]:g}): there is nothing to predict")
    return Series(a.copy(), source, sha256=sha256_of(a))


def as_text(data, source: str = "string") -> Text:
    return data if isinstance(data, Text) else parse_text(data, source=source)


def builtin_series(name: str) -> Series:
    b = SERIES[name]
    path = DATA_DIR / b.file
    return parse_series(path.read_bytes(), column=b.column, source=f"data/{b.file}: {b.what}; {b.source}")


def builtin_text() -> Text:
    return parse_text((DATA_DIR / TEXT.file).read_bytes(), source=f"data/{TEXT.file}: {TEXT.what}; {TEXT.source}")


@dataclass(frozen=True)
class Windows:
    """The windows of a series or text over T steps, split and normalised (see the module docstring)."""

    kind: str  # "series" or "text"
    codes: np.ndarray  # series: normalised values (N,); text: alphabet indices (N,)
    seq_len: int
    n_train: int  # window starts 0 .. n_train-1 train; n_train .. n_windows-1 test
    n_windows: int
    mean: float = 0.0
    std: float = 1.0
    info: dict = field(default_factory=dict)

    def window(self, starts: np.ndarray):
        """(x (T, B, I), target) of the windows at `starts`: mse targets (T, B, 1), ce class indices (T, B)."""
        T = self.seq_len
        idx = starts[None, :] + np.arange(T + 1)[:, None]  # (T+1, B)
        seq = self.codes[idx]
        if self.kind == "series":
            return seq[:T, :, None], seq[1:, :, None]
        return np.eye(VOCAB)[seq[:T]], seq[1:]

    def train_starts(self, batch_size: int, rng: np.random.Generator) -> np.ndarray:
        return rng.integers(0, self.n_train, batch_size)

    def example_start(self) -> int:
        """The first test window: the task chart's example is data the training never saw."""
        return self.n_train


def windows(data, kind: str, seq_len: int) -> Windows:
    """Split and normalise a Series or Text for windows of seq_len steps; DataError when it is too short."""
    T = seq_len
    n = len(data.values) if kind == "series" else len(data.text)
    W = n - T
    if W < 2:
        unit = "values" if kind == "series" else "characters"
        raise DataError(f"seq_len: the data has {n:,} {unit}; windows of T = {T} steps need at least T + 2 = {T + 2} (seq_len <= {n - 2})")
    n_train = min(W - 1, max(1, int(TRAIN_SHARE * W)))
    info = {
        "kind": kind,
        "source": data.source,
        "sha256": data.sha256,
        "count": n,
        "windows": W,
        "train_windows": n_train,
        "test_windows": W - n_train,
        "split": f"windows of {T} steps start at 0..{W - 1}; the first {n_train} ({n_train / W:.0%}) train, the last {W - n_train} test",
    }
    if kind == "series":
        covered = data.values[: n_train + T]
        mean, std = float(covered.mean()), float(covered.std())
        if not std > 0:
            raise DataError("the training windows hold one repeated value: nothing to normalise or predict")
        info.update(mean=mean, std=std, normalised="(value - mean) / std, both from the values the training windows cover")
        return Windows(kind, (data.values - mean) / std, T, n_train, W, mean, std, info)
    codes = np.array([CHAR_INDEX.get(c, VOCAB - 1) for c in data.text], dtype=np.int64)
    return Windows(kind, codes, T, n_train, W, info=info)


@functools.lru_cache(maxsize=8)
def _bundled(task: str):
    return builtin_text() if task == "text" else builtin_series(task)


def windows_for(task: str, seq_len: int, data=None) -> Windows | None:
    """The windows a task trains on: its bundled data, or `data` (task 'series', or 'text' on your own text); None for a synthetic task.

    data: a Series or Text, a 1-D array of numbers (series), CSV bytes/str (series) or a str (text).
    """
    if task in SERIES:
        if data is not None:
            raise DataError(f"task {task!r} uses its bundled data; for your own numbers use task 'series'")
        return windows(_bundled(task), "series", seq_len)
    if task == "series":
        if data is None:
            raise DataError("task 'series' needs data: pass data=<array of numbers> in Python, or --series FILE.csv on the command line")
        return windows(as_series(data), "series", seq_len)
    if task == "text":
        return windows(_bundled(task) if data is None else as_text(data), "text", seq_len)
    if data is not None:
        raise DataError(f"task {task!r} is synthetic and takes no data; give task 'series' or 'text'")
    return None


def bundled_length(task: str) -> int | None:
    """Values of a bundled series task, for Config's seq_len check without reading the file (text may be the user's: checked on load)."""
    return SERIES[task].count if task in SERIES else None
