"""Run each student's kernel in a sandbox of its own (Linux, bubblewrap).

`available()` says whether the sandbox can be used here, and if not, why and what to do.
`SandboxProvisioner` is a jupyter_client kernel provisioner that starts the kernel with
`bwrap` (Debian/Ubuntu package `bubblewrap`; no daemon, no root needed). What the kernel sees:

- read-only: the system folders (/usr and the /bin, /lib... links), a few files of /etc that
  programs need (the library cache, time zone), the Python installation and its environment,
  the `course` package folder and the seeds digest it reads. Not the course folder: no
  gradebook, no nbgrader_config.py, no source notebooks, no other submissions;
- writable: its work folder `/grading/work` (its home and current folder, with `/tmp` pointing
  into it), a memory-backed folder bounded in size (`work_folder_mb`), holding read-only
  copies of the assignment's data files; it disappears with the kernel, so nothing it writes
  ever reaches the instructor's disk;
- no network: its own, empty network namespace (the loopback answers nothing). The grader
  talks to it over ZeroMQ `ipc` sockets in a second small folder, `/grading/run`, which the
  grader reaches through `/proc/<pid>/root`;
- its own process namespace and /proc: it sees only its own processes, nothing of the
  grader's (no `/proc/<pid>/environ` of the instructor's shell); when the kernel ends, the
  namespace ends and every process it started ends with it (`--die-with-parent` too);
- an environment built from an allow-list (`environment()`), never from the instructor's;
- limits (`course.grading.limits`): address space per process, file size, number of
  processes and threads; no core dumps. When the grader runs as root, the kernel runs under
  an unprivileged user id of its own, with every capability dropped.

Two ways to start a kernel so. As root (`preloaded_supported()`), each grading worker starts one
kernel starter (`course.grading.zygote`) inside a sandbox (`zygote_command`), with ipykernel,
pandas and the course's data loaded once; every kernel is forked from it into new mount, PID,
IPC and UTS namespaces and mounts its own /proc, work folder, run folder and /dev/shm before it
drops to its own user id (`zygote._private_sandbox`). Otherwise every kernel is one `bwrap`
command (`command`), Python started from scratch (about 0.5 s of CPU more per submission).
"""
from __future__ import annotations

import functools
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import deque
from pathlib import Path

WORK = "/grading/work"
RUN = "/grading/run"
STAGE = "/grading/stage"  # preloaded mode only: where the worker puts each kernel's files, read-only
UID_BASE = 1_900_000_000  # root only: each sandbox runs under a user id of its own from here
ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone", "alternatives", "fonts",
       "mime.types", "nsswitch.conf")
