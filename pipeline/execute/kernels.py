"""Warm, isolated kernels: every page gets a fresh kernel forked from a template process.

Starting a Python kernel costs about a second, mostly imports. The fork server is one
process per build that has imported ipykernel and IPython and never runs page code; for each
page it forks a child that becomes a kernel (`IPKernelApp`) with the connection file
jupyter_client wrote. The child is a new process: a page cannot see another page's
variables, imports or monkey-patches, yet it starts in milliseconds.

jupyter_client starts kernels through a provisioner; `manager_class(server)` returns a
kernel manager whose provisioner asks the fork server instead of spawning a process, and
papermill hands it to nbclient as `kernel_manager_class`. Only the native `python3` kernel
of this interpreter is forked; anything else starts the ordinary way.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from pipeline.files import die_with_parent

# Blocked from the fork server's start until `serve` has its handlers (SIGINT, Ctrl-C: ignored,
# the build stops the server then).
STOPPING = frozenset({signal.SIGTERM, signal.SIGINT, signal.SIGHUP})


class ForkServer:
    """The template process, and the client side of its Unix socket."""

    def __init__(self) -> None:
        self.folder: Path | None = None     # made by `start`
        self.address = ""
        self.process: subprocess.Popen | None = None

    def start(self) -> "ForkServer":
        """Make the socket's folder and start the template process; it imports in the
        background until the first fork."""
        # Linux's parent-death signal follows the *thread* that started the process: a
        # service building on a thread would lose its server when that thread ends. Started
        # off the main thread, the server relies on its poll of the parent alone.
        on_main = threading.current_thread() is threading.main_thread()
        # Stopping signals are blocked from before the folder is made until `serve` has its
        # handlers (the mask passes through fork and exec): one sent to the whole process
        # group (`timeout`, CI, systemd, Ctrl-C) meanwhile waits, and the server removes it.
        before = signal.pthread_sigmask(signal.SIG_BLOCK, STOPPING)
        try:
            self.folder = _private_folder()
            self.address = str(self.folder / "fork.sock")
            self.process = subprocess.Popen(
                [sys.executable, "-Xfrozen_modules=off", "-m", "pipeline.execute.kernels",
                 self.address, str(os.getpid()), "pdeathsig" if on_main else "poll"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        except BaseException:
            if self.folder is not None:
                shutil.rmtree(self.folder, ignore_errors=True)
            raise
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, before)
        return self

    def fork(self, argv: list[str], cwd: str | None, env: dict[str, str] | None) -> int:
        """Ask for a kernel process running `ipykernel_launcher argv`; its pid. Any process
        of the build may ask (workers too); the first asks wait while the server imports."""
        request = json.dumps({"argv": argv, "cwd": cwd, "env": env}) + "\n"
        with self._connect() as conn:
            conn.sendall(request.encode())
            reply = conn.makefile().readline()
        return int(json.loads(reply)["pid"])

    def _connect(self, timeout: float = 60) -> socket.socket:
        deadline = time.monotonic() + timeout
        while True:
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                conn.connect(self.address)
                return conn
            except (FileNotFoundError, ConnectionRefusedError):
                conn.close()
                # not poll(): in a worker process the server is not our child
                if not _alive(self.process.pid) or time.monotonic() > deadline:
                    from pipeline.errors import ExecutionError

                    raise ExecutionError("the kernel fork server did not start", self.address,
                                         hint="build with --isolate to start each page's "
                                              "kernel on its own") from None
                time.sleep(0.005)

    def alive(self) -> bool:
        """Started and still running (a service keeps one server for many builds)."""
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)   # the server may have removed it


def _private_folder() -> Path:
    """A new folder (0700) for the server's socket, in the temp folder, or in /tmp when the
    socket's path would be too long there (107 bytes at most: a long TMPDIR)."""
    folder = Path(tempfile.mkdtemp(prefix="nbpress-kernels-"))
    if len(os.fsencode(folder / "fork.sock")) > 100:
        folder.rmdir()
        folder = Path(tempfile.mkdtemp(prefix="nbpress-kernels-", dir="/tmp"))
    return folder


