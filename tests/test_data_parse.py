"""The parsers of your own data (engine/data.py): each input gives a clean result or a DataError with a clear message.

Oracles: the numbers written into each input (exact), numpy for the split's normalisation,
and for fuzzing the property "a clean finite array within the limits, or DataError".
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.data import (
    ALPHABET,
    MAX_BYTES,
    MAX_CHARS,
    MAX_VALUES,
    OTHER,
    SERIES,
    DataError,
    Series,
    Text,
    as_series,
    builtin_series,
    builtin_text,
    parse_series,
    parse_text,
    sha256_of,
    windows,
    windows_for,
)


def refused(raw, *words, **kw):
    with pytest.raises(DataError) as err:
        parse_series(raw, **kw)
    text = str(err.value)
    assert all(w in text for w in words), text
    assert "\n" not in text  # one line: the page and the CLI show it as it is
    return text


def test_one_column_pasted_and_the_summary_says_what_was_read():
    s = parse_series("1\n2.5\n-3e2\n")
    np.testing.assert_array_equal(s.values, [1.0, 2.5, -300.0])
    assert s.summary() == "read 3 values (-300 to 2.5); no gaps"


def test_numbers_on_one_line_separated_by_spaces():
    np.testing.assert_array_equal(parse_series("4 5 6 7").values, [4, 5, 6, 7])


def test_empty_and_blank_files_are_refused():
    refused(b"", "empty")
    refused(b"\n \n\t\n", "empty")


def test_a_single_value_is_refused_with_the_minimum():
    refused(b"42\n", "1 number", "at least 3")
    refused(b"value\n42\n", "1 number")


def test_a_non_numeric_cell_is_refused_with_its_row_and_column():
    refused(b"1\n2\nabc\n4\n", "row 3", "column 1", "'abc' is not a number")
    refused(b"year,flow\n1871,1120\n1872,lots\n", "row 3", "column 'flow'", "'lots'")


def test_nan_and_empty_cells_are_gaps_dropped_and_listed():
    s = parse_series(b"x\n1\nNaN\n3\n\n5\nNA\n6\n")  # the blank line is no row; NaN and NA are gaps
    np.testing.assert_array_equal(s.values, [1, 3, 5, 6])
    assert s.gaps == (3, 7)
    assert "2 empty or missing cells dropped (rows 3, 7)" in s.summary()
    ragged = parse_series(b"a;b\n1;2\n3\n4;5\n6;7\n", column="b")  # a short row: its missing cell is a gap
    np.testing.assert_array_equal(ragged.values, [2, 5, 7])
    assert ragged.gaps == (3,)


def test_infinite_and_huge_values_are_refused():
    refused(b"1\ninf\n2\n", "row 2", "infinite")
    refused(b"1\n-Infinity\n2\n", "row 2", "infinite")
    refused(b"1\n1e400\n2\n", "row 2", "too large")
    refused(b"1\n2e15\n2\n", "too large", "1e15")


def test_a_binary_file_is_refused():
    refused(bytes(range(256)) * 4, "binary")
    refused(b"\x89PNG\r\n\x1a\n" + bytes(100), "binary")
    refused(b"\xff\xd8\xff\xe0 not utf8 \xfe", "not UTF-8")


def test_a_huge_file_is_refused_before_it_is_read():
    refused(b"1\n" * (MAX_BYTES // 2 + 1), "too large", "5 MB")
    refused("1\n" * (MAX_BYTES // 2 + 1), "too large")


def test_more_values_than_the_limit_are_refused():
    ok = parse_series("\n".join("7" if i % 2 else "8" for i in range(MAX_VALUES)))
    assert len(ok.values) == MAX_VALUES
    refused("\n".join(str(i % 9) for i in range(MAX_VALUES + 1)), "more than 100,000 values")


def test_a_byte_order_mark_is_dropped():
    s = parse_series("\ufeffvalue\n1\n2\n3\n".encode())
    assert s.column == "value" and list(s.values) == [1, 2, 3]
    u16 = parse_series("value\n1\n2\n3\n".encode("utf-16"))  # Excel's "Unicode text": a UTF-16 BOM
    assert u16.column == "value" and list(u16.values) == [1, 2, 3]


def test_a_decimal_comma_in_a_semicolon_or_tab_file():
    s = parse_series(b"jahr;wert\n2001;3,25\n2002;-1,5\n2003;4\n", column="wert")
    np.testing.assert_array_equal(s.values, [3.25, -1.5, 4.0])
    t = parse_series(b"2001\t3,25\n2002\t1,5\n2003\t4\n")
    np.testing.assert_array_equal(t.values, [3.25, 1.5, 4.0])
    c = parse_series(b"3,25\n1,5\n4,0\n", column=0)  # comma-separated: '3,25' is two cells, as documented
    np.testing.assert_array_equal(c.values, [3, 1, 4])


def test_a_hundred_columns_lists_them_and_picks_by_name_or_number():
    header = ",".join(f"c{i}" for i in range(100))
    rows = [",".join(str(r * 100 + i) for i in range(100)) for r in range(4)]
    raw = "\n".join([header, *rows]).encode()
    last = parse_series(raw)
    assert len(last.columns) == 100 and last.column == "c99"
    np.testing.assert_array_equal(last.values, [99, 199, 299, 399])
    np.testing.assert_array_equal(parse_series(raw, column="c7").values, [7, 107, 207, 307])
    np.testing.assert_array_equal(parse_series(raw, column=42).values, [42, 142, 242, 342])
    refused(raw, "no column named 'nope'", "c0, c1", column="nope")
    refused(raw, "column 100 does not exist", column=100)


def test_equal_values_leave_nothing_to_predict():
    refused(b"5\n5\n5\n5\n", "all 4 values are equal")


def test_the_bundled_series_read_as_their_readme_says():
    for name, b in SERIES.items():
        s = builtin_series(name)
        assert len(s.values) == b.count and not s.gaps and s.column == b.column, name
    nile = builtin_series("nile").values
    assert nile[0] == 1120 and nile[-1] == 740  # 1871 and 1970 in data/nile.csv
    assert len(builtin_text().text) > 1400


def test_the_sha256_names_the_values_not_their_formatting():
    a = parse_series("1\n2\n3\n")
    b = parse_series("x;y\n0;1,0\n0;2\n0;3,00\n", column="y")
    assert a.sha256 == b.sha256 == sha256_of(np.array([1.0, 2.0, 3.0]))
    assert a.sha256 != parse_series("1\n2\n4\n").sha256


def test_text_limits_other_characters_and_line_ends():
    t = parse_text("héllo\r\nworld\tend".encode())
    assert t.text == "héllo\nworld end" and t.other == 1 and OTHER in ALPHABET
    with pytest.raises(DataError, match="too short"):
        parse_text("  a ")
    with pytest.raises(DataError, match="100,000"):
        parse_text("x" * (MAX_CHARS + 1))
    with pytest.raises(DataError, match="binary"):
        parse_text(b"\x00\x01\x02abc")


def test_windows_split_and_normalise_with_the_training_split():
    values = np.arange(30, dtype=np.float64) ** 1.5
    w = windows(as_series(values), "series", 5)
    W = 30 - 5
    assert (w.n_windows, w.n_train) == (W, int(0.8 * W))
    covered = values[: w.n_train + 5]  # every value a training window (input or target) touches
    assert w.mean == pytest.approx(covered.mean()) and w.std == pytest.approx(covered.std())
    x, target = w.window(np.array([0, w.example_start()]))
    np.testing.assert_allclose(x[:, :, 0] * w.std + w.mean, np.stack([values[0:5], values[w.n_train : w.n_train + 5]], 1))
    np.testing.assert_allclose(target[:, :, 0] * w.std + w.mean, np.stack([values[1:6], values[w.n_train + 1 : w.n_train + 6]], 1))
    starts = w.train_starts(1000, np.random.default_rng(0))
    assert starts.min() >= 0 and starts.max() < w.n_train  # training never sees a test window
    with pytest.raises(DataError, match="seq_len"):
        windows(as_series(values), "series", 29)


def test_windows_for_refuses_data_where_a_task_takes_none():
    with pytest.raises(DataError, match="needs data"):
        windows_for("series", 5)
    with pytest.raises(DataError, match="bundled"):
        windows_for("nile", 5, data=np.arange(10.0))
    with pytest.raises(DataError, match="synthetic"):
        windows_for("adding", 5, data=np.arange(10.0))
    assert windows_for("adding", 5) is None


CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(["", "NA", "nan", "inf", "-", "1,5", "2.5e3", "abc", '"3"', "\ufeff", "1e400", " 7 "]),
    st.text(max_size=6),
)


@st.composite
def tables(draw):
    sep = draw(st.sampled_from([",", ";", "\t", " ", "\n"]))
    rows = draw(st.lists(st.lists(CELLS, min_size=1, max_size=4), max_size=12))
    text = "\n".join(sep.join(r) for r in rows)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"]))
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode("utf-8")


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)


@FUZZ
@given(st.one_of(tables(), st.binary(max_size=200), st.text(max_size=200)), st.one_of(st.none(), st.integers(-2, 5), st.text(max_size=4)))
def test_fuzz_series_parser_gives_a_clean_array_or_a_data_error(raw, column):
    try:
        s = parse_series(raw, column=column)
    except DataError as err:
        assert str(err) and "\n" not in str(err)
        return
    assert isinstance(s, Series) and s.values.dtype == np.float64 and s.values.ndim == 1
    assert 3 <= len(s.values) <= MAX_VALUES and np.isfinite(s.values).all() and np.abs(s.values).max() <= 1e15
    assert s.values.min() < s.values.max() and s.sha256 == sha256_of(s.values)


@FUZZ
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300)))
def test_fuzz_text_parser_gives_clean_text_or_a_data_error(raw):
    try:
        t = parse_text(raw)
    except DataError as err:
        assert str(err) and "\n" not in str(err)
        return
    assert isinstance(t, Text) and 3 <= len(t.text.strip()) and len(t.text) <= MAX_CHARS and "\r" not in t.text
    assert t.other == sum(c not in ALPHABET for c in t.text)