MIN_VERSION = (0, 5, 0)  # --size for --tmpfs
FIX = ("install bubblewrap (Debian/Ubuntu: `sudo apt-get install bubblewrap`; Fedora: `sudo dnf install "
       "bubblewrap`), or grade without a sandbox with `course grade autograde ASSIGNMENT --no-sandbox` "
       "(student code then runs as you; see exercises/README.md)")


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot be used on this machine; the message says why and what to do."""


# -- can we sandbox here? ------------------------------------------------------------------------------
def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def _version(path: str) -> tuple[int, ...]:
    done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
    found = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", done.stdout)
    return tuple(int(x or 0) for x in found.groups()) if found else (0,)


@functools.lru_cache(maxsize=1)
def available() -> tuple[bool, str]:
    """(True, "bubblewrap X.Y.Z") or (False, the reason and the fix)."""
    if not sys.platform.startswith("linux"):
        return False, f"the grading sandbox needs Linux (this is {sys.platform}); " + FIX.split(", or ", 1)[1]
    path = bwrap_path()
    if path is None:
        return False, "bubblewrap (`bwrap`) is not installed; " + FIX
    try:
        version = _version(path)
    except (OSError, subprocess.SubprocessError) as err:
        return False, f"`bwrap --version` failed ({err}); " + FIX
    shown = ".".join(map(str, version))
    if version < MIN_VERSION:
        return False, f"bubblewrap {shown} is too old (0.5 or later is needed); " + FIX
    probe = [path, *_unshare(), "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--size", "1048576",
             "--tmpfs", "/tmp", "--die-with-parent", "true"]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=20, env={"PATH": "/usr/bin:/bin"})
    except (OSError, subprocess.SubprocessError) as err:
        return False, f"bubblewrap {shown} could not start a sandbox ({err}); " + FIX
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return False, (f"bubblewrap {shown} could not start a sandbox here ({why}); user namespaces may be "
                       "disabled (sysctl kernel.unprivileged_userns_clone=1, or "
                       "kernel.apparmor_restrict_unprivileged_userns=0 on Ubuntu 24.04); or "
                       + FIX.split(", or ", 1)[1])
    return True, f"bubblewrap {shown}"


def _as_root() -> bool:
    return os.geteuid() == 0


def _unshare() -> list[str]:
    if _as_root():  # no user namespace: the kernel gets a real unprivileged user id instead (see limits)
        return ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
                "--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    return ["--unshare-all"]


# -- what the sandbox contains ------------------------------------------------------------------------------
def package_folders() -> list[str]:
    """The `course` package folder and the seeds digest it reads (never the repository around them)."""
    import course

    folders = [str(Path(course.__file__).resolve().parent)]
    try:
        from course import seeds

        seeds_dir = str(seeds.seeds_dir().resolve())
        if not seeds_dir.startswith(folders[0] + os.sep):
            folders.append(seeds_dir)
    except Exception:  # noqa: BLE001 - a course without seeds still grades
        pass
    return folders


def python_folders() -> list[str]:
    """The Python installation and environment the kernel runs with."""
    found = []
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}:
        path = str(Path(prefix).resolve())
        if path not in found and path not in ("/", "/usr"):
            found.append(path)
    executable = str(Path(sys.executable).resolve().parent.parent)
    if executable not in found and executable not in ("/", "/usr"):
        found.append(executable)
    return sorted(found)


def environment(extra: dict | None = None) -> dict[str, str]:
    """The kernel's whole environment (an allow-list: nothing of the instructor's passes but locale)."""
    from .execute import ONE_THREAD

    env = {"PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin", "HOME": WORK,
           "TMPDIR": f"{WORK}/.tmp", "TEMP": f"{WORK}/.tmp", "TMP": f"{WORK}/.tmp", "USER": "student",
           "LOGNAME": "student", "LANG": "C.UTF-8", "MPLBACKEND": "Agg", "MPLCONFIGDIR": f"{WORK}/.matplotlib",
           "COURSE_PROGRESS_FILE": f"{WORK}/course_progress.json", "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONNOUSERSITE": "1", "JUPYTER_PLATFORM_DIRS": "1",
           # the kernel imports the very `course` package that grades (the one bound read-only), never
           # another copy an editable install or a second checkout would point to
           "PYTHONPATH": str(Path(package_folders()[0]).parent)}
    for name in ("LANG", "LC_ALL", "LC_CTYPE", "TZ"):
        if os.environ.get(name) and re.fullmatch(r"[A-Za-z0-9_./:+-]{1,64}", os.environ[name]):
            env[name] = os.environ[name]
    for name in ONE_THREAD:
        env[name] = "1"
    env.update(extra or {})
    return env


def _ancestors(paths: list[str]) -> list[str]:
    out: list[str] = []
    for path in paths:
        parts = Path(path).parts
        for i in range(2, len(parts)):
            parent = str(Path(*parts[:i]))
            if parent not in out:
                out.append(parent)
    return out


def command(kernel_argv: list[str], *, connection_file: str, data_files: dict[str, str], info_fd: int,
            memory_mb: int, file_size_mb: int, processes: int, work_mb: int, uid: int | None,
            env: dict[str, str] | None = None) -> list[str]:
    """The `bwrap ...` command line that runs `kernel_argv` in the sandbox."""
    bwrap = bwrap_path()
    if bwrap is None:
        raise SandboxUnavailable(available()[1])
    args = _system(bwrap, _unshare(), info_fd, env)
    args += ["--dev", "/dev", "--size", str(16 * 2**20), "--perms", "01777", "--tmpfs", "/dev/shm",
             "--proc", "/proc", "--perms", "0755", "--dir", "/grading",
             "--size", str(max(1, work_mb) * 2**20), "--perms", "01777", "--tmpfs", WORK,
             "--perms", "01777", "--dir", f"{WORK}/.tmp", *_tmp_link(),
             "--size", str(2**20), "--perms", "01777", "--tmpfs", RUN,
             "--ro-bind", connection_file, f"{RUN}/kernel.json"]
    # a data file in a subfolder: make each folder on its way readable (as root bwrap would make them 0700);
    # sorted, a folder comes before the folders inside it
    for folder in sorted({str(parent) for name in data_files for parent in Path(name).parents} - {"."}):
        args += ["--perms", "0755", "--dir", f"{WORK}/{folder}"]
    for name, source in sorted(data_files.items()):
        args += ["--ro-bind", source, f"{WORK}/{name}"]
    args += ["--chdir", WORK, "--"]
    python = kernel_argv[0]
    launcher = [python, "-m", "course.grading.limits", "--memory-mb", str(memory_mb), "--file-size-mb",
                str(file_size_mb), "--processes", str(processes), "--no-debugger"]
    if uid is not None:
        launcher += ["--uid", str(uid)]
    return args + launcher + ["--", *kernel_argv]


def zygote_command(stage: str, info_fd: int) -> list[str]:
    """`bwrap ...` for a worker's kernel starter (`course.grading.zygote`) inside the sandbox: the same
    read-only system, no network; each kernel it forks then gets new namespaces, its own /proc, work
    folder and user id (`zygote._private_sandbox`). Root only: making those needs CAP_SYS_ADMIN,
    which only the starter keeps."""
    bwrap = bwrap_path()
    if bwrap is None:
        raise SandboxUnavailable(available()[1])
    unshare = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
               "--cap-drop", "ALL", "--cap-add", "CAP_SYS_ADMIN", "--cap-add", "CAP_SETUID",
               "--cap-add", "CAP_SETGID"]
    args = _system(bwrap, unshare, info_fd, environment({"HOME": "/", "TMPDIR": "/"}))
    args += ["--dev", "/dev", "--proc", "/proc", "--perms", "0755", "--dir", "/grading",
             "--perms", "0755", "--dir", WORK, "--perms", "0755", "--dir", RUN,
             *_tmp_link(), "--ro-bind", stage, STAGE, "--chdir", "/", "--",
             sys.executable, "-m", "course.grading.zygote"]
    return args


def preloaded_supported() -> bool:
    """Kernels can be forked inside the sandbox from a preloaded starter (root, Linux)."""
    return _as_root() and sys.platform.startswith("linux") and available()[0]


def _tmp_link() -> list[str]:
    """`/tmp` in the sandbox points into the work folder, unless the Python environment or the
    package lives under the host's /tmp (a checkout or venv there, as in a CI clone): then /tmp
    holds those read-only folders, and TMPDIR (set in `environment`) still sends temporary files
    to the work folder."""
    inside_tmp = [p for p in python_folders() + package_folders() if p == "/tmp" or p.startswith("/tmp/")]
    return [] if inside_tmp else ["--symlink", f"{WORK}/.tmp", "/tmp"]


def _system(bwrap: str, unshare: list[str], info_fd: int, env: dict | None) -> list[str]:
    """The part of a sandbox every kernel shares: namespaces, environment, the read-only system."""
    read_only = python_folders() + package_folders()
    for path in read_only:
        if path == "/grading" or path.startswith("/grading/"):
            raise SandboxUnavailable(f"{path} is inside the sandbox's own /grading folder; move it")
    args = [bwrap, *unshare, "--die-with-parent", "--new-session", "--clearenv", "--info-fd", str(info_fd)]
    for name, value in sorted((env if env is not None else environment()).items()):
        args += ["--setenv", name, value]
    args += ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    # as root, bwrap would make /etc 0700, and the kernel's own user id could not read what is bound in it
    args += ["--perms", "0755", "--dir", "/etc"]
    for name in ETC:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    for folder in _ancestors(read_only):
        if folder not in ("/usr",) and not folder.startswith("/usr/"):
            args += ["--perms", "0755", "--dir", folder]
    for path in read_only:
        args += ["--ro-bind", path, path]
    return args


# -- the provisioner -----------------------------------------------------------------------------------------
def _provisioner_class():
    from jupyter_client.provisioning import LocalProvisioner

    class SandboxProvisioner(LocalProvisioner):
        """jupyter_client's LocalProvisioner, starting the kernel inside bubblewrap."""

        log_tail: deque

        async def launch_kernel(self, cmd, **kwargs):
            return _launch(self, cmd, kwargs)

        async def cleanup(self, restart: bool = False) -> None:
            await super().cleanup(restart=restart)
            if not restart:
                _remove_staged(self)

    return SandboxProvisioner


