"""Start grading kernels fast: fork them from a process that has already imported ipykernel and pandas.

Starting a Python kernel and importing pandas costs about 0.7 s of CPU, every time; on a class
of submissions that is half the grading work. On Linux, each grading worker therefore starts one
helper process (the "zygote": `python -m course.grading.zygote`) that imports ipykernel, pandas
and the course package once, then forks a child for every kernel asked for. Each child is still
a separate process with its own memory: it starts a new session (process group), sets the
memory and file-size limits (`course.grading.limits`), moves to the kernel's own working
folder, replaces its environment, reseeds its random generators and runs ipykernel with the
connection file it was given. Kernels started this way never load the debugger (debugpy).

`ForkProvisioner` is a jupyter_client kernel provisioner (nbclient's normal `LocalProvisioner`
with only the launch replaced) that asks the zygote for the kernel; everything else (signals,
interrupt, kill of the whole process group) is jupyter_client's own. The zygote ends when its
worker closes the pipe, and kills any kernel it started that is still running.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

PRELOAD = ("ipykernel.kernelapp", "ipykernel.ipkernel", "pandas", "course", "course.data",
           "course.checks.compare")


def supported() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "fork")


# -- the zygote process -----------------------------------------------------------------------------
def _reap(*_):
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _child(request: dict) -> None:
    """In the forked child: become the kernel. Never returns."""
    code = 1
    try:
        os.setsid()
        for sig in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        from course.grading import limits

        limits.apply(request.get("memory_mb", 0), request.get("file_size_mb", 0))
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600) if request.get("log") \
            else os.open(os.devnull, os.O_WRONLY)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ["JPY_PARENT_PID"] = str(os.getppid())
        sys.path[0] = os.getcwd()
        import random

        random.seed()
        if "numpy" in sys.modules:
            sys.modules["numpy"].random.seed()
        sys.argv = ["ipykernel_launcher", *request["argv"]]
        from ipykernel.kernelapp import IPKernelApp

        IPKernelApp.launch_instance(argv=request["argv"])
        code = 0
    except SystemExit as err:
        code = err.code if isinstance(err.code, int) else 0
    except BaseException:  # noqa: BLE001 - report and leave
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code)


def serve() -> int:
    """The zygote's loop: one JSON request per line on stdin, one JSON answer per line on stdout."""
    sys.modules["debugpy"] = None  # ipykernel then runs without the debugger
    for name in PRELOAD:
        __import__(name)
    signal.signal(signal.SIGCHLD, _reap)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    children: list[int] = []
    out = sys.stdout
    for line in sys.stdin:
        try:
            request = json.loads(line)
            out.flush()
            pid = os.fork()
            if pid == 0:
                _child(request)
            children.append(pid)
            answer = {"pid": pid}
        except Exception as err:  # noqa: BLE001
            answer = {"error": f"{type(err).__name__}: {err}"}
        out.write(json.dumps(answer) + "\n")
        out.flush()
    for pid in children:  # the worker is gone: leave nothing behind
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    return 0


# -- the worker's side ------------------------------------------------------------------------------
class ForkedProcess:
    """The parts of subprocess.Popen that jupyter_client uses, for a kernel forked by the zygote."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        import psutil

        self.pid = pid
        self.returncode = None
        try:
            self._proc = psutil.Process(pid)
        except psutil.NoSuchProcess:
            self._proc = None
            self.returncode = 0

    def poll(self):
        import psutil

        if self.returncode is None:
            try:
                if self._proc.status() == psutil.STATUS_ZOMBIE:
                    raise psutil.NoSuchProcess(self.pid)
            except psutil.NoSuchProcess:
                self.returncode = 0
        return self.returncode

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum):
        if self.poll() is None:
            try:
                os.kill(self.pid, signum)
            except ProcessLookupError:
                pass

    def kill(self):
        self.send_signal(signal.SIGKILL)

    def terminate(self):
        self.send_signal(signal.SIGTERM)


class Zygote:
    """The worker's handle on its zygote process (started on first use)."""

    def __init__(self):
        from .execute import ONE_THREAD

        env = dict(os.environ)
        for name in ONE_THREAD:
            env[name] = "1"
        env["MPLBACKEND"] = "Agg"
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        self.owner = os.getpid()
        self.proc = subprocess.Popen([sys.executable, "-m", "course.grading.zygote"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=env, text=True, bufsize=1,
                                     cwd=os.path.expanduser("~") if os.path.isdir(os.path.expanduser("~"))
                                     else "/")

    def alive(self) -> bool:
        return self.owner == os.getpid() and self.proc.poll() is None

    def spawn(self, argv, cwd, env, log=None, memory_mb=0, file_size_mb=0) -> ForkedProcess:
        request = {"argv": list(argv), "cwd": cwd, "env": dict(env), "log": log, "memory_mb": memory_mb,
                   "file_size_mb": file_size_mb}
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline() or '{"error": "the kernel starter stopped"}')
        if "error" in answer:
            raise RuntimeError(f"could not start a kernel: {answer['error']}")
        return ForkedProcess(answer["pid"])

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


_ZYGOTE: Zygote | None = None


def zygote() -> Zygote:
    global _ZYGOTE
    if _ZYGOTE is None or not _ZYGOTE.alive():
        _ZYGOTE = Zygote()
    return _ZYGOTE


def current_pid() -> int | None:
    """The process id of this process's zygote, if it has one running."""
    return _ZYGOTE.proc.pid if _ZYGOTE is not None and _ZYGOTE.alive() else None


def close() -> None:
    global _ZYGOTE
    if _ZYGOTE is not None and _ZYGOTE.owner == os.getpid():
        _ZYGOTE.close()
    _ZYGOTE = None


def _provisioner_class():
    from jupyter_client.provisioning import LocalProvisioner

    class ForkProvisioner(LocalProvisioner):
        """jupyter_client's LocalProvisioner, launching the kernel through the zygote."""

        async def launch_kernel(self, cmd, **kwargs):
            km = self.parent
            if len(cmd) < 3 or cmd[1:3] != ["-m", "ipykernel_launcher"]:
                from . import limits

                cmd = limits.wrap(cmd, km.memory_limit_mb, km.file_size_limit_mb, debugger=False)
                return await super().launch_kernel(cmd, **kwargs)
            log = getattr(kwargs.get("stdout"), "name", None)
            env = dict(kwargs.get("env") or os.environ)
            self.process = zygote().spawn(cmd[3:], cwd=str(kwargs.get("cwd") or os.getcwd()), env=env,
                                          log=log if isinstance(log, str) else None,
                                          memory_mb=km.memory_limit_mb, file_size_mb=km.file_size_limit_mb)
            self.pid = self.pgid = self.process.pid  # the child made itself a session leader
            self.cwd = kwargs.get("cwd")
            return self.connection_info

    return ForkProvisioner


def provisioner(km):
    """A ForkProvisioner for kernel manager `km` (set before the kernel starts)."""
    import uuid

    km.kernel_id = km.kernel_id or str(uuid.uuid4())
    return _provisioner_class()(kernel_id=km.kernel_id, kernel_spec=km.kernel_spec, parent=km)


if __name__ == "__main__":
    sys.exit(serve())
