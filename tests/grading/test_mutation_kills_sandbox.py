"""What a student's code can and cannot reach in the grading sandbox (issue 20: course/grading/sandbox.py).

Most tests run the very `bwrap` command line the module builds, with a small Python probe in place
of the kernel, and assert what the sandboxed process sees: its environment (no secret of the
instructor's), which folders are read-only (the course package, the Python installation, the
system), which are writable (only the bounded work folder), the staged data files, no network,
its own process namespace, its user id and limits. Kernels are also started for real through the
provisioner, plain and (as root) forked from the sandboxed kernel starter. A few cheap tests read
the argument lists directly where a real run cannot show a difference on this machine.
"""
from __future__ import annotations

import json
import os
import select
import socket
import stat
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

import psutil
import pytest
from grading_helpers import run_async

import course
from course.grading import execute, sandbox, zygote

pytestmark = [pytest.mark.skipif(not sandbox.available()[0], reason=f"no sandbox here: {sandbox.available()[1]}"),
              pytest.mark.usefixtures("no_hang")]  # conftest.py

AS_ROOT = os.geteuid() == 0
UID = sandbox.UID_BASE + 4242 if AS_ROOT else None
MB = 2**20
COURSE_DIR = str(Path(course.__file__).resolve().parent)
HOME_FILE = str(Path.home() / ".bash_history")  # a file of the grader's home: never visible inside

# the probe run in place of the kernel: reports what it can see and do, as one JSON line
PROBE = r'''
import errno, getpass, json, os, resource, socket, sys, tempfile
spec = json.loads(sys.argv[1])
out = {"env": dict(os.environ), "uid": os.getuid(), "cwd": os.getcwd(), "home": os.path.expanduser("~"),
       "tempdir": tempfile.gettempdir(), "user": getpass.getuser(),
       "no_bytecode": sys.flags.dont_write_bytecode, "no_user_site": sys.flags.no_user_site,
       "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit())}
for line in open("/proc/self/status"):
    if line.startswith(("CapEff:", "NoNewPrivs:")):
        out[line.split(":")[0]] = int(line.split()[1], 16)
out["limits"] = {name: resource.getrlimit(getattr(resource, "RLIMIT_" + name))[0]
                 for name in ("AS", "FSIZE", "NPROC", "CORE")}
out["write"] = {}
for path in spec.get("write", []):
    target = os.path.join(path, ".probe-write") if os.path.isdir(path) else path
    try:
        with open(target, "a") as handle:
            handle.write("x")
        out["write"][path] = "written"
        if target != path:
            os.remove(target)
    except OSError as err:
        out["write"][path] = errno.errorcode.get(err.errno, str(err.errno))
out["exists"] = {path: os.path.lexists(path) for path in spec.get("exist", [])}
out["read"] = {}
for path in spec.get("read", []):
    try:
        out["read"][path] = open(path).read()
    except OSError as err:
        out["read"][path] = "error " + errno.errorcode.get(err.errno, "")
out["list"] = {}
for path in spec.get("list", []):
    try:
        out["list"][path] = sorted(os.listdir(path))
    except OSError as err:
        out["list"][path] = "error " + errno.errorcode.get(err.errno, "")
out["mode"] = {}
out["size"] = {}
for path in spec.get("stat", []):
    out["mode"][path] = oct(os.stat(path).st_mode & 0o7777)
    fs = os.statvfs(path)
    out["size"][path] = fs.f_blocks * fs.f_frsize
out["links"] = {path: os.readlink(path) for path in spec.get("links", []) if os.path.islink(path)}
if "port" in spec:
    try:
        socket.create_connection(("127.0.0.1", spec["port"]), 2).close()
        out["network"] = "connected"
    except OSError as err:
        out["network"] = errno.errorcode.get(err.errno, str(err))
print(json.dumps(out))
'''


def test_the_sandboxed_python_imports_the_course_package_that_grades():
    """The folder holding the bound `course` package comes first on the kernel's path, so a second copy
    (an editable install pointing elsewhere, another checkout) never replaces it: that copy is not in
    the sandbox, and the kernel would fail with "No module named 'course.grading'"."""
    assert sandbox.environment()["PYTHONPATH"] == str(Path(COURSE_DIR).parent)
    assert sandbox.package_folders()[0] == COURSE_DIR


def _run(argv: list[str]) -> tuple[dict, dict]:
    """Run a bwrap command line whose --info-fd is the placeholder 99; (probe report, bwrap's info)."""
    read, write = os.pipe()
    try:
        argv = [str(write) if a == "99" and argv[i - 1] == "--info-fd" else a for i, a in enumerate(argv)]
        done = subprocess.run(argv, pass_fds=[write], capture_output=True, text=True, timeout=15,
                              env={"PATH": "/usr/bin:/bin"})
    finally:
        os.close(write)
    with os.fdopen(read, "rb") as handle:
        info = json.loads(handle.read() or b"{}")
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), info


def sandboxed(tmp_path: Path, spec: dict, data_files: dict | None = None, **limits) -> dict:
    """Run the probe through sandbox.command, as a kernel would be run."""
    conn = tmp_path / "kernel.json"
    conn.write_text(json.dumps({"key": "the-connection-key"}))
    conn.chmod(0o644)
    settings = {"memory_mb": 512, "file_size_mb": 4, "processes": 32, "work_mb": 3, "uid": UID, **limits}
    argv = sandbox.command([sys.executable, "-c", PROBE, json.dumps(spec)], connection_file=str(conn),
                           data_files=data_files or {}, info_fd=99, **settings)
    report, info = _run(argv)
    assert info["child-pid"] > 0  # bwrap reported the sandbox's first process (how the grader finds it)
    return report


