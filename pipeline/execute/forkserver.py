"""The kernel fork server's side (`execute/kernels.py` is the client's): a process that has
imported ipykernel and IPython and never runs page code; for each request it forks a child
that becomes a kernel, or, for a page family, a template process that runs the family's
shared cells and forks the members' kernels (`execute/shared.py`). Runs as
`python -m pipeline.execute.forkserver SOCKET PARENT [poll]`."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from pipeline.execute.kernels import STOPPING
from pipeline.files import die_with_parent


def serve(address: str, parent: int, pdeathsig: bool = True) -> None:
    """Fork kernels on request until told to stop, or until the build that started it is gone
    (killed by a timeout, say): the server and its kernels never outlive their build. The
    server dies with its parent (SIGTERM: it kills its kernels and removes its socket), and
    each kernel with the server (SIGKILL); the poll below is the fallback off Linux."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # Ctrl-C is the build's: it stops us

    def stop_early(*_: object) -> None:     # killed while importing: no socket, no kernel yet
        with contextlib.suppress(OSError):
            os.rmdir(os.path.dirname(address))
        os._exit(0)

    _on_stop(stop_early)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPPING)    # blocked by `ForkServer.start`
    if pdeathsig:
        die_with_parent(parent, signal.SIGTERM)
    elif os.getppid() != parent:
        stop_early()
    _forget_start_folder()
    import ipykernel.debugger  # noqa: F401  (the expensive imports, done once)
    import ipykernel.ipkernel  # noqa: F401
    import ipykernel.kernelapp  # noqa: F401
    import IPython.core.interactiveshell  # noqa: F401

    children: set[int] = set()

    def reap(*_: object) -> None:
        while True:
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            children.discard(pid)

    def stop(*_: object) -> None:
        for pid in list(children):      # each kernel and template, with what it started
            _kill_group(pid)
        for socket_path, _ in templates.values():
            with contextlib.suppress(OSError):
                os.unlink(socket_path)
        with contextlib.suppress(OSError):
            os.unlink(address)
        with contextlib.suppress(OSError):      # even when the socket was not there
            os.rmdir(os.path.dirname(address))
        os._exit(0)

    templates: dict[str, tuple[str, int]] = {}      # a family's key: its socket, its pid
    signal.signal(signal.SIGCHLD, reap)
    _on_stop(stop)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen(64)
    listener.settimeout(0.25)
    while True:
        try:
            conn, _ = listener.accept()
        except (InterruptedError, TimeoutError):
            if os.getppid() != parent:
                stop()
            continue
        conn.settimeout(None)
        with conn:
            request = json.loads(conn.makefile().readline())
            if request.get("forget"):          # each template stops its kernels, then ends
                for _, pid in templates.values():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGTERM)
                for _, pid in templates.values():
                    with contextlib.suppress(ChildProcessError):    # reaped by `reap` first
                        os.waitpid(pid, 0)
                    children.discard(pid)
                templates.clear()
                conn.sendall(b"{}\n")
                continue
            key = request.get("template")
            if key is not None and key in templates:
                address_, pid = templates[key]
                conn.sendall((json.dumps({"address": address_} if pid in children else {
                    "error": "the family's template process ended"}) + "\n").encode())
                continue
            server = os.getpid()
            pid = os.fork()
            if pid == 0:
                listener.close()
                conn.close()
                die_with_parent(server)
                if key is None:
                    _become_kernel(request)
                _become_template(request, _template_address(address, key))
            children.add(pid)
            if key is not None:
                templates[key] = (_template_address(address, key), pid)
            conn.sendall((json.dumps({"pid": pid} if key is None else {
                "address": templates[key][0]}) + "\n").encode())


def _kill_group(pid: int) -> None:
    """SIGKILL to a child's process group (a kernel and a template each lead one, once
    started: `os.setsid`), or to the child alone before it has one."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _on_stop(handler: Any) -> None:
    """`handler` for SIGTERM, and for SIGHUP (the terminal closed) unless the build ignores
    it (`nohup`): the server goes when its build would."""
    signal.signal(signal.SIGTERM, handler)
    if signal.getsignal(signal.SIGHUP) != signal.SIG_IGN:
        signal.signal(signal.SIGHUP, handler)


def _forget_start_folder() -> None:
    """Drop the folder the server was started from (the build's cwd, which `python -m` put
    first on sys.path), as `ipykernel_launcher` does: a forked kernel then has the sys.path
    of a spawned one, where IPython's `init_path` adds "" (the page's folder) before
    site-packages. Otherwise a page would import modules from wherever the build was run."""
    if sys.path and not sys.flags.safe_path and (
            sys.path[0] == "" or Path(sys.path[0]) == Path.cwd()):
        del sys.path[0]


def _template_address(address: str, key: str) -> str:
    return os.path.join(os.path.dirname(address), f"t-{key}.sock")


def _become_template(request: dict[str, Any], address: str) -> None:
    """In the forked child: a family's template (`execute/shared.py`)."""
    try:
        from pipeline.execute.shared import template_process

        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        template_process(request, address, _become_kernel)
    finally:
        os._exit(0)


def _become_kernel(request: dict[str, Any], namespace: dict | None = None) -> None:
    """In the forked child: a clean process state, then an ordinary ipykernel (in a family's
    template: with the namespace the shared cells made)."""
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if signal.getsignal(signal.SIGHUP) != signal.SIG_IGN:
            signal.signal(signal.SIGHUP, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)   # a kernel is interrupted so
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        if request.get("env"):
            os.environ.clear()
            os.environ.update(request["env"])
        if request.get("cwd"):
            os.chdir(request["cwd"])
        from ipykernel.kernelapp import IPKernelApp     # its init_path adds "" (the page folder)

        IPKernelApp.launch_instance(argv=request["argv"],
                                    **({"user_ns": namespace} if namespace is not None else {}))
    finally:
        os._exit(0)


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), sys.argv[3:] != ["poll"])
