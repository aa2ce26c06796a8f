"""Your own data in a real Chromium: a CSV uploaded through the page's file box is read, said and drawn.

Oracles: the numbers written into the uploaded file (count, range, the gap's row) and the task
chart's input, which must be those numbers normalised with the training split's mean and std.
A screenshot goes to artifacts/own-data/. No clock: waits are hang guards.
"""

from __future__ import annotations

import browser_support as bs
import numpy as np
import pytest

pytestmark = pytest.mark.browser

ARTIFACTS = bs.ROOT / "artifacts" / "own-data"
VALUES = np.round(100 + 20 * np.sin(np.arange(80) / 3), 2)  # 80 values, with one gap at row 12
T = 10


@pytest.fixture(scope="module")
def server():
    with bs.served_chromium(ARTIFACTS) as served:
        yield served


def test_an_uploaded_csv_is_read_said_and_drawn(server, tmp_path):
    chromium, url = server
    rows = [f"{1900 + i};{str(v).replace('.', ',')}" for i, v in enumerate(VALUES)]  # ';' and a decimal comma, as a German export
    rows.insert(10, "1999;")  # an empty cell: line 12 of the file (after the header), dropped and named
    f = tmp_path / "meine_reihe.csv"
    f.write_bytes("\ufeffjahr;wert\n".encode() + "\n".join(rows).encode())
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.goto(f"{url}/?task=series&seq_len={T}&hidden_size=8&batch_size=4")
        page.wait_for_selector(bs.IDLE, timeout=bs.FIRST_LOAD_MS)
        assert "paste numbers or upload a CSV" in page.inner_text("body")
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(f))
        page.get_by_text(f"read {len(VALUES)} values").wait_for(timeout=bs.RERUN_MS)
        said = page.inner_text('[data-testid="stSidebar"]')
        assert f"read {len(VALUES)} values ({VALUES.min():g} to {VALUES.max():g}), column wert" in said
        assert "1 empty or missing cell dropped (row 12)" in said
        bs.wait_chart(page, "c.title.startsWith('How the gradient flows')")
        page.get_by_text("The task: one sequence, its target and the prediction").click()
        drawn = page.wait_for_function(
            """() => { const gd = Array.from(document.querySelectorAll('.js-plotly-plot'))
                 .find(g => g._fullLayout && (g._fullLayout.title.text || '').includes('The task'));
               return gd ? gd._fullData.find(t => t.name === 'input').y.slice() : null; }""",
            timeout=bs.RERUN_MS,
        ).json_value()
        windows = len(VALUES) - T
        n_train = int(0.8 * windows)
        covered = VALUES[: n_train + T]
        want = (VALUES[n_train : n_train + T] - covered.mean()) / covered.std()  # the first test window, normalised
        np.testing.assert_allclose(drawn, want, rtol=1e-9, atol=1e-12)
        assert not bs.exceptions(page)
        page.screenshot(path=str(ARTIFACTS / "uploaded.png"), full_page=True, animations="disabled")
    finally:
        context.close()
