"""The deploy files say what the hosting section promises: a pinned, checked plotly.js bundle, pinned images, drain and budget.

Oracles: sha512 of a tarball built here; the texts of Dockerfile, compose and k8s manifests
(as text: no YAML parser in the dev requirements), against the settings the app reads.
"""

from __future__ import annotations

import io
import sys
import tarfile
from pathlib import Path

import plotly.offline
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy"))
import fetch_plotly  # noqa: E402


def tarball(js: bytes) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        info = tarfile.TarInfo(fetch_plotly.MEMBER)
        info.size = len(js)
        tar.addfile(info, io.BytesIO(js))
    return out.getvalue()


def test_the_installed_plotly_has_a_pinned_bundle():
    """A plotly.py whose plotly.js has no pin would fail the image build: fail here first."""
    assert plotly.offline.get_plotlyjs_version() in fetch_plotly.PINS


def test_a_bundle_is_taken_only_with_the_pinned_hash_and_its_version(monkeypatch):
    js = b"/**\n* plotly.js (cartesian - minified) v9.9.9\n*/\n(function(){})();\n"
    data = tarball(js)
    monkeypatch.setitem(fetch_plotly.PINS, "9.9.9", fetch_plotly.integrity(data))
    assert fetch_plotly.bundle(data, "9.9.9") == js
    with pytest.raises(ValueError, match="not the pinned one"):
        fetch_plotly.bundle(data + b"\0", "9.9.9")
    with pytest.raises(ValueError, match="no pinned hash"):
        fetch_plotly.bundle(data, "0.0.1")
    other = tarball(js.replace(b"v9.9.9", b"v9.9.8"))
    monkeypatch.setitem(fetch_plotly.PINS, "9.9.9", fetch_plotly.integrity(other))
    with pytest.raises(ValueError, match="does not name plotly.js v9.9.9"):
        fetch_plotly.bundle(other, "9.9.9")


def version() -> str:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def test_images_are_pinned_to_the_project_version():
    compose = (ROOT / "deploy" / "docker-compose.yml").read_text()
    k8s = (ROOT / "deploy" / "k8s.yaml").read_text()
    for text in (compose, k8s):
        assert ":latest" not in text
        assert f"image: rnnlab:{version()}" in text


def test_k8s_drains_one_replica_at_a_time():
    k8s = (ROOT / "deploy" / "k8s.yaml").read_text()
    documents = k8s.split("\n---\n")
    [pdb] = [d for d in documents if "kind: PodDisruptionBudget" in d]
    assert "maxUnavailable: 1" in pdb and "matchLabels: {app: rnnlab}" in pdb
    [deployment] = [d for d in documents if "kind: Deployment" in d]
    assert 'preStop:\n              exec: {command: ["sleep", "10"]}' in deployment


def probe_settings(document: str, probe: str) -> dict:
    """{setting: int} of one k8s probe block, read as text (no YAML parser): the lines indented under `probe:`."""
    lines = document.split(f"{probe}:\n", 1)[1].splitlines()
    indent = len(lines[0]) - len(lines[0].lstrip())
    settings = {}
    for line in lines:
        if len(line) - len(line.lstrip()) != indent:
            break
        key, _, value = line.strip().partition(": ")
        if value.isdigit():
            settings[key] = int(value)
    return settings


def test_k8s_probes_give_a_busy_replica_time():
    """Kubernetes' default probe timeout is 1 s: readiness waits 3 s, liveness restarts only after a minute without an answer."""
    [deployment] = [d for d in (ROOT / "deploy" / "k8s.yaml").read_text().split("\n---\n") if "kind: Deployment" in d]
    ready, live = probe_settings(deployment, "readinessProbe"), probe_settings(deployment, "livenessProbe")
    assert ready["timeoutSeconds"] >= 3 and live["timeoutSeconds"] >= 10
    assert live["failureThreshold"] * live["periodSeconds"] >= 60
    assert ready["periodSeconds"] * ready["failureThreshold"] < live["periodSeconds"] * live["failureThreshold"]


def test_every_server_starts_through_the_launcher_with_two_arenas():
    docker = (ROOT / "Dockerfile").read_text()
    assert 'CMD ["python", "-m", "ui.serving.serve", "app.py"' in docker and "MALLOC_ARENA_MAX=2" in docker
    assert "fetch_plotly.py static" in docker and "COPY --chown=10001:10001 static" not in docker
    for name in ("docker-compose.yml", "k8s.yaml"):
        text = (ROOT / "deploy" / name).read_text()
        assert "MALLOC_ARENA_MAX" in text and "STREAMLIT_SERVER_ALLOWED_HOSTS" in text
    make = (ROOT / "Makefile").read_text()
    assert "ADDRESS ?= 127.0.0.1" in make and "-m ui.serving.serve app.py --server.address $(ADDRESS)" in make
