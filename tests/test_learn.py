"""The Learn tab renders, carries the key equations and topics, and every formula is valid KaTeX.

The prose is Markdown (ui/teaching/learn/*.md): a display formula is a $$ block inside a section's markdown, a
section title its "### " heading.
"""

import re
from pathlib import Path

import browser_support as bs
import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = f"import sys\nsys.path.insert(0, {str(ROOT)!r})\nfrom ui.teaching.learn import learn_tab\nlearn_tab()\n"


@pytest.fixture(scope="module")
def at():
    app = AppTest.from_string(SCRIPT, default_timeout=30)
    app.run()
    return app


DISPLAY = re.compile(r"\$\$\n(.*?)\n\$\$", re.S)


def _latex(at) -> list[str]:
    """Every display formula ($$ block) drawn, in order."""
    return [tex for el in at.markdown for tex in DISPLAY.findall(el.value)]


def _inline(value: str) -> list[str]:
    """The inline $...$ formulas of a markdown text, display blocks left out."""
    return re.findall(r"\$([^$]+)\$", DISPLAY.sub("", value))


def _text(at) -> str:
    parts = [el.value for el in at.markdown] + [el.label for el in at.expander]
    return "\n".join(parts)


def _one_with(at, *needles: str) -> str:
    hits = [s for s in _latex(at) if all(n in s for n in needles)]
    assert hits, f"no st.latex holds all of {needles}"
    return hits[0]


def test_renders_without_exception(at):
    assert not at.exception
    assert len(_latex(at)) >= 16
    assert [h for el in at.markdown for h in re.findall(r"^### (.+)$", el.value, re.M)][-1] == "References"


def test_key_equations_are_present(at):
    _one_with(at, r"h_t = \phi", "W_{hh}", "y_t = W_{hy}")
    _one_with(at, r"\sum_{s \ge t}", r"\frac{dL}{dh_t}")
    _one_with(at, "D_k", r"\phi'(a_k)", "W_{hh}")
    _one_with(at, r"\left(\gamma\,\sigma_{\max}\right)^{s-t}", r"\prod_{k=t+1}^{s}")
    _one_with(at, r"\gamma = \sup_a", r"\tfrac14", "sigmoid")
    _one_with(at, r"\sigma_{\max}(W_{hh}) < \tfrac{1}{\gamma}", "vanishing", "necessary")
    _one_with(at, r"c_t = f_t \odot c_{t-1} + i_t \odot g_t", r"h_t = o_t \odot \tanh(c_t)")
    _one_with(at, r"f_t \odot \frac{dL}{dc_t}", r"o_{t-1}")
    _one_with(at, r"\prod_{k=t+1}^{s} f_k", "cell path")
    _one_with(at, r"h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1}", "r_t")
    _one_with(at, r"\dfrac{\theta}{\lVert g \rVert}", r"\min\big(\max(g_i, -\theta)")
    _one_with(at, r"\text{TBPTT}(k_1, k_2)", "k_2")
    _one_with(at, r"W_{hh} = I", r"\operatorname{ReLU}")
    _one_with(at, r"h_t = \phi\left(W x_t + u \odot h_{t-1} + b\right)")
    _one_with(at, r"u_i\,\phi'(a_{t,i}) & i = j", r"\prod_{k=t+1}^{s} u_i\,\phi'(a_{k,i})")
    _one_with(at, r"h_t = \lambda \odot h_{t-1} + \gamma \odot (B\,x_t)", r"\operatorname{Re}(C\,h_t) + D\,x_t")
    _one_with(at, r"\exp\!\left(a_j + \mathrm{i}\,\theta_j\right)", r"\sqrt{\big\lvert 1 - \lvert \lambda_j \rvert^2 \big\rvert}")
    _one_with(at, r"\bar\lambda \odot \frac{dL}{dh_t}", r"\lvert \lambda_j \rvert^{k}")
    _one_with(at, r"\lVert \operatorname{Re} h \rVert^2 + \lVert \operatorname{Im} h \rVert^2")
    _one_with(at, r"\text{ratio}(s, k) = \frac{\lVert dL/dh_{T-1-k} \rVert}{\lVert dL/dh_{T-1} \rVert}", r"\ell_{T-1}")
    _one_with(at, r"\left(\gamma\,\sigma_{\max}\right)^{k}", r"s = \frac{1}{\gamma}", r"\sigma_{\max} = s")


def test_topics_and_try_lists(at):
    text = _text(at)
    for topic in (
        "clipping",
        "clipping by norm",
        "Truncated BPTT",
        "truncation",
        "LSTM",
        "GRU",
        "IRNN",
        "forget-gate bias of 1",
        "f \\approx 0.5",
        "recurrent scale",
        "Sequential",
        "overflows float32",
        "IndRNN",
        "LRU",
        "recurs on itself",
        "neither vanishes nor explodes",
        "S4",
        "Mamba",
        "upper bound",
        "edge of chaos",
        "phase diagram",
        "forget-gate bias",
        "Left of the line",
    ):
        assert topic in text, topic
    assert sum(e.label == "Try this in the app" for e in at.expander) == 11


def test_references_cover_the_sources(at):
    refs = at.markdown[-1].value
    for name in (
        "Hochreiter & Schmidhuber (1997)",
        "Bengio, Simard & Frasconi (1994)",
        "Pascanu, Mikolov & Bengio (2013)",
        "Williams & Peng (1990)",
        "Sutskever (2013)",
        "Le, Jaitly & Hinton (2015)",
        "Cho, van Merriënboer",
        "Madsen (2019)",
        "Cashman, Patterson",
        "Li, Li, Cook, Zhu & Gao (2018)",
        "Orvieto, Smith, Gu",
        "Gu, Goel & Ré (2022)",
        "Gu & Dao (2023)",
        "Bertschinger & Natschläger (2004)",
        "Poole, Lahiri, Raghu",
        "Pennington, Schoenholz & Ganguli (2017)",
    ):
        assert name in refs, name


