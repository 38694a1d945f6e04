"""The private (and undocumented) parts of our libraries that `pipeline/` relies on, one test
each, against the installed versions. A failure here names the library change to read before
upgrading: docs/architecture.md, "Private APIs we use", says why each use exists.

Three kinds of check: the API is there with the signature we call (`inspect`); the library
still calls our override (a real export or a real kernel); and the library code we copy
(jupyter_client's `wait_for_ready`, nbconvert's `from_notebook_node` and `markdown2html`)
does no step our copy lacks (its source, read with `ast`)."""
from __future__ import annotations

import ast
import asyncio
import base64
import inspect
import os
import textwrap

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from pipeline.execute.kernels import ForkServer, ForkedProcess, manager_class
from pipeline.render.export import Exporter
from tests.conftest import PNG_1PX

KERNELSPEC = {"name": "python3", "language": "python", "display_name": "Python 3"}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def _tree(fn) -> ast.AST:
    return ast.parse(textwrap.dedent(inspect.getsource(fn)))


def _attributes_of(fn, name: str = "self") -> set[str]:
    """Every `name.X` in the source of `fn`."""
    return {n.attr for n in ast.walk(_tree(fn)) if isinstance(n, ast.Attribute)
            and isinstance(n.value, ast.Name) and n.value.id == name}


def _calls(fn) -> set[str]:
    """The names of everything `fn` calls (`f(...)` and `x.f(...)`)."""
    return {c.func.attr if isinstance(c.func, ast.Attribute) else c.func.id
            for c in ast.walk(_tree(fn)) if isinstance(c, ast.Call)
            and isinstance(c.func, (ast.Attribute, ast.Name))}


def _keywords(fn, callee: str) -> set[str | None]:
    """The keyword names of the calls of `callee` in `fn` (None stands for `**kwargs`)."""
    return {k.arg for c in ast.walk(_tree(fn)) if isinstance(c, ast.Call)
            and getattr(c.func, "id", getattr(c.func, "attr", None)) == callee for k in c.keywords}


def _html_exporter():
    exporter = Exporter()
    exporter.warm()
    return exporter._html


# -- nbconvert: pipeline/render/export.py, PageExporter ------------------------------------------

def test_nbconvert_init_resources_prepares_the_resources_we_pass():
    """PageExporter.from_notebook_node calls `self._init_resources(resources)` (as
    HTMLExporter does) before building the widget filter from the result."""
    from nbconvert import HTMLExporter
    from nbconvert.exporters.exporter import ResourcesDict

    assert list(inspect.signature(HTMLExporter._init_resources).parameters) == ["self", "resources"]
    assert not inspect.iscoroutinefunction(HTMLExporter._init_resources)
    resources = _html_exporter()._init_resources({"unique_key": "fig"})
    assert isinstance(resources, ResourcesDict) and resources["unique_key"] == "fig"
    assert resources["metadata"]["name"] == "Notebook"        # what the widget filter keys on
    assert callable(resources["include_css"])                 # HTMLExporter's part still runs


def test_nbconvert_nb_metadata_is_the_dict_the_export_fills_for_the_widget_filter():
    """We hand `self._nb_metadata` to WidgetsDataTypeFilter before the export fills it: it
    must be one dict, made in __init__ and updated in place under the notebook's name."""
    exporter = _html_exporter()
    assert isinstance(exporter._nb_metadata, dict)
    before = exporter._nb_metadata

    def page(with_state: bool):
        out = new_output("display_data", data={
            WIDGET_VIEW: {"model_id": "m1", "version_major": 2, "version_minor": 0},
            "text/plain": "PLAIN-FALLBACK"})
        state = {"m1": {"model_name": "IntSliderModel"}} if with_state else {}
        return new_notebook(cells=[new_code_cell("w", execution_count=1, outputs=[out])],
                            metadata={"widgets": {WIDGET_STATE: {"state": state}}})

    with_state, _ = exporter.from_notebook_node(page(True), resources={"unique_key": "fig"})
    assert exporter._nb_metadata is before and "Notebook" in before
    without_state, _ = exporter.from_notebook_node(page(False), resources={"unique_key": "fig"})
    assert WIDGET_VIEW in with_state and "PLAIN-FALLBACK" not in with_state
    assert "PLAIN-FALLBACK" in without_state and WIDGET_VIEW not in without_state


def test_our_from_notebook_node_replaces_html_exporters_and_skips_its_beautifulsoup_pass():
    """An image without alt text: nbconvert's own pass would write its long alt text."""
    nb = new_notebook(cells=[new_code_cell("plot()", execution_count=1, outputs=[new_output(
        "display_data", data={"image/png": base64.b64encode(PNG_1PX).decode()})])])
    body = Exporter().export(nb).body
    assert 'alt="Figure"' in body and "No description has been provided" not in body


