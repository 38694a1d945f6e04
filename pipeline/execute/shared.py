"""Stage 3: the cells a page family shares. A code cell tagged `shared` does not depend on
the member's values (a heavy import, a data load): it runs once, in a template process the
fork server forks for the family, and every member's kernel is forked from that template, its
variables already set. The member runs its notebook with those cells skipped, and shows the
text they printed in the template.

The template runs the parameters cell (its defaults), the family's own `params` and the
build's, then the shared cells in order, as plain Python in one namespace (no magics, no
rich display: a figure is drawn by a member's cell). A shared cell that fails in the
template is no harm: each member then runs every cell itself, and the build warns.

Server side (`template_process`): runs in the child the fork server forks; it never returns.
Client side (`prepare`): called by `run.execute` for a family's member with a fork server.
"""
from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import os
import signal
import socket
import sys
import traceback
from dataclasses import dataclass, replace
from typing import Any, Callable

from pipeline.errors import NbpressError
from pipeline.model import Page

TAG = "shared"
SKIP = "skip-execution"         # nbclient's tag for a cell it does not run
MARK = "nbpress_shared"         # our mark on a shared cell while it runs (removed after)


@dataclass(frozen=True, slots=True)
class Shared:
    """A member's run with its shared cells done in the family's template."""

    nb: Any                 # the notebook to run: the shared cells tagged skip-execution
    context: Any            # the RunContext whose kernels come from the template
    template: Any           # kernels.Template
    outputs: tuple          # (cell index, stdout, stderr) of each shared cell
    tagged: tuple[int, ...]  # the cells we tagged (their tag is removed again)

    def finish(self, executed):
        """The executed notebook with each shared cell's printed text, as run in the template
        (found by our mark: papermill adds a cell before them)."""
        printed = {index: (out, err) for index, out, err in self.outputs}
        for cell in executed.cells:
            index = cell.metadata.pop(MARK, None)
            if index is None:
                continue
            out, err = printed.get(index, ("", ""))
            cell.outputs = [_stream(name, text) for name, text in (("stdout", out), ("stderr", err))
                            if text]
            if index in self.tagged:
                cell.metadata["tags"] = [t for t in cell.metadata.get("tags", []) if t != SKIP]
        return executed


def shared_cells(nb) -> list[int]:
    return [i for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and TAG in c.metadata.get("tags", [])]


def prepare(nb, page: Page, context, manager: Callable,
            timeout: int = 300) -> tuple[Shared | None, list[str]]:
    """The member's run from the family's template (made on first use), or None with a
    warning when the template's cells failed (each member then runs them itself). `manager`
    makes a kernel manager class from a fork server (`kernels.manager_class`); `timeout`:
    the seconds a cell may run."""
    server = getattr(context, "fork_server", None)
    if not page.family or server is None:
        return None, []
    cells, warnings = sharable(nb, page)
    if not cells:
        return None, warnings
    code = _template_code(nb, page, context, cells)
    key = hashlib.sha256(json.dumps([code, str(page.source.path)]).encode()).hexdigest()[:24]
    try:
        template = server.template(key, code, str(page.source.path.parent), timeout)
        done = template.result()
    except NbpressError as exc:         # it ended (a cell that called os._exit, say)
        template, done = None, {"error": exc.message}
    if done.get("error"):
        return None, warnings + [
            f"{page.source.path}: a cell tagged shared failed in the family's template "
            f"({done['error']}): each member ran every cell itself; make the shared cells "
            "depend on nothing but the parameters cell's defaults"]
    run, tagged = copy.deepcopy(nb), []
    for index in cells:
        run.cells[index].metadata[MARK] = index
        tags = run.cells[index].metadata.setdefault("tags", [])
        if SKIP not in tags:
            tags.append(SKIP)
            tagged.append(index)
    printed = done.get("printed", [])
    outputs = tuple((index, *printed[n]) for n, index in enumerate(cells) if n < len(printed))
    return Shared(run, replace(context, kernel_manager=manager(template)), template, outputs,
                  tuple(tagged)), warnings


