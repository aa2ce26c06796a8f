"""Streamlit's emoji catalogue is warmed once per process (ui/page/boot.py via ui/serving/streamlit_private.py), never in a script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECK = """
import sys
from ui.serving import streamlit_private as boot
assert boot.EMOJIS not in sys.modules, "imported by the page's modules already: nothing to warm"
thread = boot.warm_emoji_catalogue()
thread.join(60)
assert boot.EMOJIS in sys.modules and not thread.is_alive()
assert boot.warm_emoji_catalogue() is thread  # once per process: every later rerun gets the same thread back
print("ok")
"""


def test_the_emoji_catalogue_is_imported_once_in_a_thread():
    out = subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