def _launch(prov, cmd, kwargs) -> dict:
    """The provisioner's `launch_kernel`: start `cmd` in a sandbox of its own (module level, so that
    each step can be tested on its own)."""
    km = prov.parent
    folder = Path(km.sandbox_folder)
    info = dict(prov.connection_info)
    inside = dict(info, ip=f"{RUN}/kernel", transport="ipc")
    inside["key"] = info["key"].decode() if isinstance(info["key"], bytes) else info["key"]
    conn = folder / "kernel.json"
    conn.write_text(json.dumps(inside), encoding="utf-8")
    conn.chmod(0o644)
    argv = list(cmd)
    if "-f" in argv:
        argv[argv.index("-f") + 1] = f"{RUN}/kernel.json"
    if len(argv) > 2 and argv[1:3] == ["-m", "ipykernel_launcher"]:
        argv[0] = sys.executable
    if km.sandbox_preloaded and len(argv) > 2 and argv[1:3] == ["-m", "ipykernel_launcher"]:
        return _launch_preloaded(prov, km, argv, info, kwargs)
    data = stage_data_files(km.sandbox_data, folder / "data")
    processes = km.processes_limit
    if not _as_root() and _kernel_version() < (5, 14) and processes:  # older kernels count all of ours
        processes += _my_process_count()
    info_r, info_w = os.pipe()
    log_r, log_w = os.pipe()
    full = command(argv, connection_file=str(conn), data_files=data, info_fd=info_w,
                   memory_mb=km.memory_limit_mb, file_size_mb=km.file_size_limit_mb, processes=processes,
                   work_mb=km.work_folder_mb, uid=(UID_BASE + os.getpid() % 100_000) if _as_root() else None)
    try:
        prov.process = subprocess.Popen(full, pass_fds=[info_w], stdin=subprocess.DEVNULL, stdout=log_w,
                                        stderr=log_w, env={"PATH": "/usr/bin:/bin"}, start_new_session=True,
                                        cwd=str(folder))
    finally:
        os.close(info_w)
        os.close(log_w)
    prov.log_tail = deque(maxlen=200)
    threading.Thread(target=_drain, args=(log_r, prov.log_tail), daemon=True).start()
    child = _read_info(info_r, prov.process)
    km.sandbox_log = prov.log_tail
    prov.pid = prov.pgid = prov.process.pid
    prov.cwd = kwargs.get("cwd")
    prov.connection_info = dict(info, ip=f"/proc/{child}/root{RUN}/kernel", transport="ipc")
    return prov.connection_info