def sharable(nb, page: Page) -> tuple[list[int], list[str]]:
    """The cells tagged shared that can run before the member's own: those above every other
    code cell (but the parameters cell) that use none of the values members set. Another
    tagged cell runs in each member, and the build says why."""
    from pipeline.notebook.convert import cell_line

    varying = set(page.family.names)
    cells, warnings, leading = [], [], True
    for index in (i for i, c in enumerate(nb.cells) if c.cell_type == "code"):
        tags = nb.cells[index].metadata.get("tags", [])
        if "parameters" in tags:
            continue
        if TAG not in tags:
            leading = False
            continue
        line = cell_line(page, nb, index)
        where = f"{page.source.path}:{line}" if line else f"{page.source.path}: cell {index + 1}"
        used = _names(nb.cells[index].source)
        why = ("it comes after a cell that is not shared: move it above the members' own cells"
               if not leading else "it is not plain Python (a magic?)" if used is None else
               f"it uses {sorted(used & varying)[0]!r}, which each member sets"
               if used & varying else None)
        if why is None:
            cells.append(index)
            continue
        leading = False                 # the cells after it may need what it makes
        warnings.append(f"{where}: a cell tagged shared runs in each member: {why}")
    return cells, warnings


def _names(source: str) -> set[str] | None:
    """The names a cell's code reads, or None when it is not Python."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def _template_code(nb, page: Page, context, cells: list[int]) -> list[str]:
    """The template's cells: the parameters cell, the values every member has (the family's
    params, the build's), then the shared cells."""
    varying = set(page.family.names)
    common = {**context.parameters(), **{k: v for k, v in page.params.items() if k not in varying}}
    first = next((c.source for c in nb.cells if c.cell_type == "code"
                  and "parameters" in c.metadata.get("tags", [])), "")
    values = "\n".join(f"{name} = {value!r}" for name, value in common.items())
    return [first + "\n" + values] + [nb.cells[i].source for i in cells]


def _stream(name: str, text: str):
    from nbformat.v4 import new_output

    return new_output("stream", name=name, text=text)


# -- the template process: a child of the fork server ------------------------------------------

def template_process(request: dict[str, Any], address: str,
                     become_kernel: Callable[[dict[str, Any], dict], None]) -> None:
    """Run the template's cells, then fork kernels from it on request (their namespace is
    ours) until the fork server stops us; a `{"result": true}` request gets what the cells
    printed, or their error."""
    os.setsid()                         # its group: what its cells start goes with it
    children: set[int] = set()

    def stop(*_: object) -> None:
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.unlink(address)
        os.killpg(os.getpid(), signal.SIGKILL)

    signal.signal(signal.SIGTERM, stop)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)              # at once: the members wait for the cells, however long
    listener.listen(64)
    if request.get("cwd"):
        os.chdir(request["cwd"])
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # as
    namespace: dict[str, Any] = {"__name__": "__main__"}                       # ipykernel does
    if request.get("cwd"):
        sys.path.insert(0, "")          # the page's folder first, as in a kernel
    result = _run_cells(request["code"], namespace, request.get("timeout") or 0)
    signal.signal(signal.SIGCHLD, lambda *_: _reap(children))
    while True:
        try:
            conn, _ = listener.accept()
        except InterruptedError:
            continue
        with conn:
            asked = json.loads(conn.makefile().readline())
            if asked.get("result"):
                conn.sendall((json.dumps(result) + "\n").encode())
                continue
            me = os.getpid()
            pid = os.fork()
            if pid == 0:
                listener.close()
                conn.close()
                from pipeline.files import die_with_parent

                die_with_parent(me)
                become_kernel(asked, namespace)
            children.add(pid)
            conn.sendall((json.dumps({"pid": pid}) + "\n").encode())


def _run_cells(cells: list[str], namespace: dict[str, Any], timeout: int) -> dict[str, Any]:
    """Each cell run in `namespace`, what it printed kept; the first error stops them, as
    does a cell that runs longer than `timeout` seconds (0: no limit)."""
    def late(*_: object) -> None:       # not an Exception: a cell's `except` lets it by
        raise _Late(f"a cell ran for more than {timeout} s (the site's timeout)")

    signal.signal(signal.SIGALRM, late)
    printed = []
    for n, code in enumerate(cells):
        out, err = io.StringIO(), io.StringIO()
        try:
            signal.alarm(timeout)
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                exec(compile(code, f"<shared cell {n}>", "exec"), namespace)
        except BaseException as exc:        # noqa: B036  (SystemExit too: reported, not run)
            last = traceback.format_exception_only(type(exc), exc)[-1].strip()
            return {"error": last, "printed": printed}
        finally:
            signal.alarm(0)
        if n:                               # the first is the parameters: shown by the member
            printed.append((out.getvalue(), err.getvalue()))
    return {"printed": printed}


class _Late(BaseException):
    """A template's cell ran past the site's timeout (as nbclient's interrupt, no
    `except Exception` stops it)."""


def _reap(children: set[int]) -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)