def _launcher_args(cmd: list[str]) -> list[str] | None:
    """The arguments after `-m ipykernel_launcher` in a kernel command, if it is one."""
    for i in range(1, len(cmd) - 1):
        if cmd[i:i + 2] == ["-m", "ipykernel_launcher"]:
            return cmd[i + 2:]
    return None


def manager_class(server: ForkServer | None, scratch: Path | None = None):
    """A jupyter_client kernel manager class whose kernels come from `server` (or are
    spawned as usual when it is None), with a client that is ready without idling. Its
    connection files go to `scratch` (jupyter_client's default is a temp file that a killed
    build would leave behind)."""
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_client.provisioning import LocalProvisioner

    client = ready_client_class()

    class ReadyKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs: Any):
            super().__init__(**kwargs)
            self.client_factory = client
            if scratch is not None and not self.connection_file:
                self.connection_file = str(scratch / f"kernel-{os.urandom(8).hex()}.json")

    if server is None:
        return ReadyKernelManager

    class ForkProvisioner(LocalProvisioner):
        async def launch_kernel(self, cmd: list[str], **kwargs: Any):
            args = _launcher_args(cmd)
            if args is None or os.path.realpath(cmd[0]) != os.path.realpath(sys.executable):
                return await super().launch_kernel(cmd, **kwargs)
            pid = server.fork(args, str(kwargs.get("cwd") or os.getcwd()), kwargs.get("env"))
            self.process = ForkedProcess(pid)
            self.pid = self.pgid = pid
            self.cwd = kwargs.get("cwd")
            return self.connection_info

    class ForkKernelManager(ReadyKernelManager):
        async def _async_pre_start_kernel(self, **kw: Any):
            if self.provisioner is None:
                self.kernel_id = self.kernel_id or kw.pop("kernel_id", None) or os.urandom(8).hex()
                self.provisioner = ForkProvisioner(kernel_id=self.kernel_id,
                                                   kernel_spec=self.kernel_spec, parent=self)
            return await super()._async_pre_start_kernel(**kw)

    return ForkKernelManager


def ready_client_class():
    """jupyter_client's async client, but `wait_for_ready` does not end with 0.2 s of waiting
    for IOPub to fall silent (half the start-up time of a forked kernel). The handshake is
    the same: a kernel_info reply, then any IOPub message (the kernel's welcome or a status)
    to show IOPub is connected. Messages still on their way are harmless: nbclient matches
    outputs to the request that caused them."""
    from queue import Empty

    from jupyter_client.asynchronous import AsyncKernelClient

    class ReadyClient(AsyncKernelClient):
        async def wait_for_ready(self, timeout: float | None = None) -> None:
            deadline = time.monotonic() + (timeout if timeout is not None else 60)
            while True:
                self.kernel_info()
                try:
                    reply = await self.shell_channel.get_msg(timeout=1)
                except Empty:
                    reply = None
                if reply is not None and reply["msg_type"] == "kernel_info_reply":
                    try:
                        await self.iopub_channel.get_msg(timeout=0.2)
                    except Empty:
                        pass
                    else:
                        self._handle_kernel_info_reply(reply)
                        return
                if not await self.is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout or 60} seconds")

    return ReadyClient


class ForkedProcess:
    """A Popen-like handle on a kernel that is the fork server's child, not ours."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid

    def poll(self) -> int | None:
        return None if _alive(self.pid) else 0

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while _alive(self.pid):
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.01)
        return 0

    def send_signal(self, signum: int) -> None:
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


# -- the server side: runs as `python -m pipeline.execute.kernels SOCKET` ----------------------------

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
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        with contextlib.suppress(OSError):
            os.unlink(address)
        with contextlib.suppress(OSError):      # even when the socket was not there
            os.rmdir(os.path.dirname(address))
        os._exit(0)

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
            server = os.getpid()
            pid = os.fork()
            if pid == 0:
                listener.close()
                conn.close()
                die_with_parent(server)
                _become_kernel(request)
            children.add(pid)
            conn.sendall((json.dumps({"pid": pid}) + "\n").encode())


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


def _become_kernel(request: dict[str, Any]) -> None:
    """In the forked child: a clean process state, then an ordinary ipykernel."""
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

        IPKernelApp.launch_instance(argv=request["argv"])
    finally:
        os._exit(0)


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), sys.argv[3:] != ["poll"])
