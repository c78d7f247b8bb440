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


# -- inside the sandbox: each kernel gets namespaces and a work folder of its own (Linux, as root) --------
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWPID = 0x00020000, 0x04000000, 0x08000000, 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = \
    1, 2, 4, 8, 32, 4096, 16384, 1 << 18
MNT_DETACH = 2


def _libc():
    import ctypes

    return ctypes, ctypes.CDLL(None, use_errno=True)


def _call(name: str, *args) -> None:
    ctypes, libc = _libc()
    encoded = [a.encode() if isinstance(a, str) else a for a in args]
    if getattr(libc, name)(*encoded) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{name}{tuple(args)}: {os.strerror(err)}")


def _mount(source, target, fstype, flags, data=None) -> None:
    _call("mount", source, target, fstype, flags, data)


def _private_sandbox(request: dict) -> None:
    """In a kernel forked inside the sandboxed zygote (pid 1 of a new process namespace, in a new
    mount namespace): its own /proc, work folder, run folder and /dev/shm, the staged files bound
    read-only, the other staged files out of sight; then an unprivileged user id of its own."""
    from course.grading import sandbox

    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    size = max(1, int(request.get("work_mb", 64))) * 2**20
    _mount("tmpfs", sandbox.WORK, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=1777")
    _mount("tmpfs", sandbox.RUN, "tmpfs", MS_NOSUID | MS_NODEV, f"size={2**20},mode=1777")
    _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"size={16 * 2**20},mode=1777")
    os.mkdir(f"{sandbox.WORK}/.tmp")
    os.chmod(f"{sandbox.WORK}/.tmp", 0o1777)
    stage = request["stage"]
    binds = {f"{sandbox.RUN}/kernel.json": f"{stage}/kernel.json"}
    binds.update({f"{sandbox.WORK}/{name}": f"{stage}/data/{name}" for name in request.get("files", [])})
    for target, source in binds.items():
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "a").close()
        _mount(source, target, None, MS_BIND)
        _mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    _call("umount2", sandbox.STAGE, MNT_DETACH)  # other kernels' staged files: gone from this one's view


def _clear_inheritable_capabilities() -> None:
    """Empty the inheritable capability set (bwrap's --cap-add fills it for the starter)."""
    ctypes, libc = _libc()

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    header, data = Header(0x20080522, 0), (Data * 2)()
    if libc.capget(ctypes.byref(header), data) != 0:
        return
    for item in data:
        item.inheritable = 0
    libc.capset(ctypes.byref(header), data)


def _default_signals() -> None:
    """The signals the zygote handles (or ignores) back to their defaults, for a child of its own."""
    for sig in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)


def _sandboxed_child(request: dict, report: int) -> None:
    """In the zygote's child: new namespaces, then fork the kernel as their pid 1 and wait for it."""
    code = 1
    try:
        os.setsid()
        _default_signals()
        code = _kernel_in_namespaces(request, report)
    except BaseException:  # noqa: BLE001
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code)


def _kernel_in_namespaces(request: dict, report: int) -> int:
    """New mount, PID, IPC and UTS namespaces; fork the kernel as pid 1 of the new one, write its pid to
    `report`, wait for it; return its exit code."""
    _call("unshare", CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS)
    pid = os.fork()
    if pid == 0:
        os.close(report)
        try:
            _private_sandbox(request)
        except BaseException:  # noqa: BLE001 - no sandbox, no kernel
            import traceback

            traceback.print_exc()
            os._exit(1)
        _child(request)
    os.write(report, f"{pid}\n".encode())
    os.close(report)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) & 0xFF


def _child(request: dict) -> None:
    """In the forked child: become the kernel. Never returns."""
    code = 1
    parent = os.getppid()
    try:
        os.setsid()
        _default_signals()
        from course.grading import limits

        if request.get("uid") is not None:
            limits.become(int(request["uid"]))
            if request.get("stage"):
                _clear_inheritable_capabilities()
        _die_with(parent)  # after `become`: a change of user id clears it
        limits.apply(request.get("memory_mb", 0), request.get("file_size_mb", 0), request.get("processes", 0))
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        log = _open_log(request)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.closerange(3, 65536)  # nothing of the starter's (pipes, files) reaches the kernel
        _enter(request)
        _reseed()
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


PR_SET_PDEATHSIG = 1