def test_html_exporters_from_notebook_node_does_nothing_our_copy_lacks():
    """Ours repeats HTMLExporter.from_notebook_node without BeautifulSoup and then calls
    TemplateExporter's directly: that must still be the next one in the MRO, and HTMLExporter
    must not have gained a step (another filter, resource or attribute) we would skip."""
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter

    fn = HTMLExporter.from_notebook_node
    assert next(c for c in HTMLExporter.__mro__[1:] if "from_notebook_node" in vars(c)) \
        is TemplateExporter
    assert _calls(fn) <= {"get", "Highlight2HTML", "_init_resources", "WidgetsDataTypeFilter",
                          "register_filter", "super", "from_notebook_node",
                          "BeautifulSoup", "select", "warning", "str"}, _calls(fn)
    assert _attributes_of(fn) <= {"filters", "_init_resources", "_nb_metadata",
                                  "register_filter", "log"}, _attributes_of(fn)
    registered = {c.args[0].value for c in ast.walk(_tree(fn)) if isinstance(c, ast.Call)
                  and getattr(c.func, "attr", None) == "register_filter"}
    assert registered == {"highlight_code", "filter_data_type"}
    assert set(inspect.signature(TemplateExporter.from_notebook_node).parameters) == \
        {"self", "nb", "resources", "kw"}


def test_our_markdown2html_and_highlighter_are_the_filters_the_template_uses():
    from nbconvert import HTMLExporter

    exporter = _html_exporter()
    assert exporter.environment.filters["markdown2html"].__func__ is type(exporter).markdown2html
    assert all("_highlighters" not in vars(c) for c in HTMLExporter.__mro__)   # our name only
    nb = new_notebook(metadata={"language_info": {"name": "python"}}, cells=[
        new_markdown_cell("Some *emphasis*"), new_code_cell("import os", execution_count=1)])
    body = Exporter().export(nb).body
    assert "<em>emphasis</em>" in body and '<span class="kn">import</span>' in body


# -- jupyter_client: pipeline/execute/kernels.py ------------------------------------------------

def test_async_pre_start_kernel_is_the_coroutine_start_kernel_awaits():
    """ForkKernelManager overrides it to install its provisioner first; the library creates
    one only when `self.provisioner is None`."""
    from jupyter_client.manager import AsyncKernelManager, KernelManager

    fn = AsyncKernelManager._async_pre_start_kernel
    assert inspect.iscoroutinefunction(fn)
    params = inspect.signature(fn).parameters
    assert any(p.kind is p.VAR_KEYWORD for p in params.values())
    assert all(p.kind in (p.KEYWORD_ONLY, p.VAR_KEYWORD) for n, p in params.items() if n != "self")
    assert "_async_pre_start_kernel" in _attributes_of(KernelManager._async_start_kernel)
    assert AsyncKernelManager.start_kernel is KernelManager._async_start_kernel
    assert "self.provisioner is None" in inspect.getsource(fn)


def test_handle_kernel_info_reply_takes_the_reply_and_adapts_the_protocol():
    from jupyter_client.asynchronous import AsyncKernelClient
    from jupyter_client.session import Session

    fn = AsyncKernelClient._handle_kernel_info_reply
    assert list(inspect.signature(fn).parameters) == ["self", "msg"]
    assert not inspect.iscoroutinefunction(fn)           # ReadyClient calls it, not awaits it
    client = AsyncKernelClient(session=Session())
    client._handle_kernel_info_reply({"content": {"protocol_version": "4.1"}})
    assert client.session.adapt_version == 4


def test_jupyter_clients_wait_for_ready_does_nothing_our_ready_client_lacks():
    """ReadyClient.wait_for_ready is jupyter_client's handshake without the final IOPub
    flush: the library's must not have gained a step (a call on self) we do not repeat."""
    from jupyter_client.client import KernelClient

    fn = KernelClient._async_wait_for_ready
    assert _attributes_of(fn) <= {"kernel_info", "shell_channel", "iopub_channel",
                                  "_handle_kernel_info_reply", "_async_is_alive",
                                  "parent"}, _attributes_of(fn)


def test_forked_process_offers_all_local_provisioner_uses_of_its_process():
    """ForkProvisioner.launch_kernel sets what LocalProvisioner.launch_kernel sets, and puts a
    ForkedProcess where LocalProvisioner keeps its Popen."""
    from jupyter_client.provisioning import LocalProvisioner

    tree = _tree(LocalProvisioner)
    used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
            and isinstance(n.value, ast.Attribute) and n.value.attr == "process"}
    looked_up = {c.value for n in ast.walk(_tree(LocalProvisioner.wait)) if isinstance(n, ast.List)
                 for c in n.elts if isinstance(c, ast.Constant)}       # getattr(self.process, attr)
    process = ForkedProcess(os.getpid())
    missing = {a for a in (used | looked_up) - {"win32_interrupt_event"} if not hasattr(process, a)}
    assert not missing, f"LocalProvisioner now uses process.{missing}: add them to ForkedProcess"
    assigned = {t.attr for n in ast.walk(_tree(LocalProvisioner.launch_kernel))
                if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Attribute)}
    assert assigned <= {"process", "pid", "pgid", "cwd"}, assigned