def _balanced(tex: str) -> bool:
    depth = 0
    for ch in re.sub(r"\\[{}]", "", tex):
        depth += (ch == "{") - (ch == "}")
        if depth < 0:
            return False
    return depth == 0


def test_math_is_structurally_sound(at):
    for tex in _latex(at):
        body = tex.strip().removeprefix("$$").removesuffix("$$")
        assert _balanced(body), body
        assert len(re.findall(r"\\left(?![a-zA-Z])", body)) == len(re.findall(r"\\right(?![a-zA-Z])", body)), body
        assert body.count(r"\begin{") == body.count(r"\end{"), body
    for md in at.markdown:
        assert md.value.count("$") % 2 == 0, md.value
        for inline in _inline(md.value):
            assert _balanced(inline), inline


@pytest.fixture(scope="module")
def learn_server(tmp_path_factory):
    """A Streamlit server showing only the Learn tab (skips, or fails in CI, without a browser)."""
    bs.require_browser()
    page = tmp_path_factory.mktemp("learn") / "learn_page.py"
    page.write_text(SCRIPT)
    with bs.streamlit_server(script=page) as url:
        yield url


@pytest.mark.browser
def test_katex_renders_every_formula(learn_server, at):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = bs.launch(pw)
        try:
            page = browser.new_page()
            page.goto(learn_server)
            # The server's first run imports torch and the engine: the suite's first-load hang guard, as every browser test uses.
            page.wait_for_selector(".katex-display", timeout=bs.FIRST_LOAD_MS)
            page.wait_for_selector(bs.IDLE, timeout=bs.FIRST_LOAD_MS)
            errors = page.locator(".katex-error").evaluate_all("els => els.map(e => e.title)")
            undefined = page.locator('.katex mstyle[mathcolor="#cc0000"]').count()
            displays = page.locator(".katex-display").count()
            inline = page.locator(".katex").count() - displays
        finally:
            browser.close()
    assert errors == []
    assert undefined == 0
    assert displays == len(_latex(at))
    expected_inline = sum(len(_inline(md.value)) for md in at.markdown)
    assert inline == expected_inline


def test_worked_numbers_are_true(at):
    """Every '$a^{n} \\approx m \\times 10^{e}$' in the text equals a**n rounded to the digits it shows."""
    pattern = r"\$(\d+(?:\.\d+)?)\^\{(\d+)\} \\approx (\d+(?:\.\d+)?)(?: \\times 10\^\{(-?\d+)\})?\$"
    found = re.findall(pattern, _text(at))
    assert len(found) >= 6
    for base, n, mantissa, exp in found:
        true = float(base) ** int(n)
        e = int(exp or 0)
        digits = len(mantissa.replace(".", "").lstrip("0"))
        assert float(f"{true / 10**e:.{digits}g}") == float(mantissa), (base, n, mantissa, exp)
    assert float(f"{1.05**500:.1g}") == 4e10  # "about 4 x 10^10 over 500 steps"


UNSET = "not set by this button"


def _try_buttons(at):
    return [b for b in at.button if b.label == "Set the controls"]


def test_every_try_button_sets_the_controls_it_names(at):
    """Each "Set the controls" button writes exactly the settings in its link (on top of the defaults), and opens the chart."""
    from urllib.parse import parse_qsl

    from ui.page import links
    from ui.serving import limits

    cap = limits.caps()
    buttons = _try_buttons(at)
    assert len(buttons) >= 20
    app = AppTest.from_string(SCRIPT, default_timeout=30)  # one session clicks them all: one script run per button, not two
    app.run()
    for k in range(len(buttons)):
        button = _try_buttons(app)[k]
        wanted, errors, _ = links.parse({name: [raw] for name, raw in parse_qsl(button.key.removeprefix("try_?"))}, cap)
        assert not errors and wanted
        for name in [*wanted, "tab"]:  # what the last click set is gone: a button that sets nothing cannot pass on its values
            app.session_state[name] = UNSET
        button.click().run()
        assert not app.exception
        for name, value in wanted.items():
            assert app.session_state[name] == value, (button.key, name)
        assert app.session_state["tab"] == "Gradient flow", button.key  # the page then shows the chart that changed


def test_tbptt_formula_is_the_engine_rule():
    """The Learn tab's rule (dl_s/dh_t cut for t < b_s + k1 - k2) equals the pairs Config.truncation_blocks() reaches."""
    from engine import Config

    for T in (1, 7, 12, 13, 20):
        for k1, k2 in [(1, 1), (3, 3), (3, 5), (5, 7), (4, 13), (6, 6)]:
            if k2 > T:
                continue
            cfg = Config(task="sine", seq_len=T, k1=k1, k2=k2)
            engine_pairs = {(s, t) for end, lo, first in cfg.truncation_blocks() for s in range(first, end + 1) for t in range(lo, s + 1)}
            formula = {(s, t) for s in range(T) for t in range(T) if t <= s and not t < k1 * (s // k1) + k1 - k2}
            assert engine_pairs == formula, (T, k1, k2)


def test_a_short_last_block_reaches_as_far_back_as_a_full_one():
    """T=13, k1=5, k2=7: the loss at 12 sits in the block starting at 10, so the gradient reaches t >= 10 + 5 - 7 = 8 only."""
    import numpy as np

    from engine import Config, run

    g = run(Config(task="first", seq_len=13, k1=5, k2=7, hidden_size=6, batch_size=3, dtype="float64")).grad_h
    assert np.all(g[:8] == 0) and np.all(g[8:] > 0)
