"""Warm, isolated kernels: every page gets a fresh kernel forked from a template process.

Starting a Python kernel costs about a second, mostly imports. The fork server is one
process per build that has imported ipykernel and IPython and never runs page code; for each
page it forks a child that becomes a kernel (`IPKernelApp`) with the connection file
jupyter_client wrote. The child is a new process: a page cannot see another page's
variables, imports or monkey-patches, yet it starts in milliseconds.

jupyter_client starts kernels through a provisioner; `manager_class(server)` returns a
kernel manager whose provisioner asks the fork server instead of spawning a process, and
papermill hands it to nbclient as `kernel_manager_class`. Only the native `python3` kernel
of this interpreter is forked; anything else starts the ordinary way. The server's side is
`execute/forkserver.py`; a page family's template process, `execute/shared.py`.
"""
from __future__ import annotations

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

from pipeline.files import alive


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
                [sys.executable, "-Xfrozen_modules=off", "-m", "pipeline.execute.forkserver",
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
        return int(self._ask({"argv": argv, "cwd": cwd, "env": env})["pid"])

    def template(self, key: str, code: list[str], cwd: str, timeout: int = 0) -> "Template":
        """The template process of a page family (`execute/shared.py`), made on first ask:
        a server of kernels forked with the namespace its `code` made (each cell given
        `timeout` seconds). Its answers wait until that code has run."""
        reply = self._ask({"template": key, "code": code, "cwd": cwd, "timeout": timeout})
        if "error" in reply:
            from pipeline.errors import ExecutionError

            raise ExecutionError(reply["error"], self.address)
        return Template(reply["address"], self.process)

    def forget_templates(self) -> None:
        """The build is over: its families' templates go (a service's server stays)."""
        if self.alive():
            self._ask({"forget": True})

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._connect() as conn:
            conn.sendall((json.dumps(request) + "\n").encode())
            reply = conn.makefile().readline()
        if not reply:
            from pipeline.errors import ExecutionError

            raise ExecutionError("the kernel fork server, or a family's template, ended as it "
                                 "was asked for a kernel", self.address,
                                 hint="build with --isolate to start each page's kernel on its own")
        return json.loads(reply)

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
                if not alive(self.process.pid) or time.monotonic() > deadline:
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


class Template(ForkServer):
    """A page family's template process: kernels forked from it (`fork`), and what its
    shared cells printed (`result`). It is the fork server's child: the server ends it."""

    def __init__(self, address: str, server: subprocess.Popen | None):
        super().__init__()
        self.address, self.process = address, server    # alive while its server is

    def result(self) -> dict[str, Any]:
        return self._ask({"result": True})

    def start(self) -> "Template":
        raise TypeError("a template is started by its fork server")

    def stop(self) -> None:             # not the server's process: the server stops it
        pass


class PeakMeter:
    """A fork server (or a family's template) that watches the kernels it forks: `peak` is
    the largest resident memory one of them reached (its VmHWM, read every tenth of a
    second while it runs, and as the run ends), in bytes. A page's `resources: {memory:
    auto}` on a cluster is sized from it."""

    def __init__(self, server: ForkServer):
        self.server, self.peak, self._pids = server, 0, []
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def fork(self, argv: list[str], cwd: str | None, env: dict[str, str] | None) -> int:
        pid = self.server.fork(argv, cwd, env)
        self._pids.append(pid)
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, daemon=True)
            self._thread.start()
        return pid

    def stop(self) -> int:
        self._read()
        self._done.set()
        return self.peak

    def _watch(self) -> None:
        while not self._done.wait(0.1):
            self._read()

    def _read(self) -> None:
        for pid in self._pids:
            try:
                with open(f"/proc/{pid}/status", encoding="ascii") as f:
                    line = next(x for x in f if x.startswith("VmHWM:"))
            except (OSError, StopIteration):
                continue
            self.peak = max(self.peak, int(line.split()[1]) * 1024)


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


def forkable(kernel: str) -> bool:
    """Whether kernels of this name are forked (the native `python3` of this interpreter),
    not spawned: only those can start from a family's template."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        argv = KernelSpecManager().get_kernel_spec(kernel).argv
    except NoSuchKernel:
        return False
    return (_launcher_args(argv) is not None
            and os.path.realpath(argv[0]) == os.path.realpath(sys.executable))


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
        return None if alive(self.pid) else 0

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while alive(self.pid):
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
