"""Every Streamlit internal the page borrows (ui/serving/streamlit_private.py), checked against the installed Streamlit.

Each test fails loudly when Streamlit changes what we borrow, where the page itself would only
degrade (a closed tab trains on, a refused link value reaches a widget, training crawls, charts
remount on every redraw). After a Streamlit upgrade, this file is the one test run to make.
A scan also keeps app.py and ui/ free of private Streamlit use outside that one module.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import json
import logging
import subprocess
import sys
import textwrap
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from ui.serving import streamlit_private

ROOT = Path(__file__).resolve().parents[1]
PRIVATE = ROOT / "ui" / "serving" / "streamlit_private.py"
# The `streamlit` command's own module (the package's console script, streamlit.web.cli:main) is as public
# as the command: a launcher may call it with the command's arguments.
(COMMAND,) = entry_points(group="console_scripts", name="streamlit")
PUBLIC_MODULES = {"streamlit", "streamlit.components", "streamlit.components.v1", "streamlit.components.v2", "streamlit.testing.v1"}
PUBLIC_MODULES.add(COMMAND.module)


def _hidden_options() -> set[str]:
    return {name for name, option in config.get_config_options().items() if option.visibility == "hidden"}


def _is_internal_module(name: str) -> bool:
    """Whether a dotted name is a Streamlit module outside the public ones (st.runtime, streamlit.web.server ...)."""
    try:
        return name not in PUBLIC_MODULES and importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # an attribute of a plain module, such as streamlit.web.cli.main
        return False


def private_uses(source: str) -> list[str]:
    """Private Streamlit uses in Python source: internal imports, `_` attributes, internal module paths, hidden options."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    hidden = _hidden_options()
    aliases: dict[str, str] = {}  # local name -> the streamlit module it is bound to
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "streamlit":
                    if a.name not in PUBLIC_MODULES:
                        found.append(f"line {node.lineno}: import {a.name}")
                    local = a.asname or a.name.split(".")[0]
                    aliases[local] = a.name if a.asname else "streamlit"
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "streamlit":
            for a in node.names:
                full = f"{node.module}.{a.name}"
                if full in PUBLIC_MODULES:
                    aliases[a.asname or a.name] = full
                elif node.module not in PUBLIC_MODULES or a.name.startswith("_") or _is_internal_module(full):
                    found.append(f"line {node.lineno}: from {node.module} import {a.name}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            module = aliases[node.value.id]
            if node.attr.startswith("_") and not node.attr.startswith("__"):
                found.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
            elif _is_internal_module(f"{module}.{node.attr}"):
                found.append(f"line {node.lineno}: {node.value.id}.{node.attr} (module {module}.{node.attr})")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if node.value.startswith("streamlit.") and node.value[10:11].isidentifier():
                found.append(f"line {node.lineno}: names {node.value!r}")
            elif node.value in hidden:
                found.append(f"line {node.lineno}: hidden option {node.value!r}")
    return found


def test_the_scan_finds_each_kind_of_private_use_and_passes_public_ones():
    bad = textwrap.dedent(
        """
        import logging
        import streamlit as st
        import streamlit.runtime.scriptrunner
        from streamlit import config
        from streamlit.runtime import Runtime
        st._bidi_component("x")
        st.runtime.exists()
        logging.getLogger("streamlit.elements.lib.policies")
        st.get_option("runner.postScriptGC")
        """
    )
    assert len(private_uses(bad)) == 7
    good = textwrap.dedent(
        '''
        """Run with `streamlit run app.py`; streamlit.io says so."""
        import streamlit as st
        import streamlit.components.v1 as components
        from streamlit.testing.v1 import AppTest
        st.session_state.get("x")
        st.components.v2.component("c", js="")
        st.get_option("server.port")
        st.query_params["a"] = "1"
        components.html("<b>hi</b>")
        '''
    )
    assert private_uses(good) == []
    assert len(private_uses(PRIVATE.read_text())) >= 5  # what the module borrows would be caught anywhere else


def test_no_module_of_the_page_but_one_reaches_into_streamlit():
    files = [ROOT / "app.py", *sorted((ROOT / "ui").rglob("*.py"))]
    found = {str(f.relative_to(ROOT)): private_uses(f.read_text()) for f in files if f != PRIVATE}
    assert len(found) >= 10 and "ui/page/live.py" in found
    assert {f: uses for f, uses in found.items() if uses} == {}, "move these into ui/serving/streamlit_private.py"


def test_the_streamlit_command_is_the_module_a_launcher_calls():
    from streamlit.web import cli

    assert COMMAND.value == "streamlit.web.cli:main" and COMMAND.load() is cli.main


def test_stop_exception_is_what_the_script_runner_raises_on_stop():
    from streamlit.runtime.scriptrunner import exec_code, script_runner

    assert script_runner.StopException is streamlit_private.StopException
    assert exec_code.StopException is streamlit_private.StopException
    assert "raise StopException()" in inspect.getsource(script_runner.ScriptRunner)


def _show_session_id():
    import streamlit as st

    from ui.serving import streamlit_private

    st.write(f"session={streamlit_private.script_session_id()!r}")


def test_script_session_id_inside_a_script_run_and_none_outside():
    from streamlit.runtime.scriptrunner_utils.script_run_context import ScriptRunContext

    assert "session_id" in inspect.signature(ScriptRunContext).parameters
    at = AppTest.from_function(_show_session_id, default_timeout=30).run()
    assert not at.exception
    assert at.markdown[0].value == "session='test session id'"  # AppTest's own session id
    assert streamlit_private.script_session_id() is None  # this thread runs no script


SESSION_PROBE = """
import asyncio, json
from unittest import mock
from streamlit.runtime import Runtime, RuntimeConfig
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from ui.serving.streamlit_private import session_is_alive, session_is_connected

before = session_is_alive("no-such-session")

async def main():
    files = dict(media_file_storage=MemoryMediaFileStorage("/media"), uploaded_file_manager=MemoryUploadedFileManager("/up"))
    runtime = Runtime(RuntimeConfig(script_path="app.py", **files))
    await runtime.start()
    session = runtime.connect_session(client=mock.MagicMock(), user_info={})
    alive = session_is_alive(session), session_is_connected(session, 0)
    runtime.disconnect_session(session)  # the websocket dropped: kept for a reconnect
    dropped = session_is_alive(session), session_is_connected(session, 0)
    back = runtime.connect_session(client=mock.MagicMock(), user_info={}, existing_session_id=session)
    reconnected = back == session and session_is_alive(session) and session_is_connected(session, 0)
    runtime.close_session(session)  # gone for good (a closed tab, once the reconnect window ends)
    gone = session_is_alive(session), session_is_connected(session, 0)
    runtime.stop()
    await runtime.stopped
    return alive, dropped, reconnected, gone, session_is_alive("no-such-session")

print(json.dumps([before, *asyncio.run(main())]))
"""


def test_session_is_alive_asks_a_real_runtime():
    """A real Runtime in a fresh process (it is a process-wide singleton): connected, dropped, reconnected, closed.

    A dropped websocket leaves the session alive (Streamlit keeps it for a reconnect) but not
    connected; closed or unknown, it is gone. No runtime at all (tests, the CLI): alive.
    """
    from streamlit.runtime import Runtime

    assert list(inspect.signature(Runtime.is_active_session).parameters) == ["self", "session_id"]
    out = subprocess.run([sys.executable, "-c", SESSION_PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    before, alive, dropped, reconnected, gone, unknown = json.loads(out.stdout.strip().splitlines()[-1])
    assert before is True and unknown is False
    assert (alive, dropped, reconnected, gone) == ([True, True], [True, False], True, [False, False])


def _seeded_widget():
    import streamlit as st

    from ui.serving import streamlit_private

    if st.query_params.get("forget") == "1":
        streamlit_private.forget_query_params(["n", "forget"])
    from streamlit.runtime.state.session_state_proxy import get_session_state

    with get_session_state().query_params() as qp:
        snapshot = isinstance(getattr(qp, "_initial_query_params", None), dict)
    n = st.number_input("N", min_value=0, max_value=100, value=1, key="n", bind="query-params")
    st.write(f"n={n} snapshot={snapshot} url={sorted(st.query_params.to_dict().items())}")


@pytest.mark.parametrize(
    ("forget", "shown"),
    [
        ("0", "n=7 snapshot=True url=[('forget', '0'), ('m', '3'), ('n', '7')]"),  # the link seeds the bound widget
        ("1", "n=1 snapshot=True url=[('m', '3')]"),  # forgotten: the widget starts at its default, the URL drops it
    ],
)
def test_a_forgotten_link_value_never_seeds_its_bound_widget(forget, shown):
    at = AppTest.from_function(_seeded_widget, default_timeout=30)
    for key, value in {"n": "7", "m": "3", "forget": forget}.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception
    assert at.markdown[0].value == shown


def test_the_hidden_options_are_known_consulted_and_read_from_the_project_config():
    toml = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    ours = {f"{section}.{name}": value for section, options in toml.items() for name, value in options.items()}
    options = config.get_config_options()
    assert set(ours) <= set(options), "config.toml sets options this Streamlit does not know (it only logs them)"
    hidden = {name: value for name, value in ours.items() if options[name].visibility == "hidden"}
    assert hidden == streamlit_private.HIDDEN_OPTIONS  # every hidden option we set is declared, with its value
    from streamlit.runtime.scriptrunner import script_runner

    source = inspect.getsource(script_runner)
    for name in hidden:
        assert f'config.get_option("{name}")' in source  # still consulted where the script runs
    read = "[[config.get_option(n), config.get_where_defined(n)] for n in names]"
    probe = f"import json; from streamlit import config; names = {sorted(hidden)!r}; print(json.dumps({read}))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    for (value, where), name in zip(json.loads(out.stdout.strip().splitlines()[-1]), sorted(hidden), strict=True):
        assert value == hidden[name] and Path(where) == ROOT / ".streamlit" / "config.toml"  # `streamlit run` here reads it


def _policy_warning():
    import streamlit as st

    st.session_state.setdefault("x", 5)
    st.slider("x", 0, 10, 3, key="x")  # a default value and a Session State value: Streamlit warns


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


def test_the_policy_warning_comes_from_the_logger_we_quiet(monkeypatch):
    from streamlit.elements.lib import policies

    logger = logging.getLogger(streamlit_private.POLICY_LOGGER)
    assert policies._LOGGER is logger
    handler = _Records()
    level = logger.level
    logger.addHandler(handler)
    try:
        logger.setLevel(logging.WARNING)  # as Streamlit leaves it
        monkeypatch.setattr(policies, "_shown_default_value_warning", False)  # Streamlit warns once per process
        assert not AppTest.from_function(_policy_warning, default_timeout=30).run().exception
        said = [r for r in handler.records if r.levelno == logging.WARNING and "Session State API" in r.getMessage()]
        assert [r.name for r in said] == [streamlit_private.POLICY_LOGGER]
        handler.records.clear()
        streamlit_private.quiet_policy_warnings()
        monkeypatch.setattr(policies, "_shown_default_value_warning", False)
        assert not AppTest.from_function(_policy_warning, default_timeout=30).run().exception
        assert handler.records == []
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _two_components():
    import streamlit as st

    from ui.serving import streamlit_private

    n = st.session_state["n"] = st.session_state.get("n", 0) + 1
    probe = streamlit_private.keyed_component("rnnlab_probe", js="export default function () {}")
    first = probe(key="first", data={"spec": f"figure {n}", "config": "{}"}, height=123, on_click_change=lambda: None)
    probe(key="second", data={"spec": "the same", "config": "{}"}, height=123)
    st.write(f"click={'click' in first and first.click!r}")


def test_a_keyed_component_keeps_its_element_whatever_its_data():
    at = AppTest.from_function(_two_components, default_timeout=30).run()
    assert not at.exception and at.markdown[0].value == "click=None"  # ui/page/charts.py reads result.click
    first, second = (c.proto for c in at.get("bidi_component"))
    at.run()
    again = at.get("bidi_component")[0].proto
    assert json.loads(first.json) == {"spec": "figure 1", "config": "{}"} and first.WhichOneof("data") == "json"
    assert json.loads(again.json)["spec"] == "figure 2"  # new data ...
    assert again.id == first.id != second.id  # ... the same element: its identity is its key alone
    assert first.isolate_styles is False and first.component_name.endswith("rnnlab_probe")


def test_the_wire_protocol_our_test_clients_speak():
    """tests/ws_client.py and tests/test_proxy.py talk to the server with these protos and fields."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.Element_pb2 import Element
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    assert {"query_string", "page_script_hash"} <= set(BackMsg.DESCRIPTOR.fields_by_name["rerun_script"].message_type.fields_by_name)
    forward = ForwardMsg.DESCRIPTOR.oneofs_by_name["type"]
    assert {"new_session", "delta", "script_finished"} <= {f.name for f in forward.fields}
    assert ForwardMsg().new_session.initialize.session_id == "" and ForwardMsg().delta.WhichOneof("type") is None
    assert ForwardMsg.ScriptFinishedStatus.Value("FINISHED_SUCCESSFULLY") >= 0
    kinds = {f.name for f in Element.DESCRIPTOR.oneofs_by_name["type"].fields}
    assert {"metric", "alert", "exception", "bidi_component", "plotly_chart"} <= kinds
    element = Element()
    assert (element.metric.label, element.metric.body, element.alert.body, element.exception.type, element.exception.message) == ("",) * 5
    assert element.alert.ERROR != element.alert.format  # an unset alert is not an error
