"""Your own data on the page: numbers pasted or a CSV uploaded (task series), or text (task text); this session's only.

Nothing uploaded is written to disk or shared: Streamlit keeps an upload in memory, the parsed
data lives in st.session_state, and the traces and figures made from it go to this session's
own cache (compute.store), never to the cache every session of the process shares. A link
cannot carry the data: the page says so and offers the data for download beside the trace.
Parsing is engine.data's (a pure function, DataError with one line for the reader).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from engine.data import MAX_BYTES, MAX_CHARS, MAX_VALUES, DataError, Series, Text, parse_series, parse_text, read_table

from . import links

KEY = "_own_data"  # session_state: {"series": Series, "text": Text} once read
TASKS = ("series", "text")  # the tasks that take your data ("text" falls back to the bundled passage)


def current(cfg) -> Series | Text | None:
    """The data this session gave for cfg's task, or None (synthetic and bundled tasks, or nothing given yet)."""
    if cfg is None or cfg.task not in TASKS:
        return None
    return st.session_state.get(KEY, {}).get(cfg.task)


def digest(cfg) -> str | None:
    """sha256 of this session's data for cfg, or None: the key that keeps its results out of the shared cache."""
    data = current(cfg)
    return None if data is None else data.sha256


def problem(cfg) -> str | None:
    """Why cfg cannot run on the data at hand (none given yet, or shorter than its windows), in words; None when it can."""
    if cfg is None or cfg.task not in TASKS:
        return None
    data = current(cfg)
    if data is None and cfg.task == "series":
        return "Task *your own series*: paste numbers or upload a CSV in the sidebar (under Task) to start."
    n = len(data.values) if isinstance(data, Series) else len(data.text) if data is not None else None
    if n is None:  # the bundled passage
        from engine.data import builtin_text

        n = len(builtin_text().text)
    if n < cfg.seq_len + 2:
        return f"Setting `seq_len` refused: the data has {n:,} values or characters; windows of T = {cfg.seq_len} need T ≤ {n - 2}."
    return None


def panel(task: str) -> None:
    """The sidebar's data box for task series or text: paste or upload, what was read, or why not."""
    if task not in TASKS:
        return
    state = st.session_state
    store = state.setdefault(KEY, {})
    if task == "series":
        upload = st.file_uploader(
            "Upload a CSV (one column, or pick one)",
            type=["csv", "txt", "tsv"],
            key="own_upload",
            help=f"At most {MAX_BYTES // 2**20} MB and {MAX_VALUES:,} values. Kept in this session's memory only.",
        )
        pasted = st.text_area("… or paste numbers", key="own_paste", height=90, placeholder="1120\n1160\n963\n…")
        raw, source = (upload.getvalue(), upload.name) if upload is not None else (pasted, "pasted") if pasted.strip() else (None, None)
        column = _column(raw) if raw is not None else None
        _read(store, task, raw, source, lambda: parse_series(raw, column=column, source=source, what=_what(source)), column)
    else:
        pasted = st.text_area(
            "Your own text (empty: the Gettysburg Address)",
            key="own_text",
            height=90,
            max_chars=MAX_CHARS,
            help=f"At most {MAX_CHARS:,} characters; characters outside printable ASCII are read as one 'other' symbol.",
        )
        raw = pasted if pasted.strip() else None
        _read(store, task, raw, "pasted", lambda: parse_text(raw, source="pasted text", what="text"), None)
    data = store.get(task)
    if data is not None:
        st.caption(
            "A link cannot carry your data: whoever opens it loads the data again. Download it here; the trace names it by its sha256."
        )
        st.download_button(
            "Download your data",
            data=as_file(data),
            file_name="my_series.csv" if task == "series" else "my_text.txt",
            mime="text/csv" if task == "series" else "text/plain",
            key="own_download",
            on_click="ignore",
        )


def _what(source: str) -> str:
    return "pasted numbers" if source == "pasted" else "file"


def _column(raw) -> str | int | None:
    """A column picker when the table has several columns (default: the last); the choice as a 0-based index."""
    try:
        names = read_table(raw)[0]
    except DataError:
        return None  # parse_series says why, in the same words
    if len(names) <= 1:
        return None
    index = st.selectbox("Column", range(len(names)), index=len(names) - 1, format_func=lambda i: names[i], key="own_column")
    return int(index)


def _read(store: dict, task: str, raw, source, parse, column) -> None:
    """Parse once per new input (a rerun with the same input reuses the result) and say what was read or refused."""
    state = st.session_state
    stamp = (task, source, column, _fingerprint(raw))
    if state.get("_own_stamp_" + task) != stamp:
        state["_own_stamp_" + task] = stamp
        state.pop("_own_error_" + task, None)
        store.pop(task, None)
        if raw is not None:
            try:
                store[task] = parse()
            except DataError as err:
                state["_own_error_" + task] = str(err)
    if (error := state.get("_own_error_" + task)) is not None:
        st.error(f"Not read: {links.escape(error)}", icon=":material/error:")
    elif (data := store.get(task)) is not None:
        st.success(links.escape(data.summary()), icon=":material/check_circle:")


def _fingerprint(raw) -> tuple | None:
    if raw is None:
        return None
    return (len(raw), hash(raw))  # raw stays in this session; only its hash is compared between reruns


def as_file(data: Series | Text) -> str:
    """The data as the file it downloads as: one value per line (exact round trip), or the text itself."""
    if isinstance(data, Text):
        return data.text
    return "value\n" + "\n".join(repr(float(v)) for v in np.asarray(data.values)) + "\n"