def test_a_fork_manager_starts_a_forked_kernel_that_answers_and_dies():
    """Our overrides in use: the provisioner is ours (so `_async_pre_start_kernel` ran), the
    client is ReadyClient, and `is_alive` follows the forked process."""
    server = ForkServer().start()

    async def run() -> None:
        km = manager_class(server)(kernel_name="python3")
        await km.start_kernel()
        kc = km.client()
        try:
            assert isinstance(km.provisioner.process, ForkedProcess)
            assert type(kc).__qualname__.endswith("ReadyClient")
            kc.start_channels()
            await kc.wait_for_ready(timeout=60)
            assert await kc.is_alive()
            reply = await kc.execute_interactive("import os; print(os.getpid())", timeout=30)
            assert reply["content"]["status"] == "ok"
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)
        assert not await kc.is_alive()

    try:
        asyncio.run(run())
    finally:
        server.stop()


# -- nbclient and papermill: pipeline/execute/run.py --------------------------------------------

def test_nbclient_uses_the_managers_client_and_calls_on_cell_start_by_keyword():
    from nbclient import NotebookClient

    assert {"kernel_manager_class", "on_cell_start", "extra_arguments", "shutdown_kernel"} <= \
        set(NotebookClient.class_trait_names())
    assert _keywords(NotebookClient.async_execute_cell, "run_hook") >= {"cell", "cell_index"}
    nb = new_notebook(cells=[new_code_cell("1 + 1")], metadata={"kernelspec": KERNELSPEC})
    started = []
    client = NotebookClient(nb, kernel_name="python3", kernel_manager_class=manager_class(None),
                            on_cell_start=lambda cell, cell_index: started.append(cell_index))
    with client.setup_kernel():
        assert type(client.kc).__qualname__.endswith("ReadyClient")
        client.execute_cell(nb.cells[0], 0)
    assert started == [0] and nb.cells[0].outputs[0]["data"]["text/plain"] == "2"


def test_papermill_saves_the_failed_notebook_with_its_marker_tag_then_raises(tmp_path):
    """run.py reads the notebook papermill saved before raising and drops the cells tagged
    "papermill-error-cell-tag"; it builds PapermillExecutionError itself, positionally."""
    import papermill
    from papermill.exceptions import PapermillExecutionError
    from papermill.execute import ERROR_MARKER_TAG

    assert ERROR_MARKER_TAG == "papermill-error-cell-tag"
    assert list(inspect.signature(PapermillExecutionError.__init__).parameters) == [
        "self", "cell_index", "exec_count", "source", "ename", "evalue", "traceback"]
    nb = new_notebook(cells=[new_code_cell("1 / 0")], metadata={"kernelspec": KERNELSPEC})
    saved = tmp_path / "executed.ipynb"
    with pytest.raises(PapermillExecutionError) as caught:
        papermill.execute_notebook(nb, str(saved), kernel_name="python3", progress_bar=False)
    assert (caught.value.ename, caught.value.source) == ("ZeroDivisionError", "1 / 0")
    assert caught.value.traceback and caught.value.evalue
    written = nbformat.read(saved, as_version=4)
    assert any(ERROR_MARKER_TAG in c.metadata.get("tags", []) for c in written.cells)
    assert "input_path" in written.metadata.papermill


# -- jupytext and python-frontmatter: notebook/convert.py, sources/frontmatter.py -----------------

def test_jupytext_reads_the_format_name_from_a_text_header():
    import jupytext
    import jupytext.formats

    fn = jupytext.formats.read_format_from_metadata
    assert list(inspect.signature(fn).parameters) == ["text", "ext"]
    nb = new_notebook(cells=[new_code_cell("1")], metadata={"kernelspec": KERNELSPEC})
    assert fn(jupytext.writes(nb, fmt="md:myst"), ".md") == "myst"
    assert fn(jupytext.writes(nb, fmt="md:markdown"), ".md") in (None, "markdown")


def test_frontmatter_yaml_handler_splits_loads_and_rejects_an_unclosed_block():
    import frontmatter

    handler = frontmatter.YAMLHandler()
    block, body = handler.split("---\ntitle: A\n---\nText\n")
    assert handler.load(block) == {"title": "A"} and body.strip() == "Text"
    with pytest.raises(ValueError):                 # parse_frontmatter relies on this class
        handler.split("---\ntitle: A\nno closing line\n")