def _die_with(parent: int) -> None:
    """The kernel is killed when the process that forked it ends, even killed hard (the zygote then
    has no chance to stop its kernels, and a kernel would run on with nobody to stop it)."""
    _call("prctl", PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it ended before the line above
        os._exit(1)


def _open_log(request: dict) -> int:
    """Where the kernel's output goes: its log file (appended to, private), or nowhere."""
    if request.get("log"):
        return os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    return os.open(os.devnull, os.O_WRONLY)


def _enter(request: dict) -> None:
    """Move to the kernel's folder and take its environment (and nothing of the zygote's)."""
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    if not request.get("stage"):
        os.environ["JPY_PARENT_PID"] = str(os.getppid())
    sys.path[0] = os.getcwd()


def _reseed() -> None:
    """New random seeds: every kernel forked from the zygote would otherwise draw the same numbers."""
    import random

    random.seed()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()


def serve(stdin=None, stdout=None) -> int:
    """The zygote's loop: one JSON request per line on stdin, one JSON answer per line on stdout
    (`stdin`, `stdout`: other streams instead, as the tests use)."""
    sys.modules["debugpy"] = None  # ipykernel then runs without the debugger
    for name in PRELOAD:
        __import__(name)
    try:  # the course's data sets, parsed once here instead of in every kernel
        from course import data, seeds

        for name in data.names():
            data.load(name)
        seeds.claims()
    except Exception:  # noqa: BLE001 - a data problem shows in the notebook that loads it
        pass
    signal.signal(signal.SIGCHLD, _reap)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    children: list[int] = []
    out = sys.stdout if stdout is None else stdout
    for line in sys.stdin if stdin is None else stdin:
        try:
            request = json.loads(line)
            out.flush()
            if request.get("stage"):  # inside the sandbox: the answer is the kernel's pid, not its parent's
                report_r, report_w = os.pipe()
                pid = os.fork()
                if pid == 0:
                    os.close(report_r)
                    _sandboxed_child(request, report_w)
                os.close(report_w)
                with os.fdopen(report_r) as report:
                    kernel = report.readline().strip()
                children.append(pid)
                answer = {"pid": int(kernel)} if kernel else {"error": "the kernel's sandbox could not be made"}
            else:
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


class SandboxedZygote:
    """The worker's kernel starter inside the sandbox (root only; see `sandbox.zygote_command`)."""

    def __init__(self):
        import shutil
        import tempfile

        from . import sandbox

        self.owner = os.getpid()
        self.stage = tempfile.mkdtemp(prefix="course-stage-")
        self._cleanup = lambda: shutil.rmtree(self.stage, ignore_errors=True)
        import atexit

        atexit.register(self._cleanup)
        info_r, info_w = os.pipe()
        try:
            self.proc = subprocess.Popen(sandbox.zygote_command(self.stage, info_w), stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, pass_fds=[info_w],
                                         env={"PATH": "/usr/bin:/bin"}, text=True, bufsize=1,
                                         start_new_session=True)
        finally:
            os.close(info_w)
        self.outer = sandbox._read_info(info_r, self.proc)

    def alive(self) -> bool:
        return self.owner == os.getpid() and self.proc.poll() is None

    def spawn(self, argv, cwd, env, **limits) -> ForkedProcess:
        request = {"argv": list(argv), "cwd": cwd, "env": dict(env), **limits}
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline() or '{"error": "the kernel starter stopped"}')
        if "error" in answer:
            raise RuntimeError(f"could not start a kernel in the sandbox: {answer['error']}")
        return ForkedProcess(self._host_pid(int(answer["pid"])))

    def _host_pid(self, inner: int) -> int:
        """This machine's process id of the kernel the starter knows as `inner`."""
        import psutil

        for _ in range(200):
            try:
                family = psutil.Process(self.outer).children(recursive=True)
            except psutil.NoSuchProcess:
                break
            for proc in family:
                try:
                    with open(f"/proc/{proc.pid}/status") as handle:
                        line = next(x for x in handle if x.startswith("NSpid:"))
                except (OSError, StopIteration):
                    continue
                ids = [int(x) for x in line.split()[1:]]
                if len(ids) >= 3 and ids[-2] == inner and ids[-1] == 1:
                    return proc.pid
            time.sleep(0.01)
        raise RuntimeError("the kernel started in the sandbox cannot be found")

    def close(self) -> None:
        _stop(self.proc)
        self._cleanup()


_SANDBOXED: SandboxedZygote | None = None


def sandboxed_zygote() -> SandboxedZygote:
    global _SANDBOXED
    if _SANDBOXED is None or not _SANDBOXED.alive():
        _SANDBOXED = SandboxedZygote()
    return _SANDBOXED


class Zygote:
    """The worker's handle on its zygote process (started on first use)."""

    def __init__(self):
        from .sandbox import environment

        # an allow-list environment: the kernels forked from it get their own, but nothing of the
        # instructor's should sit in this process's /proc/<pid>/environ either
        home = os.path.expanduser("~")
        env = environment({"HOME": home, "PATH": os.environ.get("PATH", "/usr/bin:/bin")})
        for name in ("TMPDIR", "TEMP", "TMP", "MPLCONFIGDIR", "COURSE_PROGRESS_FILE"):
            env.pop(name, None)
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
        _stop(self.proc)


def _stop(proc: subprocess.Popen) -> None:
    """End a kernel starter: closing its input asks it to stop; kill it if it does not within 5 s."""
    if proc.poll() is None:
        try:
            proc.stdin.close()
            proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()


_ZYGOTE: Zygote | None = None


def zygote() -> Zygote:
    global _ZYGOTE
    if _ZYGOTE is None or not _ZYGOTE.alive():
        _ZYGOTE = Zygote()
    return _ZYGOTE


def current_pid() -> int | None:
    """The process id of this process's zygote, if it has one running."""
    return _ZYGOTE.proc.pid if _ZYGOTE is not None and _ZYGOTE.alive() else None


def current_pids() -> set[int]:
    """The process ids of this process's kernel starters (plain and sandboxed) and their sandbox."""
    pids = {current_pid()} - {None}
    if _SANDBOXED is not None and _SANDBOXED.alive():
        import psutil

        pids.add(_SANDBOXED.proc.pid)
        try:  # the starter inside its sandbox, not the kernels it forked
            pids |= {p.pid for p in psutil.Process(_SANDBOXED.proc.pid).children()}
            pids |= {p.pid for p in psutil.Process(_SANDBOXED.outer).children()}
        except psutil.NoSuchProcess:
            pass
        pids.add(_SANDBOXED.outer)
    return pids


def close() -> None:
    global _ZYGOTE, _SANDBOXED
    if _ZYGOTE is not None and _ZYGOTE.owner == os.getpid():
        _ZYGOTE.close()
    _ZYGOTE = None
    if _SANDBOXED is not None and _SANDBOXED.owner == os.getpid():
        _SANDBOXED.close()
    _SANDBOXED = None


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