def _launch_preloaded(prov, km, argv, info, kwargs) -> dict:
    """Root: fork the kernel from the worker's sandboxed kernel starter, its files staged for it."""
    from . import zygote

    starter = zygote.sandboxed_zygote()
    kid = Path(km.sandbox_folder).name
    stage = Path(starter.stage) / kid
    stage.mkdir()
    shutil.copyfile(Path(km.sandbox_folder) / "kernel.json", stage / "kernel.json")
    files = stage_data_files(km.sandbox_data, stage / "data")
    prov._stage = stage
    prov.log_tail = deque(maxlen=1)
    km.sandbox_log = prov.log_tail
    prov.process = starter.spawn(argv[3:], cwd=WORK, env=environment(), memory_mb=km.memory_limit_mb,
                                 file_size_mb=km.file_size_limit_mb, processes=km.processes_limit,
                                 uid=UID_BASE + os.getpid() % 100_000, work_mb=km.work_folder_mb,
                                 stage=f"{STAGE}/{kid}", files=sorted(files))
    prov.pid = prov.pgid = prov.process.pid
    prov.cwd = kwargs.get("cwd")
    prov.connection_info = dict(info, ip=f"/proc/{prov.process.pid}/root{RUN}/kernel", transport="ipc")
    return prov.connection_info


