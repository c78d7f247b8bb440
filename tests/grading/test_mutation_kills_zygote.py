"""Tests of course/grading/zygote.py (issue 20): the fork server that starts grading kernels.

Most of the zygote's work happens in processes of its own (the zygote, the child it forks, the
kernel), where mutation testing cannot see which test reached it. So the pieces run here, in the
test process, for real wherever Linux allows it: `serve()` reads its requests from a pipe and
forks real kernels; a child's preparation steps (signals, folder and environment, log, seeds)
run on this process and are put back; the private sandbox of a kernel (`_private_sandbox`,
`_kernel_in_namespaces`) is made in a thread that first moves to a private mount namespace of its
own, so its mounts never reach the machine. The worker's side (`Zygote`, `SandboxedZygote`,
`ForkedProcess`, the provisioner) is driven against a real zygote and a real bubblewrap sandbox;
a stand-in process plays a broken zygote where only a broken one reaches an error path.

The kernels report what they see by a line of `--IPKernelApp.exec_lines` that writes a JSON file.
"""
from __future__ import annotations

import contextlib
import ctypes
import errno
import gc
import json
import os
import random
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace as NS

import psutil
import pytest
from grading_helpers import run_async

from course.grading import sandbox, zygote

MB = 2**20
LINUX_ROOT = sys.platform.startswith("linux") and hasattr(os, "geteuid") and os.geteuid() == 0
needs_root = pytest.mark.skipif(not LINUX_ROOT, reason="namespaces and mounts need root on Linux")
needs_sandbox = pytest.mark.skipif(not (LINUX_ROOT and sandbox.available()[0]),
                                   reason="the preloaded sandbox needs root and bubblewrap")
needs_fork = pytest.mark.skipif(not zygote.supported(), reason="the zygote needs Linux (fork)")

LIBC = ctypes.CDLL(None, use_errno=True)


def _check(result: int) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def _in_own_mounts(fn, timeout: float = 90):
    """Run `fn` in a thread with a private mount namespace of its own: whatever it mounts disappears
    with the thread and never reaches this machine's mounts."""
    box = {}

    def run():
        try:
            _check(LIBC.unshare(zygote.CLONE_NEWNS))
            _check(LIBC.mount(None, b"/", None, zygote.MS_REC | zygote.MS_PRIVATE, None))
            box["value"] = fn()
        except BaseException as err:  # noqa: BLE001 - raised again in the test's thread
            box["error"] = err

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "the namespace thread did not finish"
    if "error" in box:
        raise box["error"]
    return box.get("value")


def _mounts(path: str = "/proc/thread-self/mountinfo") -> dict[str, tuple[str, set, set]]:
    """mount point -> (file system type, mount options, file system options) of the top mount."""
    found = {}
    with open(path) as handle:
        for line in handle:
            left, right = line.split(" - ", 1)
            point, options = left.split()[4:6]
            fstype, _, super_options = right.split()[:3]
            found[point] = (fstype, set(options.split(",")), set(super_options.split(",")))
    return found


def _report_code(path: str, then: str = "import time; time.sleep(120)") -> str:
    """A kernel's start-up line: write what it sees as JSON to `path`, then `then`."""
    return (
        "import json, os, random, resource, sys\n"
        "fds = {}\n"
        "for fd in os.listdir('/proc/self/fd'):\n"
        "    try: fds[fd] = os.readlink('/proc/self/fd/' + fd)\n"
        "    except OSError: pass\n"
        "status = dict(line.split(':', 1) for line in open('/proc/self/status') if ':' in line)\n"
        "seen = dict(pid=os.getpid(), ppid=os.getppid(), sid=os.getsid(0), pgid=os.getpgid(0), uid=os.getuid(),\n"
        "            cwd=os.getcwd(), env=dict(os.environ), path0=sys.path[0], argv=sys.argv, fds=fds,\n"
        "            memory=resource.getrlimit(resource.RLIMIT_AS), fsize=resource.getrlimit(resource.RLIMIT_FSIZE),\n"
        "            nproc=resource.getrlimit(resource.RLIMIT_NPROC),\n"
        "            debugpy=('debugpy' in sys.modules and sys.modules['debugpy'] is None),\n"
        "            random=random.random(), cap_inh=status['CapInh'].strip(), cap_eff=status['CapEff'].strip(),\n"
        "            work=sorted(os.listdir('.')))\n"
        f"open({path!r} + '.part', 'w').write(json.dumps(seen))\n"
        f"os.rename({path!r} + '.part', {path!r})\n"
        f"{then}\n"
    )


def _kernel_argv(report: str, then: str = "import time; time.sleep(120)", *extra: str) -> list[str]:
    return [*extra, "--IPKernelApp.exec_lines=" + json.dumps([_report_code(report, then)])]