def _expected_root() -> set[str]:
    """What the sandbox's / may hold: the system, its own folders, and the top of each read-only folder."""
    system = {name for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32") if os.path.lexists(f"/{name}")}
    tops = {Path(p).parts[1] for p in sandbox.python_folders() + sandbox.package_folders()}
    return system | tops | {"usr", "etc", "dev", "proc", "grading", "tmp"}


def _owner(path: str) -> int:
    return os.stat(path).st_uid if os.path.exists(path) else 0


def _data_folder(tmp_path: Path) -> Path:
    data = tmp_path / "assignment"
    (data / "sub").mkdir(parents=True)
    (data / "casualties.csv").write_text("year,count\n1992,100\n")
    (data / "sub" / "talks.json").write_text('{"round": 1}')
    (data / "assignment.ipynb").write_text("{}")
    (data / ".hidden").write_text("secret")
    return data


# -- the sandboxed process, run for real ----------------------------------------------------------------
def test_the_sandbox_gets_only_the_allow_listed_environment_never_the_instructors_secrets(tmp_path, monkeypatch):
    """A token or password in the grader's environment must never reach student code."""
    monkeypatch.setenv("GITHUB_TOKEN", "ghp-secret-token")
    monkeypatch.setenv("DATABASE_URL", "postgres://admin:pw@db/grades")
    monkeypatch.setenv("TZ", "Asia/Yerevan")
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8; curl evil")  # not a locale name: dropped
    monkeypatch.delenv("LANG", raising=False)
    seen = sandboxed(tmp_path, {})
    env = seen["env"]
    assert "ghp-secret-token" not in json.dumps(seen) and "GITHUB_TOKEN" not in env and "DATABASE_URL" not in env
    assert env["TZ"] == "Asia/Yerevan" and "LC_ALL" not in env and env["LANG"] == "C.UTF-8"
    # home, temporary files, matplotlib and progress all land in the bounded work folder
    assert seen["home"] == seen["cwd"] == sandbox.WORK
    assert seen["tempdir"] == f"{sandbox.WORK}/.tmp"
    assert env["TEMP"] == env["TMP"] == env["TMPDIR"] == f"{sandbox.WORK}/.tmp"
    assert env["MPLCONFIGDIR"] == f"{sandbox.WORK}/.matplotlib" and env["MPLBACKEND"] == "Agg"
    assert env["COURSE_PROGRESS_FILE"] == f"{sandbox.WORK}/course_progress.json"
    assert seen["user"] == env["USER"] == env["LOGNAME"] == "student"  # not the instructor's name
    assert seen["no_bytecode"] == 1 and seen["no_user_site"] == 1  # no writes beside the code, no ~/.local
    assert env["JUPYTER_PLATFORM_DIRS"] == "1"
    assert env["PATH"].split(":") == [str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]
    for name in execute.ONE_THREAD:
        assert env[name] == "1", name  # one thread each: the process limit is not eaten by BLAS pools
    assert set(env) - {"PWD"} == set(sandbox.environment())  # --clearenv: nothing else


def test_the_course_python_and_system_are_read_only_and_only_the_work_folder_is_writable(tmp_path):
    """Student code cannot change the grader's code, its Python or the system; it writes only in its work folder."""
    data = sandbox.stage_data_files(str(_data_folder(tmp_path)), tmp_path / "staged")
    read_only = [COURSE_DIR, *sandbox.python_folders(), "/usr",
                 f"{sandbox.WORK}/casualties.csv", f"{sandbox.WORK}/sub/talks.json", f"{sandbox.RUN}/kernel.json"]
    writable = [sandbox.WORK, f"{sandbox.WORK}/.tmp", sandbox.RUN, "/dev/shm"]
    in_tmp = f"/tmp/course-probe-{os.getpid()}-{time.monotonic_ns()}"
    seen = sandboxed(tmp_path, {"write": read_only + writable + [in_tmp],
                                "read": [f"{sandbox.WORK}/casualties.csv", f"{sandbox.RUN}/kernel.json"],
                                "list": [sandbox.WORK, str(Path(COURSE_DIR).parent), "/"],
                                "exist": ["/etc/shadow", "/etc/passwd", "/bin/sh", "/lib", HOME_FILE,
                                          "/dev/null", "/dev/urandom"]},
                     data_files=data, uid=None)  # no user switch: the files' owner meets the read-only mount
    writes = seen["write"]
    for path in read_only:  # a folder we do not own may refuse on permissions first (without root)
        assert writes[path] == "EROFS" or (writes[path] == "EACCES" and _owner(path) != os.getuid()), path
    assert {path: writes[path] for path in writable} == dict.fromkeys(writable, "written")
    assert not Path(in_tmp).exists()  # whatever /tmp is inside, it is not the host's
    if sandbox._tmp_link():
        assert writes[in_tmp] == "written"  # /tmp is the work folder's
    assert seen["read"][f"{sandbox.WORK}/casualties.csv"] == "year,count\n1992,100\n"
    assert json.loads(seen["read"][f"{sandbox.RUN}/kernel.json"]) == {"key": "the-connection-key"}
    # the staged data files (not the notebook, not hidden files) and nothing else
    assert seen["list"][sandbox.WORK] == [".tmp", "casualties.csv", "sub"]
    # around the course package: no gradebook, no nbgrader_config.py, no submissions
    around = seen["list"][str(Path(COURSE_DIR).parent)]
    assert "course" in around and not {"nbgrader_config.py", "gradebook.db", "exercises", "tests"} & set(around)
    assert set(seen["list"]["/"]) == _expected_root()  # no /home, nothing of the machine's own
    assert seen["exists"] == {"/etc/shadow": False, "/etc/passwd": False, "/bin/sh": True, "/lib": True,
                              HOME_FILE: False, "/dev/null": True, "/dev/urandom": True}


def test_the_system_files_programs_need_are_there_and_nothing_else_of_etc(tmp_path):
    """Time zone, library cache, fonts... are visible when the machine has them; the rest of /etc is not."""
    names = sorted(set(os.listdir("/etc")) - set(sandbox.ETC))[:20]
    seen = sandboxed(tmp_path, {"exist": [f"/etc/{name}" for name in (*sandbox.ETC, *names)]}, uid=None)
    for name in sandbox.ETC:
        assert seen["exists"][f"/etc/{name}"] == os.path.lexists(f"/etc/{name}"), name
    assert not any(seen["exists"][f"/etc/{name}"] for name in names)


def test_the_kernels_own_user_can_read_the_etc_files_and_nested_data_files(tmp_path):
    """The time zone, the library cache and a data file in a subfolder must be readable by the kernel itself
    (as root, bwrap made /etc and a data file's folder 0700, closed to the kernel's own user id)."""
    data = sandbox.stage_data_files(str(_data_folder(tmp_path)), tmp_path / "staged")
    wanted = [f"/etc/{name}" for name in sandbox.ETC if os.path.exists(f"/etc/{name}")]
    seen = sandboxed(tmp_path, {"exist": wanted, "read": [f"{sandbox.WORK}/sub/talks.json"]}, data_files=data)
    assert seen["read"][f"{sandbox.WORK}/sub/talks.json"] == '{"round": 1}'
    assert seen["exists"] == dict.fromkeys(wanted, True)


def test_the_folders_of_the_sandbox_have_their_sizes_and_permissions(tmp_path):
    """The work folder is bounded (a full disk stays the student's problem); shared folders are sticky."""
    work = f"{sandbox.WORK}/.tmp"
    seen = sandboxed(tmp_path, {"stat": [sandbox.WORK, work, sandbox.RUN, "/dev/shm", "/grading",
                                         str(Path(COURSE_DIR).parent)],
                                "links": ["/tmp"]}, work_mb=3)
    assert seen["size"][sandbox.WORK] == 3 * MB
    assert seen["size"][sandbox.RUN] == MB
    assert seen["size"]["/dev/shm"] == 16 * MB
    assert seen["mode"] == {sandbox.WORK: "0o1777", work: "0o1777", sandbox.RUN: "0o1777", "/dev/shm": "0o1777",
                            "/grading": "0o755", str(Path(COURSE_DIR).parent): "0o755"}
    assert seen["links"] == ({"/tmp": work} if sandbox._tmp_link() else {})
    tiny = sandboxed(tmp_path, {"stat": [sandbox.WORK]}, work_mb=0)
    assert tiny["size"][sandbox.WORK] == MB  # at least 1 MB, never an unbounded tmpfs


def test_the_sandbox_has_no_network_and_sees_only_its_own_processes(tmp_path):
    """A student cannot reach a service of the grading machine, nor read the grader's processes."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    try:
        seen = sandboxed(tmp_path, {"port": server.getsockname()[1]})
        with pytest.raises(socket.timeout):
            server.accept()
    finally:
        server.close()
    assert seen["network"] in ("ECONNREFUSED", "ENETUNREACH")
    assert len(seen["pids"]) <= 3  # bwrap's init, the launcher turned probe; not the grader's


def test_the_kernel_runs_under_its_own_user_and_limits_with_no_capabilities(tmp_path):
    """Memory, file size and process limits apply, and as root the kernel is an unprivileged user."""
    seen = sandboxed(tmp_path, {"write": ["/", "/grading", "/etc"]}, memory_mb=700, file_size_mb=3, processes=25)
    assert seen["limits"] == {"AS": 700 * MB, "FSIZE": 3 * MB, "NPROC": 25, "CORE": 0}
    assert seen["NoNewPrivs"] == 1  # no set-uid program can give privileges back
    if AS_ROOT:
        assert seen["uid"] == UID
        assert seen["CapEff"] == 0
        assert seen["write"] == {"/": "EACCES", "/grading": "EACCES", "/etc": "EACCES"}
    else:
        assert seen["uid"] == os.getuid()


def test_the_kernel_starter_sandbox_keeps_only_what_forking_kernels_needs(tmp_path):
    """zygote_command: same read-only system and no network; CAP_SYS_ADMIN kept for the kernels' own mounts."""
    if not AS_ROOT:
        pytest.skip("the preloaded kernel starter is used only as root")
    stage = tmp_path / "stage"
    stage.mkdir()
    (stage / "marker").write_text("staged")
    stage.chmod(0o755)
    argv = sandbox.zygote_command(str(stage), 99)
    assert argv[-3:] == [sys.executable, "-m", "course.grading.zygote"]
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    try:
        spec = {"write": [sandbox.STAGE, f"{sandbox.STAGE}/marker", COURSE_DIR, "/usr"],
                "read": [f"{sandbox.STAGE}/marker"], "list": [sandbox.WORK, sandbox.RUN, "/"],
                "stat": ["/grading", sandbox.WORK, sandbox.RUN], "links": ["/tmp"],
                "port": server.getsockname()[1]}
        seen, info = _run(argv[:-2] + ["-c", PROBE, json.dumps(spec)])
    finally:
        server.close()
    assert info["child-pid"] > 0
    assert seen["read"][f"{sandbox.STAGE}/marker"] == "staged"
    assert seen["write"] == {sandbox.STAGE: "EROFS", f"{sandbox.STAGE}/marker": "EROFS", COURSE_DIR: "EROFS",
                             "/usr": "EROFS"}
    assert seen["list"].pop("/") == sorted(_expected_root())
    assert seen["list"] == {sandbox.WORK: [], sandbox.RUN: []}  # mount points for each kernel's own folders
    assert seen["mode"] == {"/grading": "0o755", sandbox.WORK: "0o755", sandbox.RUN: "0o755"}
    assert seen["links"] == ({"/tmp": f"{sandbox.WORK}/.tmp"} if sandbox._tmp_link() else {})
    assert seen["network"] in ("ECONNREFUSED", "ENETUNREACH")
    assert seen["cwd"] == "/" and seen["env"]["HOME"] == "/" and seen["env"]["TMPDIR"] == "/"
    assert "GITHUB_TOKEN" not in seen["env"] and seen["env"]["USER"] == "student"
    assert seen["CapEff"] == (1 << 21) | (1 << 7) | (1 << 6)  # SYS_ADMIN, SETUID, SETGID: nothing else
    assert len(seen["pids"]) <= 3


# -- the argument lists, where a real run cannot show the difference here ---------------------------------
def test_without_bwrap_the_commands_refuse_and_say_how_to_fix_it(tmp_path, monkeypatch):
    """No bubblewrap: grading stops with the install command, never runs student code unsandboxed."""
    monkeypatch.setenv("PATH", str(tmp_path))
    sandbox.available.cache_clear()
    try:
        assert sandbox.bwrap_path() is None
        with pytest.raises(sandbox.SandboxUnavailable, match="not installed.*apt-get install bubblewrap"):
            sandbox.command([sys.executable], connection_file="c", data_files={}, info_fd=3, memory_mb=1,
                            file_size_mb=1, processes=1, work_mb=1, uid=None)
        with pytest.raises(sandbox.SandboxUnavailable, match="not installed.*--no-sandbox"):
            sandbox.zygote_command(str(tmp_path), 3)
        assert not sandbox.preloaded_supported()
    finally:
        sandbox.available.cache_clear()


def test_a_folder_inside_the_sandboxs_own_grading_folder_is_refused(monkeypatch):
    """Binding a course under /grading would hide or clash with the kernel's work folder."""
    for inside in ("/grading", "/grading/course"):
        monkeypatch.setattr(sandbox, "package_folders", lambda inside=inside: [inside])
        with pytest.raises(sandbox.SandboxUnavailable, match=f"^{inside} is inside .*; move it$"):
            sandbox._system("/usr/bin/bwrap", [], 3, {})
    monkeypatch.setattr(sandbox, "package_folders", lambda: ["/gradings/course"])
    assert "/gradings/course" in sandbox._system("/usr/bin/bwrap", [], 3, {})


def test_no_folder_is_made_inside_the_read_only_usr(monkeypatch):
    """A Python under /usr/local needs no parent folders made (bwrap cannot create them in the read-only /usr)."""
    monkeypatch.setattr(sandbox, "python_folders", lambda: ["/usr/local/lib/py", "/opt/venv"])
    monkeypatch.setattr(sandbox, "package_folders", lambda: ["/srv/c/course"])
    args = sandbox._system("/usr/bin/bwrap", ["--unshare-all"], 7, {"A": "1"})
    made = [args[i + 1] for i, a in enumerate(args) if a == "--dir"]
    assert made == ["/etc", "/opt", "/srv", "/srv/c"]  # /etc: made readable for the kernel, see above
    assert all(args[i - 2:i] == ["--perms", "0755"] for i, a in enumerate(args) if a == "--dir")
    binds = [args[i + 1] for i, a in enumerate(args) if a == "--ro-bind"]
    assert binds[-3:] == ["/usr/local/lib/py", "/opt/venv", "/srv/c/course"]
    assert args[:8] == ["/usr/bin/bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--clearenv",
                        "--info-fd", "7", "--setenv"]


def test_tmp_is_left_alone_when_a_read_only_folder_is_tmp_itself(monkeypatch):
    monkeypatch.setattr(sandbox, "python_folders", lambda: ["/tmp"])
    monkeypatch.setattr(sandbox, "package_folders", lambda: ["/srv/course/course"])
    assert sandbox._tmp_link() == []  # a symlink cannot replace the bound folder


def test_a_given_environment_replaces_the_default_one():
    args = sandbox.command([sys.executable], connection_file="c", data_files={}, info_fd=3, memory_mb=1,
                           file_size_mb=1, processes=1, work_mb=1, uid=None, env={"ONLY": "this"})
    assert [args[i + 1:i + 3] for i, a in enumerate(args) if a == "--setenv"] == [["ONLY", "this"]]


def _fake_bwrap(tmp_path: Path, version_line: str) -> str:
    fake = tmp_path / "bwrap"
    fake.write_text(f"#!/bin/sh\necho '{version_line}'\n")
    fake.chmod(0o755)
    return str(fake)


def test_the_bubblewrap_version_is_read_from_its_output(tmp_path):
    """The version decides whether --size works (0.5+); a missing patch number counts as 0."""
    assert sandbox._version(_fake_bwrap(tmp_path, "bubblewrap 0.11")) == (0, 11, 0)
    assert sandbox._version(_fake_bwrap(tmp_path, "bubblewrap 0.4.1")) == (0, 4, 1)
    assert sandbox._version(_fake_bwrap(tmp_path, "bubblewrap, version unknown")) == (0,)
    assert sandbox._version(sandbox.bwrap_path()) >= sandbox.MIN_VERSION


def test_without_a_merged_usr_the_real_system_folders_are_bound_read_only(monkeypatch):
    """A fake file system (this machine merges /usr: /bin, /lib... are links): real folders are bound as they are."""
    real = {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}
    is_symlink, is_dir = Path.is_symlink, Path.is_dir
    monkeypatch.setattr(Path, "is_symlink", lambda self: False if str(self) in real else is_symlink(self))
    monkeypatch.setattr(Path, "is_dir", lambda self: True if str(self) in real else is_dir(self))
    args = sandbox._system("/usr/bin/bwrap", ["--unshare-all"], 3, {})
    assert args[:2] == ["/usr/bin/bwrap", "--unshare-all"]
    triples = [args[i:i + 3] for i in range(len(args) - 2)]
    assert all(["--ro-bind", folder, folder] in triples for folder in real)
    assert not [t for t in triples if t[0] == "--symlink" and t[2] in real]


def test_parent_folders_are_listed_once_each_outermost_first():
    assert sandbox._ancestors(["/a/b/c", "/a/b/d", "/x", "/a/e/f"]) == ["/a", "/a/b", "/a/e"]
    assert sandbox._ancestors(["/"]) == []


def test_as_root_the_namespaces_are_unshared_without_a_user_namespace(monkeypatch):
    """Root gets a real unprivileged user id instead of a user namespace; others get --unshare-all."""
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert sandbox._unshare() == ["--unshare-all"]
    assert not sandbox._as_root()
    assert not sandbox.preloaded_supported()  # forking kernels in the sandbox needs root
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert sandbox._as_root()
    unshare = sandbox._unshare()
    assert "--unshare-all" not in unshare and "--cap-drop" in unshare
    assert {"--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"} <= set(unshare)


def test_preloaded_kernels_need_root_linux_and_a_working_sandbox(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert sandbox.preloaded_supported()
    monkeypatch.setattr(sys, "platform", "darwin")
    assert not sandbox.preloaded_supported()
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(sandbox, "available", lambda: (False, "no"))
    assert not sandbox.preloaded_supported()


def test_the_environment_keeps_only_plain_locale_and_time_zone_values(monkeypatch):
    """Locale values pass only when they are plain names (1 to 64 safe characters)."""
    monkeypatch.setenv("LANG", "hy_AM.UTF-8")
    monkeypatch.setenv("LC_CTYPE", "C")
    monkeypatch.setenv("LC_ALL", "x" * 64)
    monkeypatch.setenv("TZ", "y" * 65)
    env = sandbox.environment({"HOME": "/elsewhere"})
    assert env["LANG"] == "hy_AM.UTF-8" and env["LC_CTYPE"] == "C" and env["LC_ALL"] == "x" * 64
    assert "TZ" not in env and env["HOME"] == "/elsewhere"
    monkeypatch.setenv("LANG", "")
    monkeypatch.setenv("LC_CTYPE", "a b")
    env = sandbox.environment()
    assert env["LANG"] == "C.UTF-8" and "LC_CTYPE" not in env


def test_python_folders_are_the_installation_and_environment_never_the_whole_system(monkeypatch):
    found = sandbox.python_folders()
    assert str(Path(sys.prefix).resolve()) in found and str(Path(sys.base_prefix).resolve()) in found
    assert found == sorted(set(found)) and "/" not in found and "/usr" not in found
    for name in ("prefix", "base_prefix", "exec_prefix", "base_exec_prefix"):
        monkeypatch.setattr(sys, name, "/usr")
    monkeypatch.setattr(sys, "executable", "/usr/bin/python3")
    assert sandbox.python_folders() == []  # the system Python: already in the read-only /usr
    monkeypatch.setattr(sys, "executable", "/opt/py/bin/python3")
    assert sandbox.python_folders() == ["/opt/py"]
    monkeypatch.setattr(sys, "prefix", "/opt/py")
    monkeypatch.setattr(sys, "base_prefix", "/opt/base")
    monkeypatch.setattr(sys, "executable", "/bin/python3")
    assert sandbox.python_folders() == ["/opt/base", "/opt/py"]
    for name in ("prefix", "base_prefix", "exec_prefix", "base_exec_prefix"):
        monkeypatch.setattr(sys, name, "/")
    monkeypatch.setattr(sys, "executable", "/python/python3")
    assert sandbox.python_folders() == []  # never the whole machine, even for a Python installed at /


def test_package_folders_are_the_course_package_and_its_seeds_never_the_repository(monkeypatch, tmp_path):
    from course import seeds

    found = sandbox.package_folders()
    assert found[0] == COURSE_DIR and str(Path(COURSE_DIR).parent) not in found
    assert found == [COURSE_DIR, str(seeds.seeds_dir().resolve())]  # this repository keeps seeds/ beside course/
    monkeypatch.setattr(seeds, "seeds_dir", lambda: Path(COURSE_DIR) / "seeds_data")
    assert sandbox.package_folders() == [COURSE_DIR]  # already inside the package folder
    monkeypatch.setattr(seeds, "seeds_dir", lambda: Path(COURSE_DIR + "_seeds"))
    assert sandbox.package_folders() == [COURSE_DIR, COURSE_DIR + "_seeds"]

    def missing():
        raise seeds.SeedError("no seeds")

    monkeypatch.setattr(seeds, "seeds_dir", missing)
    assert sandbox.package_folders() == [COURSE_DIR]  # a course without seeds still grades


# -- data files ---------------------------------------------------------------------------------------------
@pytest.fixture
def strict_umask():
    """An instructor whose umask is 077: files and folders are made private unless chmod'ed."""
    old = os.umask(0o077)
    yield
    os.umask(old)


def test_only_the_assignments_plain_data_files_are_staged_readable_by_the_kernel(tmp_path, strict_umask):
    """Notebooks, hidden files, links and oversized files stay out; the copies are world-readable."""
    data = _data_folder(tmp_path)
    (data / "sub" / "deeper").mkdir()
    (data / "sub" / "deeper" / "votes.csv").write_text("yes,no\n")
    (data / ".git").mkdir()
    (data / ".git" / "config").write_text("token")
    (data / "big.bin").write_bytes(b"0" * 2000)
    (data / "edge.bin").write_bytes(b"0" * 1000)
    (data / "link.csv").symlink_to(tmp_path / "outside.csv")
    (tmp_path / "outside.csv").write_text("gradebook")
    staging = tmp_path / "kernel" / "staged"  # its parent does not exist yet either
    found = sandbox.stage_data_files(str(data), staging, max_bytes=1000)
    assert found == {"casualties.csv": str(staging / "casualties.csv"), "edge.bin": str(staging / "edge.bin"),
                     "sub/deeper/votes.csv": str(staging / "sub" / "deeper" / "votes.csv"),
                     "sub/talks.json": str(staging / "sub" / "talks.json")}
    assert (staging / "sub" / "talks.json").read_text() == '{"round": 1}'
    for path in (staging, staging / "sub", staging / "sub" / "deeper"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o755
    for path in found.values():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o644


def test_staging_stops_at_the_file_count_limit_and_copes_with_no_data(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for i in range(5):
        (data / f"f{i}.csv").write_text(str(i))
    assert sorted(sandbox.stage_data_files(str(data), tmp_path / "s1", max_files=3)) == ["f0.csv", "f1.csv", "f2.csv"]
    assert len(sandbox.stage_data_files(str(data), tmp_path / "s2")) == 5
    for i in range(5, 205):
        (data / f"f{i}.csv").write_text(str(i))
    assert len(sandbox.stage_data_files(str(data), tmp_path / "s3")) == 200  # by default at most 200 files
    for source in (None, str(tmp_path / "missing"), str(data / "f0.csv")):
        staging = tmp_path / "empty"
        assert sandbox.stage_data_files(source, staging) == {}
        assert staging.is_dir() and stat.S_IMODE(staging.stat().st_mode) == 0o755


# -- the sandbox's output and its start-up report -----------------------------------------------------------
def test_the_kernels_log_keeps_its_last_lines_each_cut_to_2000_characters():
    """An instructor sees why a kernel died; a student printing megabytes cannot fill the grader's memory."""
    read, write = os.pipe()
    os.write(write, b"first\n" + b"y" * 3000 + b"\n" + "caf\xe9".encode("latin-1") + b"\nlast \xff unfinished")
    os.close(write)
    tail = deque()
    sandbox._drain(read, tail)
    assert list(tail) == ["first", "y" * 2000, "caf\ufffd", "last \ufffd unfinished"]
    with pytest.raises(OSError):
        os.fstat(read)  # closed: no descriptor leaks per kernel


def test_a_log_that_cannot_be_read_ends_the_reader_and_closes_it(tmp_path):
    fd = os.open(tmp_path, os.O_RDONLY)  # reading a folder fails (EISDIR), as a broken pipe would
    tail = deque()
    sandbox._drain(fd, tail)
    assert list(tail) == []
    with pytest.raises(OSError):
        os.fstat(fd)


def test_the_log_keeps_at_most_200_lines_of_one_burst_and_the_end_of_an_endless_line():
    read, write = os.pipe()
    os.write(write, b"".join(b"%d\n" % i for i in range(300)) + b"z" * 5000)
    os.close(write)
    tail = deque()  # unbounded here: the 200 comes from _drain itself
    sandbox._drain(read, tail)
    assert list(tail) == [str(i) for i in range(100, 300)] + ["z" * 2000]


def test_the_sandbox_start_report_gives_the_first_process_id():
    read, write = os.pipe()
    os.write(write, b'{\n    "child-pid": 4321,\n')
    threading.Timer(0.1, lambda: (os.write(write, b'    "net-namespace": 1\n}\n'), os.close(write))).start()
    assert sandbox._read_info(read, None) == 4321
    with pytest.raises(OSError):
        os.fstat(read)


def test_a_sandbox_that_fails_to_start_says_so_with_bwraps_exit_code():
    read, write = os.pipe()
    process = subprocess.Popen([sys.executable, "-c", "import sys; sys.exit(3)"], pass_fds=[write])
    os.close(write)
    with pytest.raises(RuntimeError, match=r"^the sandbox could not start \(bwrap exit code 3\)$"):
        sandbox._read_info(read, process)
    with pytest.raises(OSError):
        os.fstat(read)


def test_a_sandbox_that_never_reports_is_given_up_after_20_seconds(monkeypatch):
    """Fake select (waiting 20 s for real is too slow): the wait is bounded and the message says how long."""
    asked = []
    monkeypatch.setattr(select, "select", lambda r, w, x, timeout: asked.append(timeout) or ([], [], []))
    read, write = os.pipe()
    try:
        with pytest.raises(RuntimeError, match="^the sandbox did not start within 20 s$"):
            sandbox._read_info(read, None)
    finally:
        os.close(write)
    assert asked == [20]


# -- the provisioner: kernels started for real ---------------------------------------------------------------
def _manager(tmp_path: Path, preloaded: bool = False) -> execute.LimitedKernelManager:
    km = execute.LimitedKernelManager(kernel_name="python3")
    km.memory_limit_mb, km.file_size_limit_mb, km.processes_limit, km.work_folder_mb = 900, 5, 40, 6
    km.sandbox_preloaded = preloaded
    km.use_sandbox(str(_data_folder(tmp_path)))
    return km


KERNEL_CODE = r'''
import json, os, resource, socket
report = {"files": sorted(os.listdir(".")), "cwd": os.getcwd(), "uid": os.getuid(),
          "data": open("casualties.csv").read(), "env": dict(os.environ),
          "as": resource.getrlimit(resource.RLIMIT_AS)[0], "fsize": resource.getrlimit(resource.RLIMIT_FSIZE)[0],
          "nproc": resource.getrlimit(resource.RLIMIT_NPROC)[0], "conn": json.load(open("/grading/run/kernel.json")),
          "work_bytes": os.statvfs(".").f_blocks * os.statvfs(".").f_frsize}
try:
    open("casualties.csv", "a")
    report["data_written"] = True
except OSError:
    report["data_written"] = False
print(json.dumps(report))
'''


async def _kernel_report(km) -> dict:
    await km.start_kernel(cwd=km.sandbox_folder, env=sandbox.environment())
    client = km.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=15)
        out = []
        await client.execute_interactive(KERNEL_CODE, timeout=15,
                                         output_hook=lambda m: out.append(m["content"].get("text", "")))
        return json.loads("".join(out))
    finally:
        client.stop_channels()


def _check_kernel_report(report: dict, km) -> None:
    assert report["cwd"] == sandbox.WORK
    assert [f for f in report["files"] if not f.startswith(".")] == ["casualties.csv", "sub"]
    assert report["data"] == "year,count\n1992,100\n" and report["data_written"] is False
    assert (report["as"], report["fsize"], report["nproc"]) == (900 * MB, 5 * MB, 40)
    assert report["work_bytes"] == 6 * MB  # the manager's work_folder_mb
    assert report["conn"]["transport"] == "ipc" and report["conn"]["ip"] == f"{sandbox.RUN}/kernel"
    assert report["conn"]["key"] == km.session.key.decode()  # the grader's key, as text
    assert "GITHUB_TOKEN" not in report["env"] and report["env"]["HOME"] == sandbox.WORK
    if AS_ROOT:
        assert report["uid"] == sandbox.UID_BASE + os.getpid() % 100_000


def test_a_kernel_started_by_the_provisioner_runs_sandboxed_with_its_data_and_leaves_nothing(tmp_path, monkeypatch):
    """The real path of grading: a kernel in bwrap, reached over ipc through /proc/<pid>/root, cleaned up after."""
    monkeypatch.setenv("GITHUB_TOKEN", "ghp-secret-token")
    km = _manager(tmp_path)
    km.kernel_spec.argv[0] = "/no/such/python"  # ipykernel is always started with the grader's own Python
    folder = Path(km.sandbox_folder)

    async def go():
        try:
            report = await _kernel_report(km)
            assert km.provisioner.connection_info["ip"].startswith("/proc/")
            assert km.provisioner.connection_info["ip"].endswith(f"/root{sandbox.RUN}/kernel")
            assert Path(km.provisioner.connection_info["ip"]).parent.joinpath("kernel.json").is_file()
            assert (folder / "data" / "casualties.csv").is_file()
            assert stat.S_IMODE((folder / "kernel.json").stat().st_mode) == 0o644
            assert km.provisioner.pid == km.provisioner.process.pid
            assert km.provisioner.cwd == km.sandbox_folder
            assert km.sandbox_log is km.provisioner.log_tail
            return report
        finally:
            await km.shutdown_kernel(now=True)

    report = run_async(go())
    _check_kernel_report(report, km)
    assert not folder.exists()  # the connection file and the staged copies are gone with the kernel
    assert any("kernel.json" in line for line in km.sandbox_log)  # the kernel's own output was kept


def test_the_provisioner_rewrites_the_connection_file_path_for_any_kernel_command(tmp_path):
    """A kernel spec that is not ipykernel keeps its program and gets the connection file inside the sandbox;
    its output (stdout and stderr) is kept, the last 200 lines; the bwrap process holds nothing of the grader's."""
    km = _manager(tmp_path)
    prov = km.provisioner
    prov.connection_info = {"key": b"k3y", "transport": "tcp", "ip": "127.0.0.1", "shell_port": 1}
    python = str(Path(sys.executable).resolve())  # another spelling of a Python: must be kept as it is
    code = ("import json, sys, time\n"
            "for i in range(125): print('filler', i)\n"
            "sys.stdout.flush(); time.sleep(0.3)\n"  # two bursts: the log's own bound, not one read's, counts
            "for i in range(125, 250): print('filler', i)\n"
            "print(json.dumps([sys.executable, *sys.argv[1:]]))\nprint(open(sys.argv[2]).read())\n"
            "sys.stdout.flush()\nprint('on stderr', file=sys.stderr, flush=True)\ntime.sleep(0.5)")
    try:
        info = run_async(prov.launch_kernel([python, "-c", code, "-f", "/host/kernel.json"], cwd="/somewhere"))
        bwrap = prov.process.pid
        assert Path(f"/proc/{bwrap}/environ").read_bytes() == b"PATH=/usr/bin:/bin\0"
        assert os.readlink(f"/proc/{bwrap}/cwd") == km.sandbox_folder  # not the course folder
        assert os.getsid(bwrap) == bwrap  # a session of its own: a Ctrl-C meant for the grader is not its
        readers = [t for t in threading.enumerate() if t.name.endswith("(_drain)")]
        assert readers and all(t.daemon for t in readers)  # a kernel that never ends cannot hold the grader
        prov.process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while (not km.sandbox_log or km.sandbox_log[-1] != "on stderr") and time.monotonic() < deadline:
            time.sleep(0.05)
        lines = list(km.sandbox_log)
        assert len(lines) == 200 and lines[0] == "filler 53" and lines[-1] == "on stderr"
        assert json.loads(lines[-3]) == [python, "-f", f"{sandbox.RUN}/kernel.json"]
        assert json.loads(lines[-2]) == {"key": "k3y", "transport": "ipc", "ip": f"{sandbox.RUN}/kernel",
                                         "shell_port": 1}
        assert info == prov.connection_info and info["transport"] == "ipc" and info["key"] == b"k3y"
        assert prov.cwd == "/somewhere"
    finally:
        run_async(km.cleanup_resources())
    assert not Path(km.sandbox_folder).exists()


def test_a_sandbox_that_cannot_start_is_reported_with_bwraps_exit_code(tmp_path):
    """bwrap refusing its arguments (here a work folder too large for it) is an error at once, not a wait."""
    km = _manager(tmp_path)
    km.work_folder_mb = 10**13
    km.provisioner.connection_info = {"key": "k"}
    try:
        with pytest.raises(RuntimeError, match=r"^the sandbox could not start \(bwrap exit code 1\)$"):
            run_async(km.provisioner.launch_kernel([sys.executable, "-c", "pass"]))
    finally:
        run_async(km.cleanup_resources())


def test_a_preloaded_kernel_is_forked_in_the_sandbox_with_its_staged_files_removed_after(tmp_path):
    """As root, kernels fork from the worker's sandboxed starter: same data, limits and user; stage cleaned."""
    if not AS_ROOT:
        pytest.skip("kernels are forked in the sandbox only as root")
    km = _manager(tmp_path, preloaded=True)

    async def go():
        try:
            report = await _kernel_report(km)
            stage = km.provisioner._stage
            assert stage.parent == Path(zygote.sandboxed_zygote().stage) and stage.name == Path(km.sandbox_folder).name
            assert (stage / "data" / "sub" / "talks.json").is_file()
            assert json.loads((stage / "kernel.json").read_text())["ip"] == f"{sandbox.RUN}/kernel"
            assert km.provisioner.connection_info["ip"] == f"/proc/{km.provisioner.pid}/root{sandbox.RUN}/kernel"
            assert km.provisioner.pid == km.provisioner.process.pid
            assert km.provisioner.cwd == km.sandbox_folder
            assert isinstance(km.sandbox_log, deque) and km.sandbox_log is km.provisioner.log_tail
            return report, stage
        finally:
            await km.shutdown_kernel(now=True)

    try:
        report, stage = run_async(go())
    finally:
        zygote.close()
    _check_kernel_report(report, km)
    assert not stage.exists()


def test_a_restart_keeps_the_staged_files_and_a_final_cleanup_removes_them(tmp_path):
    km = _manager(tmp_path)
    prov = km.provisioner
    data = Path(km.sandbox_folder) / "data"
    sandbox.stage_data_files(str(tmp_path / "assignment"), data)
    stage = tmp_path / "stage"
    stage.mkdir()
    prov._stage = stage
    run_async(prov.cleanup(restart=True))
    assert data.is_dir() and stage.is_dir()
    run_async(prov.cleanup())
    assert not data.exists() and not stage.exists()
    run_async(km.cleanup_resources())


def test_the_provisioner_belongs_to_its_kernel_manager_and_keeps_its_kernel_id(tmp_path):
    km = execute.LimitedKernelManager(kernel_name="python3")
    km.kernel_id = None
    prov = sandbox.provisioner(km)
    assert prov.parent is km and prov.kernel_id == km.kernel_id and len(km.kernel_id) == 36
    km.kernel_id = "kernel-7"
    assert sandbox.provisioner(km).kernel_id == "kernel-7"


def test_a_sandbox_folder_is_private_to_the_grader(tmp_path):
    folder = Path(sandbox.new_folder())
    try:
        assert folder.is_dir() and stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert folder.name.startswith("course-sandbox-")  # how an instructor recognises a leftover
    finally:
        folder.rmdir()


# -- old kernels: the process limit counts every process of the user -----------------------------------------
def test_the_kernel_version_is_read_from_the_release_string(monkeypatch):
    release = {"value": "5.13.0-52-generic"}
    monkeypatch.setattr(os, "uname", lambda: os.uname_result(("Linux", "h", release["value"], "#1", "x86_64")))
    assert sandbox._kernel_version() == (5, 13)
    release["value"] = "6.18.44-fc"
    assert sandbox._kernel_version() == (6, 18)
    release["value"] = "unknown"
    assert sandbox._kernel_version() == (0, 0)


def test_my_process_count_counts_the_threads_of_this_users_processes():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        mine = psutil.Process().num_threads() + psutil.Process(child.pid).num_threads()
        count = sandbox._my_process_count()
        everyone = sum(p.info["num_threads"] or 1 for p in psutil.process_iter(["num_threads"]))
        assert mine <= count <= everyone + 10
    finally:
        child.kill()
        child.wait()


class _FakeProcess:
    def __init__(self, uid, threads, error=None):
        uids = type(psutil.Process().uids())  # psutil's (real, effective, saved) tuple
        self._info = {"uids": None if uid is None else uids(uid, uid, uid), "num_threads": threads}
        self._error = error

    @property
    def info(self):
        if self._error:
            raise self._error
        return self._info


def test_my_process_count_adds_threads_of_my_processes_only(monkeypatch):
    """A fake process table (the real one changes under us): threads of my user's processes, at least 1 each."""
    me = os.getuid()
    table = [_FakeProcess(me, 3), _FakeProcess(me + 1, 5), _FakeProcess(None, 7), _FakeProcess(me, None),
             _FakeProcess(me, 2, psutil.AccessDenied(1)), _FakeProcess(me, 2, psutil.NoSuchProcess(2)),
             _FakeProcess(me, 4)]
    monkeypatch.setattr(psutil, "process_iter", lambda attrs: iter(table))
    assert sandbox._my_process_count() == 3 + 1 + 4


def test_on_an_old_kernel_without_root_the_process_limit_adds_the_users_processes(tmp_path, monkeypatch):
    """Before Linux 5.14 RLIMIT_NPROC counts every process of the user, so the limit makes room for them."""
    monkeypatch.setattr(sandbox, "_as_root", lambda: False)
    monkeypatch.setattr(sandbox, "_kernel_version", lambda: (5, 13))
    monkeypatch.setattr(sandbox, "_my_process_count", lambda: 17)
    km = _manager(tmp_path)
    prov = km.provisioner
    prov.connection_info = {"key": "k"}
    code = "import resource; print(resource.getrlimit(resource.RLIMIT_NPROC)[0])"
    try:
        run_async(prov.launch_kernel([sys.executable, "-c", code]))
        prov.process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while not km.sandbox_log and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list(km.sandbox_log)[-1] == str(40 + 17)
    finally:
        run_async(km.cleanup_resources())
    monkeypatch.setattr(sandbox, "_kernel_version", lambda: (5, 14))  # 5.14 and later count per namespace
    km = _manager(tmp_path / "new")
    km.provisioner.connection_info = {"key": "k"}
    try:
        run_async(km.provisioner.launch_kernel([sys.executable, "-c", code]))
        km.provisioner.process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while not km.sandbox_log and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list(km.sandbox_log)[-1] == "40"
    finally:
        run_async(km.cleanup_resources())