def _remove_staged(prov) -> None:
    """After the kernel (not on a restart): its staged data files and preloaded-mode stage go."""
    shutil.rmtree(Path(prov.parent.sandbox_folder) / "data", ignore_errors=True)
    if getattr(prov, "_stage", None) is not None:
        shutil.rmtree(prov._stage, ignore_errors=True)


def _drain(fd: int, tail: deque) -> None:
    """Read the sandbox's own output (the kernel's stderr), keeping only its last lines in memory."""
    rest = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()[-2000:]
        for line in lines[-200:]:
            tail.append(line[:2000].decode("utf-8", "replace"))
    if rest:
        tail.append(rest.decode("utf-8", "replace"))
    os.close(fd)


def _read_info(fd: int, process) -> int:
    """The sandbox's first process id (bwrap's --info-fd), waiting at most 20 s."""
    data = b""
    try:
        while b"}" not in data:
            ready, _, _ = select.select([fd], [], [], 20)
            if not ready:
                raise RuntimeError("the sandbox did not start within 20 s")
            chunk = os.read(fd, 4096)
            if not chunk:
                process.wait(timeout=5)
                raise RuntimeError(f"the sandbox could not start (bwrap exit code {process.returncode})")
            data += chunk
    finally:
        os.close(fd)
    return int(json.loads(data[:data.index(b"}") + 1])["child-pid"])


def _kernel_version() -> tuple[int, int]:
    found = re.match(r"(\d+)\.(\d+)", os.uname().release)
    return (int(found.group(1)), int(found.group(2))) if found else (0, 0)


def _my_process_count() -> int:
    import psutil

    me = os.getuid()
    count = 0
    for proc in psutil.process_iter(["uids", "num_threads"]):
        try:
            if proc.info["uids"] and proc.info["uids"].real == me:
                count += proc.info["num_threads"] or 1
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return count


def stage_data_files(source: str | None, staging: Path, max_files: int = 200,
                     max_bytes: int = 50 * 2**20) -> dict[str, str]:
    """Copy the assignment's data files (everything but notebooks) for the sandbox; return name -> copy."""
    staging.mkdir(parents=True, exist_ok=True)
    staging.chmod(0o755)
    found: dict[str, str] = {}
    if not source or not os.path.isdir(source):
        return found
    for path in sorted(Path(source).rglob("*")):
        if len(found) >= max_files:
            break
        if path.is_symlink() or not path.is_file() or path.suffix == ".ipynb" or path.stat().st_size > max_bytes:
            continue
        rel = path.relative_to(source)
        if any(part.startswith(".") for part in rel.parts):
            continue
        target = staging / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        target.chmod(0o644)
        for parent in target.parents:
            if parent == staging:
                break
            parent.chmod(0o755)
        found[rel.as_posix()] = str(target)
    return found


def provisioner(km):
    """A SandboxProvisioner for kernel manager `km` (set before the kernel starts)."""
    import uuid

    km.kernel_id = km.kernel_id or str(uuid.uuid4())
    return _provisioner_class()(kernel_id=km.kernel_id, kernel_spec=km.kernel_spec, parent=km)


def new_folder() -> str:
    """A private host folder for one sandbox's connection file and staged data (removed by the caller)."""
    return tempfile.mkdtemp(prefix="course-sandbox-")