def _wait_for(path, pid: int | None = None, seconds: float = 15) -> dict:
    """The report a kernel writes at `path`, waiting at most `seconds`, or until process `pid` ends."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            return json.loads(Path(path).read_text())
        except (OSError, ValueError):
            if pid is not None and _gone(pid, 0):
                raise AssertionError(f"process {pid} ended without a report at {path}") from None
            time.sleep(0.05)
    raise AssertionError(f"no report at {path} within {seconds} s")


def _gone(pid: int, seconds: float = 10) -> bool:
    """The process ended (reaped, or a zombie nobody has reaped yet) within `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def _limit(pid: int, name: str) -> str:
    """The soft limit `name` ("Max file size", ...) of process `pid`, as /proc/<pid>/limits shows it."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith(name):
            return line[len(name):].split()[0]
    raise AssertionError(f"{name} not in /proc/{pid}/limits")


def _kill(*pids: int | None) -> None:
    """Kill these kernels; never this process, its group (0) or anything a wrong pid would name."""
    for pid in pids:
        if isinstance(pid, int) and pid > 1 and pid != os.getpid():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture
def own_process_group():
    """This process leads a process group of its own while the zygote's code forks here: a broken zygote
    killing the group of a child that should have been a kernel (os.killpg(0)) then ends this test,
    not the test runner that started it. Put back afterwards."""
    old = os.getpgrp()
    try:
        os.setpgid(0, 0)
    except OSError:  # a session leader already leads its own group
        yield
        return
    try:
        yield
    finally:
        os.setpgid(0, old)


# -- what a child of the zygote does to itself before it becomes the kernel ----------------------------


def test_a_forked_kernel_gets_the_default_signal_handlers_back():
    """The zygote ignores Ctrl-C and reaps children: a kernel forked from it must not inherit that."""
    names = (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM, signal.SIGPIPE)
    saved = {sig: signal.getsignal(sig) for sig in names}
    try:
        for sig in names:
            signal.signal(sig, signal.SIG_IGN)
        zygote._default_signals()
        assert {sig: signal.getsignal(sig) for sig in names} == dict.fromkeys(names, signal.SIG_DFL)
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


@pytest.fixture
def restored_process_state(monkeypatch):
    """This process's folder, environment and sys.path[0], put back after the test."""
    cwd, env, path0 = os.getcwd(), dict(os.environ), sys.path[0]
    yield
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    sys.path[0] = path0


def test_a_kernel_moves_to_its_folder_and_takes_only_its_own_environment(tmp_path, restored_process_state):
    """Nothing of the zygote's environment (the instructor's) reaches a kernel; outside the sandbox
    it learns its parent (jupyter's JPY_PARENT_PID), inside it does not."""
    os.environ["INSTRUCTOR_SECRET"] = "s3cret"
    zygote._enter({"cwd": str(tmp_path), "env": {"HOME": str(tmp_path), "MARK": "plain"}})
    assert os.getcwd() == str(tmp_path) and sys.path[0] == str(tmp_path)
    assert dict(os.environ) == {"HOME": str(tmp_path), "MARK": "plain", "JPY_PARENT_PID": str(os.getppid())}
    inside = tmp_path / "inside"
    inside.mkdir()
    zygote._enter({"cwd": str(inside), "env": {"MARK": "sandboxed"}, "stage": "/grading/stage/k1"})
    assert os.getcwd() == str(inside) and sys.path[0] == str(inside)
    assert dict(os.environ) == {"MARK": "sandboxed"}


def test_a_kernel_log_is_private_and_appended_to_and_no_log_means_nowhere(tmp_path):
    """The kernel's output goes to its log (never truncated, readable by the grader only) or is dropped."""
    log = tmp_path / "kernel.log"
    fd = zygote._open_log({"log": str(log)})
    try:
        os.write(fd, b"first\n")
    finally:
        os.close(fd)
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    fd = zygote._open_log({"log": str(log)})
    try:
        os.lseek(fd, 0, os.SEEK_SET)  # append mode writes at the end whatever the position
        os.write(fd, b"second\n")
        with pytest.raises(OSError):
            os.read(fd, 10)  # opened for writing only
    finally:
        os.close(fd)
    assert log.read_text() == "first\nsecond\n"
    for request in ({}, {"log": None}, {"log": ""}):
        fd = zygote._open_log(request)
        try:
            assert os.readlink(f"/proc/self/fd/{fd}") == os.devnull
            assert os.write(fd, b"dropped") == 7
        finally:
            os.close(fd)


def test_each_forked_kernel_draws_new_random_numbers():
    """Kernels forked from one zygote would share its random state: each reseeds, numpy too."""
    import numpy

    random.seed(5)
    numpy.random.seed(5)
    first = (random.random(), numpy.random.random())
    random.seed(5)
    numpy.random.seed(5)
    zygote._reseed()
    second = (random.random(), numpy.random.random())
    assert second[0] != first[0] and second[1] != first[1]


@needs_fork
def test_the_zygote_reaps_finished_kernels_without_waiting_for_running_ones():
    """A finished kernel must not stay a zombie in the zygote; a running one must not block it."""
    zygote._reap()  # no child at all: returns
    finished = [subprocess.Popen([sys.executable, "-c", "pass"]) for _ in range(2)]
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(4)"])
    try:
        for proc in finished:
            assert _gone(proc.pid)
        start = time.monotonic()
        zygote._reap()
        assert time.monotonic() - start < 2
        for proc in finished:
            assert not psutil.pid_exists(proc.pid)  # reaped, not a zombie
        assert psutil.Process(running.pid).status() != psutil.STATUS_ZOMBIE
    finally:
        running.kill()
        try:
            running.wait(10)
        except ChildProcessError:
            pass


# -- the private sandbox of a kernel forked inside the sandboxed zygote ----------------------------------


def _status_caps(path: str = "/proc/thread-self/status") -> dict[str, int]:
    lines = Path(path).read_text().splitlines()
    return {k: int(v.strip(), 16) for k, v in (x.split(":", 1) for x in lines) if k.startswith("Cap")}


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _fill_inheritable() -> None:
    """What bwrap's --cap-add does to the starter: capabilities in the inheritable set (this thread's)."""
    header, data = _CapHeader(0x20080522, 0), (_CapData * 2)()
    _check(LIBC.capget(ctypes.byref(header), data))
    for item in data:
        item.inheritable = item.permitted
    _check(LIBC.capset(ctypes.byref(header), data))


@needs_root
def test_a_sandboxed_kernel_keeps_no_inheritable_capabilities():
    """The inheritable set would let a program the student runs regain capabilities: it is emptied,
    and the rest of the capabilities are left as they were."""
    def run():
        _fill_inheritable()
        before = _status_caps()
        assert before["CapInh"] != 0
        zygote._clear_inheritable_capabilities()
        return before, _status_caps()

    before, after = _in_own_mounts(run)
    assert after["CapInh"] == 0
    assert (after["CapPrm"], after["CapEff"], after["CapBnd"]) == (before["CapPrm"], before["CapEff"],
                                                                   before["CapBnd"])


@pytest.fixture
def stage(monkeypatch):
    """The sandbox's folders moved to a temporary folder (the namespace thread mounts over them; the
    kernel's own user may pass through it), with two kernels' files staged: k1 (a data file and one
    in a sub-folder) and k2 (another kernel's)."""
    base = Path(tempfile.mkdtemp(prefix="course-zygote-test-"))
    base.chmod(0o755)
    paths = NS(work=base / "work", run=base / "run", view=base / "stage-view", host=base / "stage", base=base)
    for folder in (paths.work, paths.run, paths.view):
        folder.mkdir()
    for kid, files in (("k1", {"a.csv": "x\n1\n", "sub/b.txt": "bee"}), ("k2", {"secret.csv": "other\n"})):
        for name, text in files.items():
            (paths.host / kid / "data" / name).parent.mkdir(parents=True, exist_ok=True)
            (paths.host / kid / "data" / name).write_text(text)
        (paths.host / kid / "kernel.json").write_text(json.dumps({"kernel": kid}))
    paths.host.chmod(0o755)
    monkeypatch.setattr(sandbox, "WORK", str(paths.work))
    monkeypatch.setattr(sandbox, "RUN", str(paths.run))
    monkeypatch.setattr(sandbox, "STAGE", str(paths.view))
    yield paths
    shutil.rmtree(base, ignore_errors=True)


def _show_stage(paths) -> None:
    """What bwrap does for the sandboxed zygote: the worker's stage folder bound at STAGE."""
    _check(LIBC.mount(str(paths.host).encode(), str(paths.view).encode(), None, zygote.MS_BIND, None))


def _read_only(path: Path) -> bool:
    try:
        with open(path, "a"):
            pass
    except OSError as err:
        return err.errno == errno.EROFS
    return False


@needs_root
def test_a_private_sandbox_has_its_own_folders_and_only_its_own_files_read_only(stage):
    """A kernel gets its own /proc, work folder (bounded, sticky), run folder, /dev/shm; its connection
    file and data files read-only; and no other kernel's staged files."""
    def run():
        _show_stage(stage)
        procs_before = sum(1 for line in open("/proc/thread-self/mountinfo") if line.split()[4] == "/proc")
        zygote._private_sandbox({"stage": f"{stage.view}/k1", "files": ["a.csv", "sub/b.txt"], "work_mb": 3})
        mounts = _mounts()
        procs_after = sum(1 for line in open("/proc/thread-self/mountinfo") if line.split()[4] == "/proc")
        seen = {
            "work": mounts[str(stage.work)], "run": mounts[str(stage.run)], "shm": mounts["/dev/shm"],
            "proc": mounts["/proc"], "procs": (procs_before, procs_after),
            "kernel.json": mounts[f"{stage.run}/kernel.json"], "a": mounts[f"{stage.work}/a.csv"],
            "b": mounts[f"{stage.work}/sub/b.txt"],
            "tmp": stat.S_IMODE(os.stat(stage.work / ".tmp").st_mode),
            "modes": [stat.S_IMODE(os.stat(p).st_mode) for p in (stage.work, stage.run, "/dev/shm")],
            "texts": [(stage.run / "kernel.json").read_text(), (stage.work / "a.csv").read_text(),
                      (stage.work / "sub" / "b.txt").read_text()],
            "read_only": [_read_only(stage.run / "kernel.json"), _read_only(stage.work / "a.csv"),
                          _read_only(stage.work / "sub" / "b.txt")],
            "writable": not _read_only(stage.work / "mine.txt"),
            "stage": os.listdir(stage.view), "stage_mounted": str(stage.view) in mounts,
        }
        return seen

    seen = _in_own_mounts(run)
    for name, size in (("work", "3072k"), ("run", "1024k"), ("shm", "16384k")):
        fstype, options, fs_options = seen[name]
        assert fstype == "tmpfs" and {"nosuid", "nodev"} <= options and "ro" not in options, name
        assert f"size={size}" in fs_options, name
    fstype, options, _ = seen["proc"]
    assert fstype == "proc" and {"nosuid", "nodev", "noexec"} <= options
    assert seen["procs"][1] == seen["procs"][0] + 1  # a /proc of its own, over the starter's
    for name in ("kernel.json", "a", "b"):
        assert {"ro", "nosuid", "nodev"} <= seen[name][1], name
    assert seen["tmp"] == 0o1777 and seen["modes"] == [0o1777] * 3  # anyone may write, only owners delete
    assert seen["texts"] == [json.dumps({"kernel": "k1"}), "x\n1\n", "bee"]
    assert seen["read_only"] == [True, True, True] and seen["writable"]
    assert seen["stage"] == [] and not seen["stage_mounted"]  # k2's files (and k1's own staging) out of sight
    assert not (stage.work / "mine.txt").exists()  # it was written in the kernel's own work folder


@needs_root
@pytest.mark.parametrize(("request_extra", "size"), [({}, "65536k"), ({"work_mb": 0}, "1024k"),
                                                      ({"work_mb": "5"}, "5120k")])
def test_the_work_folder_size_follows_the_request_and_is_never_zero(stage, request_extra, size):
    """The work folder is bounded by work_mb (64 MB unless told), at least 1 MB; no data files is fine."""
    def run():
        _show_stage(stage)
        zygote._private_sandbox({"stage": f"{stage.view}/k2", **request_extra})
        return _mounts()[str(stage.work)], sorted(os.listdir(stage.work)), (stage.run / "kernel.json").read_text()

    (fstype, _, fs_options), listing, connection = _in_own_mounts(run)
    assert fstype == "tmpfs" and f"size={size}" in fs_options
    assert listing == [".tmp"] and connection == json.dumps({"kernel": "k2"})


@needs_root
def test_a_failed_mount_names_the_call_and_the_reason(stage):
    """A kernel whose files were not staged gets no sandbox, and the error says which mount failed."""
    def run():
        _show_stage(stage)
        zygote._private_sandbox({"stage": f"{stage.view}/k3"})

    with pytest.raises(OSError) as caught:
        _in_own_mounts(run)
    assert caught.value.errno == errno.ENOENT
    text = caught.value.strerror
    assert text.startswith("mount(") and f"{stage.view}/k3/kernel.json" in text and "No such file" in text
    with pytest.raises(OSError) as caught:
        zygote._call("umount2", str(stage.work), zygote.MNT_DETACH)  # a folder, not a mount
    assert caught.value.errno == errno.EINVAL and caught.value.strerror.startswith("umount2(")
    assert caught.value.strerror.endswith(": Invalid argument")


@contextlib.contextmanager
def _zygote_stdio():
    """sys.stdout and sys.stderr on descriptors 1 and 2 while a kernel is forked from this process, as in
    the zygote. pytest's (or a test runner's) streams sit on other descriptors, which the kernel
    closes; ipykernel would later redirect the stale number, by then one of ZeroMQ's (a kernel dying
    with "Invalid argument (src/epoll.cpp)"). Set in the test's body: pytest resets them between phases."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = open(1, "w", closefd=False), open(2, "w", closefd=False)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


NAMESPACES = {"mnt": zygote.CLONE_NEWNS, "pid_for_children": zygote.CLONE_NEWPID, "ipc": zygote.CLONE_NEWIPC,
              "uts": zygote.CLONE_NEWUTS}


@contextlib.contextmanager
def _namespaces_put_back():
    """This thread in a private mount namespace of its own, and its mount, PID (for its children), IPC and
    UTS namespaces, capabilities and folder put back afterwards. A kernel must be forked from the
    test's main thread: forked from another, the child drops the main thread's objects, and a file
    among them, closed later in the kernel, would close a descriptor the kernel has reused by then."""
    saved = {flag: os.open(f"/proc/thread-self/ns/{name}", os.O_RDONLY) for name, flag in NAMESPACES.items()}
    header, caps = _CapHeader(0x20080522, 0), (_CapData * 2)()
    _check(LIBC.capget(ctypes.byref(header), caps))
    cwd = os.getcwd()
    _check(LIBC.unshare(zygote.CLONE_NEWNS))
    try:
        _check(LIBC.mount(None, b"/", None, zygote.MS_REC | zygote.MS_PRIVATE, None))
        yield
    finally:
        try:
            _check(LIBC.capset(ctypes.byref(header), caps))
            for flag, fd in saved.items():
                _check(LIBC.setns(fd, flag))
        finally:
            for fd in saved.values():
                os.close(fd)
            os.chdir(cwd)


def _read_line(fd: int, seconds: float = 60, stop: threading.Event | None = None) -> bytes:
    """One line from a pipe, by raw reads (no file object), or what came before its end, `seconds`
    or `stop` (the test's main thread is done)."""
    got, deadline = b"", time.monotonic() + seconds
    while not got.endswith(b"\n") and time.monotonic() < deadline and not (stop and stop.is_set()):
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            chunk = os.read(fd, 1)
            if not chunk:
                break
            got += chunk
    return got


@needs_root
def _python_open_to_other_users() -> bool:
    """Every folder down to this Python can be entered by any user (not so when it lives under a 0700
    /root). Here the kernel runs in this test's mount namespace, not inside bwrap, which in grading
    makes the folders above the Python for it."""
    for folder in sandbox.python_folders():
        for path in [Path(folder), *Path(folder).parents]:
            if not path.stat().st_mode & 0o001:
                return False
    return True


@pytest.mark.skipif(not _python_open_to_other_users(), reason="the kernel's own user id cannot reach this Python "
                    "outside bwrap (a folder above it is closed to other users)")
def test_a_sandboxed_kernel_is_pid_one_of_new_namespaces_as_its_own_unprivileged_user(stage, own_process_group):
    """The starter's child forks the kernel into new mount, PID, IPC and UTS namespaces, reports the
    kernel's pid at once, and ends with the kernel's exit code."""
    report_r, report_w = os.pipe()
    report = f"{stage.work}/seen.json"
    request = {"stage": f"{stage.view}/k1", "files": ["a.csv"], "work_mb": 16, "cwd": str(stage.work),
               "env": {"HOME": str(stage.work), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "MARK": "k1"},
               "argv": _kernel_argv(report), "uid": sandbox.UID_BASE + 4321, "memory_mb": 3000,
               "file_size_mb": 2}
    seen = {}

    def worker():  # reads the kernel's pid, then what the kernel sees, then stops it
        try:
            line = _read_line(report_r, 60, stop)
            seen["pid"] = int(line)
            seen["closed"] = _read_line(report_r, 10, stop) == b""  # the pipe is closed once the pid is written
            seen["kernel"] = _wait_for(f"/proc/{seen['pid']}/root{report}", seen["pid"])
            seen["namespaces"] = {n: os.readlink(f"/proc/{seen['pid']}/ns/{n}") for n in ("mnt", "pid", "ipc", "uts")}
        except BaseException as err:  # noqa: BLE001
            seen["error"] = err
        finally:
            _kill(seen.get("pid"))

    stop = threading.Event()
    thread = threading.Thread(target=worker)
    thread.start()
    try:
        with _namespaces_put_back(), _zygote_stdio():
            _show_stage(stage)
            _fill_inheritable()
            mine = {n: os.readlink(f"/proc/thread-self/ns/{n}") for n in ("mnt", "pid", "ipc", "uts")}
            gc.collect()
            code = zygote._kernel_in_namespaces(request, report_w)
    finally:
        stop.set()
        thread.join(60)
        os.close(report_r)
    assert not thread.is_alive() and "error" not in seen, seen.get("error")
    assert code == 256 - signal.SIGKILL  # the kernel's exit status, as an exit code
    assert seen["closed"]
    assert all(seen["namespaces"][n] != mine[n] for n in mine)
    kernel = seen["kernel"]
    assert kernel["pid"] == 1 and kernel["uid"] == sandbox.UID_BASE + 4321 and kernel["cap_inh"] == "0" * 16
    assert kernel["cwd"] == str(stage.work) and {".tmp", "a.csv"} <= set(kernel["work"])
    assert "sub" not in kernel["work"]
    assert kernel["env"]["MARK"] == "k1" and "JPY_PARENT_PID" not in kernel["env"]
    assert kernel["memory"] == [3000 * MB] * 2 and kernel["fsize"] == [2 * MB] * 2


# -- serve(): the zygote's loop, run in this process -----------------------------------------------------


@pytest.fixture
def serving(own_process_group):
    """serve() in this process: its signal handlers and the debugger switch put back afterwards."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGCHLD, signal.SIGINT)}
    debugpy = sys.modules.pop("debugpy", "absent")
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)
    sys.modules.pop("debugpy", None)
    if debugpy != "absent":
        sys.modules["debugpy"] = debugpy


@needs_fork
def test_serve_forks_kernels_answers_their_pids_and_kills_them_when_the_worker_leaves(tmp_path, serving):
    """One JSON request per line, one answer per line; a kernel per request, preloaded, with its limits,
    folder, environment and log; finished kernels reaped; the rest killed when the input ends."""
    from course import data

    data._cached.cache_clear()
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    stdin_probe, stdout_probe = os.dup(in_r), os.dup(out_w)  # the pipes' identity, kept for the end
    folders = [tmp_path / "k1", tmp_path / "k2"]
    for folder in folders:
        folder.mkdir()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "MARK": "served"}
    first = {"argv": _kernel_argv(str(tmp_path / "k1.json")), "cwd": str(folders[0]), "env": env,
             "log": str(tmp_path / "k1.log"), "memory_mb": 3000, "file_size_mb": 3}
    second = {"argv": _kernel_argv(str(tmp_path / "k2.json"), "os._exit(0)"), "cwd": str(folders[1]),
              "env": dict(env, MARK="second")}
    talk = {}

    def worker():  # the grading worker's side, by raw reads and writes (see _namespaces_put_back)
        def ask(line):
            os.write(in_w, (line + "\n").encode())
            return json.loads(_read_line(out_r, 60, stop) or b'{"error": "no answer"}')

        try:
            talk["first"] = ask(json.dumps(first))
            talk["seen1"] = _wait_for(tmp_path / "k1.json", talk["first"].get("pid"))
            talk["handlers"] = (signal.getsignal(signal.SIGCHLD), signal.getsignal(signal.SIGINT))
            talk["bad"] = ask("{not json")
            talk["second"] = ask(json.dumps(second))
            talk["seen2"] = _wait_for(tmp_path / "k2.json", talk["second"].get("pid"))
            talk["second_gone"] = _gone(talk["second"]["pid"])
            time.sleep(0.3)
            talk["second_reaped"] = not psutil.pid_exists(talk["second"]["pid"])
            talk["first_running"] = psutil.Process(talk["first"]["pid"]).status() != psutil.STATUS_ZOMBIE
        except BaseException as err:  # noqa: BLE001
            talk["error"] = err
        finally:
            os.close(in_w)  # the worker leaves

    stop = threading.Event()
    thread = threading.Thread(target=worker)
    thread.start()
    try:
        with os.fdopen(in_r) as stdin, os.fdopen(out_w, "w") as stdout, _zygote_stdio():
            gc.collect()
            assert zygote.serve(stdin, stdout) == 0
    finally:
        stop.set()
        thread.join(60)
        os.close(out_r)
        kernels = [talk[k]["pid"] for k in ("first", "second") if "pid" in talk.get(k, {})]
        _kill(*kernels)
        pipes = {f"pipe:[{os.fstat(fd).st_ino}]" for fd in (stdin_probe, stdout_probe)}
        os.close(stdin_probe)
        os.close(stdout_probe)
    for pid in kernels:  # nothing left for a test runner to find: the ended kernels are reaped
        assert _gone(pid)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass  # reaped by the zygote's handler already
    assert "error" not in talk, talk.get("error")
    seen1, seen2 = talk["seen1"], talk["seen2"]
    assert talk["first"] == {"pid": seen1["pid"]} and talk["second"] == {"pid": seen2["pid"]}
    assert talk["bad"]["error"].startswith("JSONDecodeError: ")
    assert talk["handlers"] == (zygote._reap, signal.SIG_IGN)
    assert talk["second_gone"] and talk["second_reaped"] and talk["first_running"]
    assert kernels == [seen1["pid"], seen2["pid"]]  # the worker closed the pipe: the running kernel was killed
    # the kernel itself: forked from this process, preloaded, its own session, limits, folder, environment
    assert seen1["ppid"] == os.getpid() and seen1["sid"] == seen1["pid"] == seen1["pgid"]
    assert seen1["debugpy"] is True  # ipykernel started without the debugger
    assert seen1["memory"] == [3000 * MB] * 2 and seen1["fsize"] == [3 * MB] * 2
    assert seen2["memory"][0] == seen2["fsize"][0] == -1  # no limits asked, none set
    assert seen1["cwd"] == seen1["path0"] == str(folders[0]) and seen2["cwd"] == str(folders[1])
    assert seen1["env"]["MARK"] == "served" and seen1["env"]["JPY_PARENT_PID"] == str(os.getpid())
    assert seen2["env"]["MARK"] == "second" and "INSTRUCTOR" not in json.dumps(seen1["env"])
    assert seen1["random"] != seen2["random"]
    assert seen1["fds"]["0"] == seen2["fds"]["0"] == os.devnull  # no input
    assert str(tmp_path / "k1.log") in seen1["fds"].values() and "kernel" in (tmp_path / "k1.log").read_text()
    assert list(seen2["fds"].values()).count(os.devnull) >= 2  # no log: its output goes nowhere
    assert not pipes & (set(seen1["fds"].values()) | set(seen2["fds"].values()))  # nothing of the zygote's
    assert data._cached.cache_info().currsize == len(data.names())  # the data sets were parsed in the zygote


# -- the worker's side: a real zygote, real kernels -------------------------------------------------------


def test_the_zygote_is_used_on_linux_only(monkeypatch):
    """Forking a preloaded Python needs Linux and fork(); elsewhere kernels start the usual way."""
    assert zygote.supported() is (sys.platform.startswith("linux") and hasattr(os, "fork"))
    monkeypatch.setattr(sys, "platform", "darwin")
    assert zygote.supported() is False
    monkeypatch.setattr(sys, "platform", "linux")
    assert zygote.supported() is hasattr(os, "fork")
    monkeypatch.delattr(os, "fork")
    assert zygote.supported() is False


@pytest.fixture
def no_zygotes():
    """No zygote of this process before or after the test."""
    zygote.close()
    yield
    zygote.close()


def _environ(pid: int) -> dict[str, str]:
    items = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in items if b"=" in item)


@needs_fork
@pytest.mark.parametrize("home_exists", [True, False])
def test_the_zygote_starts_in_home_with_an_allow_listed_environment(tmp_path, monkeypatch, home_exists):
    """Nothing of the instructor's environment sits in the zygote's /proc/<pid>/environ (its kernels
    could read it), and it starts in the home folder (or / when there is none)."""
    home = tmp_path / "home"
    if home_exists:
        home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PATH", f"{tmp_path}/bin:/usr/bin:/bin")
    for name, value in (("GITHUB_TOKEN", "t0ken"), ("TMPDIR", str(tmp_path)), ("MPLCONFIGDIR", str(tmp_path)),
                        ("COURSE_PROGRESS_FILE", str(tmp_path / "p.json")), ("LANG", "C.UTF-8")):
        monkeypatch.setenv(name, value)
    starter = zygote.Zygote()
    try:
        pid = starter.proc.pid
        deadline = time.monotonic() + 10
        while not psutil.Process(pid).cmdline() and time.monotonic() < deadline:
            time.sleep(0.01)  # just after exec(), /proc can show an empty command line for a moment
        env, cwd, command = _environ(pid), os.readlink(f"/proc/{pid}/cwd"), psutil.Process(pid).cmdline()
        assert starter.owner == os.getpid() and starter.alive()
    finally:
        starter.proc.kill()
        starter.proc.wait()
    assert command == [sys.executable, "-m", "course.grading.zygote"]
    assert cwd == (str(home) if home_exists else "/")
    assert env["HOME"] == str(home) and env["PATH"] == f"{tmp_path}/bin:/usr/bin:/bin"
    assert env["USER"] == "student" and env["LANG"] == "C.UTF-8" and env["OMP_NUM_THREADS"] == "1"
    assert not {"GITHUB_TOKEN", "TMPDIR", "TEMP", "TMP", "MPLCONFIGDIR", "COURSE_PROGRESS_FILE"} & set(env)
    assert not starter.alive()


@needs_fork
def test_a_kernel_from_the_zygote_runs_under_its_limits_and_nothing_is_left_after_close(tmp_path, no_zygotes):
    """The worker's zygote (one per process, started on first use) forks kernels with the limits, folder,
    environment and log asked for; the handles stop them like Popen would; close() leaves no process."""
    assert zygote.current_pid() is None and zygote.current_pids() == set()
    starter = zygote.zygote()
    assert zygote.zygote() is starter and zygote.current_pid() == starter.proc.pid
    assert zygote.current_pids() == {starter.proc.pid}
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "MARK": "worker"}
    first = starter.spawn(_kernel_argv(str(tmp_path / "k1.json")), cwd=str(tmp_path), env=env,
                          log=str(tmp_path / "k1.log"), memory_mb=3000, file_size_mb=3)
    second = starter.spawn(_kernel_argv(str(tmp_path / "k2.json")), cwd="/", env=env)
    kernels = [first.pid, second.pid]
    try:
        assert isinstance(first, zygote.ForkedProcess) and first.pid != second.pid
        seen1 = _wait_for(tmp_path / "k1.json", first.pid)
        seen2 = _wait_for(tmp_path / "k2.json", second.pid)
        assert seen1["pid"] == first.pid and seen1["ppid"] == starter.proc.pid
        assert _limit(first.pid, "Max address space") == str(3000 * MB)
        assert _limit(first.pid, "Max file size") == str(3 * MB)
        assert _limit(second.pid, "Max address space") == _limit(second.pid, "Max file size") == "unlimited"
        assert seen1["cwd"] == str(tmp_path) and seen2["cwd"] == "/"
        assert seen1["env"]["MARK"] == "worker" and seen1["env"]["JPY_PARENT_PID"] == str(starter.proc.pid)
        assert str(tmp_path / "k1.log") in seen1["fds"].values()
        assert first.poll() is None and first.returncode is None
        with pytest.raises(subprocess.TimeoutExpired):
            first.wait(timeout=0.2)
        first.terminate()
        assert first.wait(timeout=20) == 0 and first.poll() == 0
        first.kill()  # already ended: nothing happens
        first.send_signal(signal.SIGTERM)
    finally:
        zygote.close()
    assert zygote.current_pid() is None and zygote.current_pids() == set()
    assert starter.proc.poll() is not None and not starter.alive()
    assert all(_gone(pid) for pid in kernels)  # the zygote killed the kernel still running
    assert zygote.zygote() is not starter  # a new one on next use
    zygote.close()


@needs_fork
def test_a_kernel_dies_with_a_zygote_that_was_killed_hard(tmp_path, no_zygotes):
    """A zygote killed with SIGKILL (the out-of-memory killer, a killed worker) has no chance to stop its
    kernels: they end with it, instead of running on with nobody left to stop them."""
    starter = zygote.zygote()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    kernel = starter.spawn(_kernel_argv(str(tmp_path / "k.json")), cwd=str(tmp_path), env=env)
    try:
        _wait_for(tmp_path / "k.json", kernel.pid)
        os.kill(starter.proc.pid, signal.SIGKILL)
        starter.proc.wait()
        assert _gone(kernel.pid, seconds=5)
    finally:
        _kill(kernel.pid)
        zygote.close()


@needs_fork
def test_a_forked_kernel_handle_behaves_like_popen_for_jupyter_client():
    """jupyter_client polls, waits for, signals and kills the kernel through the handle."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        handle = zygote.ForkedProcess(proc.pid)
        assert (handle.pid, handle.returncode, handle.poll()) == (proc.pid, None, None)
        assert handle.stdin is None and handle.stdout is None and handle.stderr is None
        start = time.monotonic()
        with pytest.raises(subprocess.TimeoutExpired) as caught:
            handle.wait(timeout=0.3)
        assert 0.3 <= time.monotonic() - start < 2 and str(proc.pid) in str(caught.value)
        assert caught.value.timeout == 0.3
        handle.send_signal(signal.SIGTERM)
        assert handle.wait(timeout=10) == 0  # ended (a zombie until its parent reaps it)
        assert proc.wait(10) == -signal.SIGTERM
        handle.kill()  # ended already: no error
    finally:
        proc.kill()
        proc.wait()
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    handle = zygote.ForkedProcess(proc.pid)
    handle.kill()
    assert proc.wait(10) == -signal.SIGKILL and handle.wait() == 0
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    handle = zygote.ForkedProcess(proc.pid)
    handle.terminate()
    assert proc.wait(10) == -signal.SIGTERM
    assert handle.poll() == 0
    handle.send_signal(signal.SIGKILL)  # the pid is gone now: no error
    gone = zygote.ForkedProcess(proc.pid)  # a kernel that ended before its handle was made
    assert gone.returncode == 0 and gone.poll() == 0 and gone.wait(timeout=0) == 0


def _stand_in(answer: str | None) -> subprocess.Popen:
    """A process in the zygote's place that reads one request and answers `answer` (None: dies)."""
    code = "import sys; sys.stdin.readline()" + ("" if answer is None else f"; print({answer!r}, flush=True)")
    return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, bufsize=1)


@needs_fork
def test_a_zygote_that_cannot_start_a_kernel_says_so(tmp_path):
    """A zygote's error, or a zygote that stops, is an error naming the cause, not a hang or a bare
    KeyError; and the request it got carries everything the kernel needs."""
    requests = tmp_path / "requests"
    starter = zygote.Zygote.__new__(zygote.Zygote)
    starter.proc = _stand_in('{"error": "OSError: fork failed"}')
    with pytest.raises(RuntimeError, match=r"^could not start a kernel: OSError: fork failed$"):
        starter.spawn(["-f", "k.json"], cwd="/w", env={"A": "1"})
    starter.proc.wait()
    starter.proc = _stand_in(None)
    with pytest.raises(RuntimeError, match=r"^could not start a kernel: the kernel starter stopped$"):
        starter.spawn(["-f", "k.json"], cwd="/w", env={"A": "1"})
    starter.proc.wait()
    code = f"import sys; open({str(requests)!r}, 'w').write(sys.stdin.readline()); print('{{\"pid\": 1}}')"
    starter.proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    text=True, bufsize=1)
    assert starter.spawn(("-f", "k.json"), cwd="/w", env={"A": "1"}, log="/l", memory_mb=5, file_size_mb=6).pid == 1
    starter.proc.wait()
    assert json.loads(requests.read_text()) == {"argv": ["-f", "k.json"], "cwd": "/w", "env": {"A": "1"},
                                                "log": "/l", "memory_mb": 5, "file_size_mb": 6}
    starter.proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    text=True, bufsize=1)
    starter.spawn(["-f", "k.json"], cwd="/w", env={})
    starter.proc.wait()
    request = json.loads(requests.read_text())
    assert (request["log"], request["memory_mb"], request["file_size_mb"]) == (None, 0, 0)  # no limits unless asked

    boxed = zygote.SandboxedZygote.__new__(zygote.SandboxedZygote)
    boxed.proc = _stand_in('{"error": "the kernel\'s sandbox could not be made"}')
    with pytest.raises(RuntimeError, match=r"^could not start a kernel in the sandbox: the kernel's sandbox could"):
        boxed.spawn(["-f", "k.json"], cwd="/w", env={}, stage="/grading/stage/k1")
    boxed.proc.wait()
    boxed.proc = _stand_in(None)
    with pytest.raises(RuntimeError, match=r"^could not start a kernel in the sandbox: the kernel starter stopped$"):
        boxed.spawn(["-f", "k.json"], cwd="/w", env={})
    boxed.proc.wait()


@needs_fork
def test_a_zygote_that_ignores_the_end_of_its_input_is_killed(tmp_path):
    """close() asks the zygote to stop by closing its input, and kills one that does not within 5 s."""
    stubborn = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, "
                                 "signal.SIG_IGN); time.sleep(60)"], stdin=subprocess.PIPE, text=True)
    polite = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE, text=True)
    start = time.monotonic()
    zygote._stop(polite)
    assert polite.returncode == 0 and time.monotonic() - start < 4
    start = time.monotonic()
    zygote._stop(stubborn)
    assert stubborn.returncode == -signal.SIGKILL and 4.5 < time.monotonic() - start < 15
    zygote._stop(stubborn)  # ended already: nothing to do


def _nspid(pid: int) -> list[int]:
    line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("NSpid:"))
    return [int(x) for x in line.split()[1:]]


@pytest.fixture
def sandboxed(no_zygotes):
    """No zygote of this process before or after the test (the sandboxed zygote imports this very
    `course` package: sandbox.environment puts its folder on PYTHONPATH)."""
    yield


def _stage_kernel(stage: Path, kid: str, files: dict[str, str]) -> None:
    (stage / kid / "data").mkdir(parents=True)
    (stage / kid / "kernel.json").write_text("{}")
    for name, text in files.items():
        (stage / kid / "data" / name).write_text(text)
    for path in (stage / kid, stage / kid / "data", *(stage / kid / "data").iterdir(), stage / kid / "kernel.json"):
        path.chmod(0o755 if path.is_dir() else 0o644)


@needs_sandbox
def test_the_sandboxed_zygote_forks_kernels_into_private_sandboxes_and_finds_their_pids(sandboxed):
    """Inside bubblewrap, each kernel is pid 1 of its own namespaces with only its own files, under its
    own user and limits; the worker gets the kernel's pid on this machine; close() leaves nothing."""
    boxed = zygote.sandboxed_zygote()
    kernels = []
    try:
        assert zygote.sandboxed_zygote() is boxed and boxed.alive() and boxed.owner == os.getpid()
        stage = Path(boxed.stage)
        assert stage.is_dir() and stage.name.startswith("course-stage-")
        assert psutil.Process(boxed.proc.pid).cmdline()[0] == sandbox.bwrap_path()
        _stage_kernel(stage, "k1", {"a.csv": "x\n1\n"})
        _stage_kernel(stage, "k2", {"b.csv": "y\n2\n"})
        report = f"{sandbox.WORK}/seen.json"
        for kid, uid, memory, name in (("k1", 71, 3000, "a.csv"), ("k2", 72, 2500, "b.csv")):
            kernels.append(boxed.spawn(_kernel_argv(report), cwd=sandbox.WORK, env=sandbox.environment(),
                                       memory_mb=memory, file_size_mb=2, processes=0, uid=sandbox.UID_BASE + uid,
                                       work_mb=8, stage=f"{sandbox.STAGE}/{kid}", files=[name]))
        first, second = kernels
        assert isinstance(first, zygote.ForkedProcess) and first.pid != second.pid
        seen = [_wait_for(f"/proc/{k.pid}/root{report}", k.pid) for k in kernels]
        for kernel, view, uid, name in ((first, seen[0], 71, "a.csv"), (second, seen[1], 72, "b.csv")):
            assert _nspid(kernel.pid)[0] == kernel.pid and _nspid(kernel.pid)[-1] == view["pid"] == 1
            assert view["uid"] == sandbox.UID_BASE + uid and view["cwd"] == sandbox.WORK
            assert name in view["work"] and len({"a.csv", "b.csv"} & set(view["work"])) == 1
        assert _limit(first.pid, "Max address space") == str(3000 * MB)
        assert _limit(second.pid, "Max address space") == str(2500 * MB)
        starter = {p.pid for p in psutil.Process(boxed.outer).children()}
        assert len(starter) == 1 and psutil.Process(boxed.outer).ppid() == boxed.proc.pid
        # bwrap itself: its own session, no output, nothing of the instructor's environment
        assert os.getsid(boxed.proc.pid) == boxed.proc.pid and _environ(boxed.proc.pid) == {"PATH": "/usr/bin:/bin"}
        assert os.readlink(f"/proc/{boxed.proc.pid}/fd/2") == os.devnull
        bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        try:
            pids = zygote.current_pids()
        finally:
            bystander.kill()
            bystander.wait()
        assert pids == {boxed.proc.pid, boxed.outer} | starter  # not the worker's other children
        assert first.pid not in pids and second.pid not in pids  # the starter, not the kernels it forked
        first.kill()
        assert first.wait(timeout=20) == 0 and _gone(first.pid)
        assert second.poll() is None
    finally:
        zygote.close()
    assert boxed.proc.poll() is not None and not boxed.alive()
    assert not Path(boxed.stage).exists()
    boxed._cleanup()  # atexit runs it again at the end: the stage is gone, and that is no error
    assert all(_gone(k.pid) for k in kernels)
    assert zygote.current_pids() == set() and zygote._SANDBOXED is None


@needs_fork
def test_a_kernel_the_sandbox_does_not_show_is_an_error_not_a_wrong_pid():
    """The worker maps the starter's pid of a kernel to this machine's; when it cannot, it says so."""
    boxed = zygote.SandboxedZygote.__new__(zygote.SandboxedZygote)
    parent = subprocess.Popen([sys.executable, "-c", "import subprocess, sys, time; "
                               "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)']); "
                               "time.sleep(30)"])
    try:
        deadline = time.monotonic() + 10
        while not psutil.Process(parent.pid).children() and time.monotonic() < deadline:
            time.sleep(0.05)
        boxed.outer = parent.pid  # a family with no process namespaces: no kernel found
        start = time.monotonic()
        with pytest.raises(RuntimeError, match="the kernel started in the sandbox cannot be found"):
            boxed._host_pid(1)
        assert 1.5 < time.monotonic() - start < 10  # it looked for about 2 s
    finally:
        for child in psutil.Process(parent.pid).children():
            child.kill()
        parent.kill()
        parent.wait()
    boxed.outer = parent.pid  # the sandbox is gone: no waiting
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="^the kernel started in the sandbox cannot be found$"):
        boxed._host_pid(1)
    assert time.monotonic() - start < 1


# -- the kernel provisioner ---------------------------------------------------------------------------


@needs_fork
def test_the_provisioner_forks_ipykernel_from_the_zygote_and_wraps_other_kernels(tmp_path, no_zygotes):
    """A Python kernel is forked from the worker's zygote with the manager's limits, folder, environment
    and log; any other kernel command is started under the same limits, without the debugger."""
    from course.grading import execute

    km = execute.LimitedKernelManager(kernel_name="python3")
    km.memory_limit_mb, km.file_size_limit_mb = 3000, 4
    km.kernel_id = None
    prov = zygote.provisioner(km)
    assert uuid.UUID(km.kernel_id) and prov.kernel_id == km.kernel_id and prov.parent is km
    assert prov.kernel_spec is km.kernel_spec
    named = execute.LimitedKernelManager(kernel_name="python3")
    named.kernel_id = "kernel-7"
    assert zygote.provisioner(named).kernel_id == "kernel-7"
    connection, ipython = tmp_path / "kernel.json", tmp_path / "ipython"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "IPYTHONDIR": str(ipython)}
    started = []
    try:
        with open(tmp_path / "kernel.log", "w") as log:
            info = run_async(prov.launch_kernel([sys.executable, "-m", "ipykernel_launcher", "-f", str(connection)],
                                                  env=env, cwd=str(tmp_path), stdout=log))
        kernel = prov.process
        started.append(kernel.pid)
        assert isinstance(kernel, zygote.ForkedProcess) and info == prov.connection_info
        assert prov.pid == prov.pgid == kernel.pid and prov.cwd == str(tmp_path)
        assert psutil.Process(kernel.pid).ppid() == zygote.current_pid()
        deadline = time.monotonic() + 30
        while not connection.exists() and time.monotonic() < deadline and not _gone(kernel.pid, 0):
            time.sleep(0.05)
        deadline = time.monotonic() + 5  # the kernel has started: its folder and log follow at once
        while not (ipython.is_dir() and (tmp_path / "kernel.log").stat().st_size) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _limit(kernel.pid, "Max address space") == str(3000 * MB)
        assert _limit(kernel.pid, "Max file size") == str(4 * MB)
        assert os.readlink(f"/proc/{kernel.pid}/cwd") == str(tmp_path)
        # its arguments (-f), environment (IPYTHONDIR) and log reached the kernel
        assert json.loads(connection.read_text())["key"]
        assert ipython.is_dir() and (tmp_path / "kernel.log").stat().st_size > 0

        (tmp_path / "sleeper.py").write_text("import sys, time\nopen('debugpy.txt', 'w').write("
                                             "repr(sys.modules.get('debugpy', 'absent')))\ntime.sleep(60)\n")
        other = zygote.provisioner(km)
        run_async(other.launch_kernel([sys.executable, "-m", "sleeper"], env=env, cwd=str(tmp_path)))
        started.append(other.process.pid)
        assert isinstance(other.process, subprocess.Popen) and other.pid == other.process.pid
        assert other.pgid == os.getpgid(other.process.pid) and other.cwd == str(tmp_path)
        deadline = time.monotonic() + 30
        while not (tmp_path / "debugpy.txt").exists() and time.monotonic() < deadline and not _gone(other.pid, 0):
            time.sleep(0.05)
        assert psutil.Process(other.pid).cmdline() == limits_command([sys.executable, "-m", "sleeper"], 3000, 4)
        assert _limit(other.pid, "Max address space") == str(3000 * MB)
        assert _limit(other.pid, "Max file size") == str(4 * MB)
        assert (tmp_path / "debugpy.txt").read_text() == "None"  # started without the debugger
        short = zygote.provisioner(km)
        run_async(short.launch_kernel([sys.executable, "-c", "import time; time.sleep(60)"], env=env,
                                        cwd=str(tmp_path)))
        started.append(short.process.pid)
        assert isinstance(short.process, subprocess.Popen)
        deadline = time.monotonic() + 30
        while "course.grading.limits" in " ".join(psutil.Process(short.pid).cmdline()) and time.monotonic() < deadline:
            time.sleep(0.05)  # until the launcher has set the limits and started the command
        assert psutil.Process(short.pid).cmdline() == [sys.executable, "-c", "import time; time.sleep(60)"]
        assert _limit(short.pid, "Max address space") == str(3000 * MB)
    finally:
        _kill(*started)
        zygote.close()


def limits_command(command: list[str], memory_mb: int, file_size_mb: int) -> list[str]:
    from course.grading import limits

    return limits.wrap(command, memory_mb, file_size_mb, debugger=False)


CAP_SYS_ADMIN = 21


def _drop_sys_admin() -> None:
    """This thread without CAP_SYS_ADMIN in effect (still permitted: _namespaces_put_back restores it)."""
    header, data = _CapHeader(0x20080522, 0), (_CapData * 2)()
    _check(LIBC.capget(ctypes.byref(header), data))
    data[0].effective &= ~(1 << CAP_SYS_ADMIN)
    _check(LIBC.capset(ctypes.byref(header), data))


def _serve_in_thread_talk(requests: list[dict], on_answer) -> list[dict]:
    """serve() on this thread for `requests`, a worker thread asking; `on_answer(i, answer)` runs in the
    worker after each answer. Returns the answers."""
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    answers, errors = [], []

    def worker():
        try:
            for i, request in enumerate(requests):
                os.write(in_w, (json.dumps(request) + "\n").encode())
                answers.append(json.loads(_read_line(out_r, 60, stop) or b'{"none": "no answer"}'))
                on_answer(i, answers[-1])
        except BaseException as err:  # noqa: BLE001
            errors.append(err)
        finally:
            os.close(in_w)

    stop = threading.Event()
    thread = threading.Thread(target=worker)
    thread.start()
    try:
        with os.fdopen(in_r) as stdin, os.fdopen(out_w, "w") as stdout, _zygote_stdio():
            gc.collect()
            assert zygote.serve(stdin, stdout) == 0
    finally:
        stop.set()
        thread.join(60)
        os.close(out_r)
    assert not errors, errors
    return answers


@needs_root
def test_serve_answers_a_sandboxed_kernel_by_its_pid_or_says_its_sandbox_failed(stage, serving):
    """A request with a stage is forked into new namespaces: the answer is the kernel's pid (not its
    parent's); when the namespaces cannot be made, the answer says the sandbox could not be made."""
    report = f"{stage.work}/seen.json"
    request = {"stage": f"{stage.view}/k1", "files": ["a.csv"], "cwd": str(stage.work),
               "env": {"MARK": "boxed", "HOME": str(stage.work), "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
               "argv": _kernel_argv(report), "uid": sandbox.UID_BASE + 4322, "memory_mb": 2900}
    seen = {}

    def look(i, answer):  # what the kernel sees, then stop it
        pid = answer.get("pid")
        try:
            seen["kernel"] = _wait_for(f"/proc/{pid}/root{report}", pid)
            seen["nspid"], seen["parent"] = _nspid(pid), psutil.Process(pid).ppid()
        finally:
            _kill(pid)

    with _namespaces_put_back():
        _show_stage(stage)
        _drop_sys_admin()  # no new namespaces can be made now
        failed = _serve_in_thread_talk([request], lambda i, answer: None)
    assert failed == [{"error": "the kernel's sandbox could not be made"}]
    with _namespaces_put_back():
        _show_stage(stage)
        answers = _serve_in_thread_talk([request], look)
    (answer,) = answers
    kernel = seen["kernel"]
    assert answer == {"pid": seen["nspid"][0]} and seen["nspid"][-1] == kernel["pid"] == 1
    assert kernel["uid"] == sandbox.UID_BASE + 4322 and kernel["env"]["MARK"] == "boxed"
    assert "JPY_PARENT_PID" not in kernel["env"]
    assert kernel["memory"] == [2900 * MB] * 2 and "a.csv" in kernel["work"]
    assert _gone(seen["parent"])  # its starter ended with it and was reaped or killed


@needs_fork
def test_the_zygote_finds_the_system_programs_when_the_worker_has_no_path(monkeypatch):
    """Without PATH in the worker's environment, the zygote (and so its kernels) still gets the system's."""
    monkeypatch.delenv("PATH", raising=False)
    starter = zygote.Zygote()
    try:
        deadline = time.monotonic() + 10
        while not psutil.Process(starter.proc.pid).cmdline() and time.monotonic() < deadline:
            time.sleep(0.01)
        env = _environ(starter.proc.pid)
    finally:
        starter.proc.kill()
        starter.proc.wait()
    assert env["PATH"] == "/usr/bin:/bin"


@needs_fork
def test_the_zygote_reads_its_requests_on_stdin_and_answers_on_stdout(monkeypatch, serving):
    """Run as `python -m course.grading.zygote`, serve() talks over its own standard input and output."""
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("{not json\n"))
    answers = io.StringIO()
    monkeypatch.setattr(sys, "stdout", answers)
    assert zygote.serve() == 0
    assert json.loads(answers.getvalue())["error"].startswith("JSONDecodeError: ")
