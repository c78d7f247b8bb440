"""What a student who wants a better grade could try from inside a submission, and that it fails.

Every attack of the grading issue is handed in as a submission of assignment 01 (the attack code
in a cell of its own, the answers right or wrong as the attack needs), all graded in one
`course grade autograde` run with the sandbox on. Each test then checks one attack failed:
the gradebook and config unchanged, nothing written outside the work folder, nothing left
running, no secret visible, the loopback refusing, the hidden tests never seen, patched test
machinery changing no score, and outputs capped.
"""
from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import time
import uuid
from pathlib import Path

import nbformat
import psutil
import pytest
from grading_helpers import ASSIGNMENT, make_course, notebooks, run_cli, submit, submit_notebook

from course.grading import config as course_config
from course.grading import feedback as fb
from course.grading import samples, sandbox, status

pytestmark = pytest.mark.skipif(not sandbox.available()[0], reason=f"no sandbox here: {sandbox.available()[1]}")

MARK = f"course-attack-{uuid.uuid4().hex[:10]}"
SECRETS = {"DATABASE_URL": f"postgres://admin:{MARK}-db@db.example/grades", "CANVAS_KEY": f"{MARK}-canvas",
           "GITHUB_TOKEN": f"{MARK}-github"}


def _attacks(root: Path, port: int) -> dict[str, tuple[str, str, str]]:
    """student -> (sample kind for the answers, attack code, cell it follows)."""
    r = repr(str(root))
    return {
        "gradebook": ("wrong", f"""
import sqlite3
try:
    con = sqlite3.connect({r} + "/gradebook.db")
    con.execute("update grade set auto_score = 3")
    con.commit()
    print("GRADEBOOK WRITTEN")
except Exception as err:
    print("GRADEBOOK BLOCKED", type(err).__name__, err)
""", "setup"),
        "config": ("correct", f"""
try:
    with open({r} + "/nbgrader_config.py", "a") as handle:
        handle.write("\\nopen('/tmp/{MARK}-config-ran', 'w').write('ran')\\n")
    print("CONFIG WRITTEN")
except Exception as err:
    print("CONFIG BLOCKED", type(err).__name__)
""", "setup"),
        "snoop": ("correct", f"""
import glob, json, os
ROOT = {r}
found = {{}}
for path in [ROOT + "/gradebook.db", ROOT + "/exercises/{ASSIGNMENT}/{ASSIGNMENT}.ipynb",
             ROOT + "/submitted/victim/{ASSIGNMENT}/{ASSIGNMENT}.ipynb",
             ROOT + "/release/{ASSIGNMENT}/{ASSIGNMENT}.ipynb",
             ROOT + "/nbgrader_config.py", "/etc/shadow", "/etc/passwd"]:
    try:
        with open(path, "rb") as handle:
            found[path] = "READ " + str(len(handle.read()))
    except Exception as err:
        found[path] = "blocked " + type(err).__name__
print("FILES", json.dumps(found))
print("ROOT LISTING", sorted(os.listdir("/")))
print("HISTORY", json.dumps(list(In)))
print("NAMES", sorted(k for k in globals() if not k.startswith("__")))
print("ENV", json.dumps(dict(os.environ)))
texts = []
for path in glob.glob("/proc/[0-9]*/environ") + glob.glob("/proc/[0-9]*/cmdline"):
    try:
        texts.append(open(path, "rb").read().decode(errors="replace"))
    except Exception as err:
        texts.append("blocked " + type(err).__name__)
print("PROC", json.dumps(texts))
print("PIDS", sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
""", "test_q1"),
        "patch_compare": ("wrong", """
import course.checks.compare as _c
_c.dataframe = _c.series = _c.number = _c.auto = lambda *args, **kwargs: None
import pandas
pandas.testing.assert_frame_equal = pandas.testing.assert_series_equal = lambda *args, **kwargs: None
import sys
sys.modules["course.checks.compare"] = _c
print("PATCHED")
""", "setup"),
        "patch_assert": ("wrong", """
_ip = get_ipython()
_ip.input_transformers_post.append(lambda lines: [l.replace("assert ", "pass  # ") for l in lines])
_ip.events.register("pre_run_cell", lambda *a: None)
print("TRANSFORMER ADDED")
""", "setup"),
        "daemon": ("correct", f"""
import os, time
pid = os.fork()
if pid == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv("/bin/sh", ["/bin/sh", "-c", "while true; do echo alive >> /tmp/{MARK}-daemon 2>/dev/null; "
                 "echo alive >> $HOME/{MARK}-daemon; sleep 0.2; done # {MARK}-daemon"])
    os._exit(0)
os.waitpid(pid, 0)
time.sleep(0.6)
# /tmp is the work folder's, or not writable at all when the course's Python lives under /tmp
print("DAEMON STARTED", os.path.exists(os.path.expanduser("~/{MARK}-daemon")))
""", "setup"),
        "network": ("correct", f"""
import socket
for host in ("127.0.0.1", "10.0.0.1"):
    try:
        socket.create_connection((host, {port}), 2)
        print("NETWORK CONNECTED", host)
    except OSError as err:
        print("NETWORK BLOCKED", host, type(err).__name__)
""", "setup"),
        "disk": ("correct", f"""
import os, shutil
errors = []
for i in range(3):
    try:
        with open(f"big{{i}}.bin", "wb") as handle:
            for _ in range(100):
                handle.write(b"0" * 2**20)
    except OSError as err:
        errors.append(err.errno)
for i in range(3):
    if os.path.exists(f"big{{i}}.bin"):
        os.remove(f"big{{i}}.bin")
made = 0
os.makedirs("many", exist_ok=True)
try:
    for i in range(20000):
        with open(f"many/f{{i}}", "w") as handle:
            handle.write("x")
        made += 1
except OSError as err:
    errors.append(err.errno)
shutil.rmtree("many", ignore_errors=True)
try:
    with open("/tmp/{MARK}-leftover", "w") as handle:
        handle.write("left behind")
except OSError:
    pass  # /tmp is not writable when the course's Python lives under the host's /tmp
print("DISK", errors, made)
""", "setup"),
        "forks": ("correct", """
import subprocess
started, error = [], None
for i in range(50):
    try:
        started.append(subprocess.Popen(["/bin/sleep", "60"]))
    except OSError as err:
        error = type(err).__name__
        break
print("FORKS", len(started), error)
for proc in started:
    proc.kill()
    proc.wait()
""", "setup"),
        "printer": ("correct", """
import sys
chunk = "x" * 999_999 + "\\n"
for _ in range(50):
    sys.stdout.write(chunk)
sys.stdout.flush()
""", "setup"),
    }


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("attacks") / "course")
    code, out = run_cli("--root", root, "generate", ASSIGNMENT)
    assert code == 0, out
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.5)
    port = server.getsockname()[1]
    connections = []
    done = threading.Event()

    def accept():
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and not done.is_set():
            try:
                conn, _ = server.accept()
                connections.append(conn)
            except OSError:
                continue

    listener = threading.Thread(target=accept, daemon=True)
    listener.start()
    source, release = notebooks(root)
    submit(root, "victim", "correct")
    for student, (kind, code_text, after) in _attacks(root, port).items():
        nb = samples.make(kind, source, release)
        where = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == after)
        nb.cells.insert(where + 1, nbformat.v4.new_code_cell(code_text.strip(), id="attack"))
        submit_notebook(root, student, nb)
    config_hash = hashlib.sha256((root / "nbgrader_config.py").read_bytes()).hexdigest()
    saved = {name: os.environ.get(name) for name in SECRETS}
    os.environ.update(SECRETS)
    started = time.time()
    try:
        code, out = run_cli("--root", root, "autograde", ASSIGNMENT, "--workers", 2)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    assert code == 0, out
    time.sleep(1)
    done.set()
    status_code, status_out = run_cli("--root", root, "status", ASSIGNMENT)
    assert status_code == 0, status_out
    yield {"root": root, "output": out, "records": status.read(root / "autograded", ASSIGNMENT),
           "config_hash": config_hash, "connections": connections, "started": started}
    server.close()


def graded_notebook(root: Path, student: str):
    return nbformat.read(root / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)


def printed(root: Path, student: str, cell: str = "attack") -> str:
    nb = graded_notebook(root, student)
    found = [c for c in nb.cells if c.get("id") == cell or c.metadata.get("nbgrader", {}).get("grade_id") == cell]
    assert found, f"no cell {cell} in {student}'s graded notebook"
    return "".join(o.get("text", "") or o.get("evalue", "") for o in found[0].outputs)


def all_outputs(root: Path, student: str) -> str:
    nb = graded_notebook(root, student)
    return json.dumps([c.outputs for c in nb.cells if c.cell_type == "code"])


def scores(root: Path, student: str) -> dict[str, float | None]:
    config = course_config.load(root)
    with course_config.gradebook(config) as gb:
        submission = gb.find_submission(ASSIGNMENT, student)
        return {g.name: g.auto_score for nb in submission.notebooks for g in nb.grades if g.cell_type == "code"}


RIGHT = {"test_q1": 3.0, "test_q2": 3.0, "test_q3": 2.0}
WRONG = {"test_q1": 0.0, "test_q2": 0.0, "test_q3": 0.0}


def test_the_gradebook_cannot_be_opened_or_changed(attacked):
    root = attacked["root"]
    assert "GRADEBOOK BLOCKED" in printed(root, "gradebook")
    assert scores(root, "gradebook") == WRONG  # wrong answers stay wrong
    assert scores(root, "victim") == RIGHT  # a classmate keeps full marks


def test_the_config_cannot_be_changed_and_runs_nothing_later(attacked):
    root = attacked["root"]
    assert "CONFIG BLOCKED" in printed(root, "config")
    assert hashlib.sha256((root / "nbgrader_config.py").read_bytes()).hexdigest() == attacked["config_hash"]
    assert not Path(f"/tmp/{MARK}-config-ran").exists()  # `course grade status` ran after grading


def test_source_notebooks_and_other_submissions_are_out_of_reach(attacked):
    root = attacked["root"]
    text = printed(root, "snoop")
    files = json.loads(text.split("FILES ", 1)[1].splitlines()[0])
    assert files and not [path for path, what in files.items() if what.startswith("READ") and "passwd" not in path]
    listing = text.split("ROOT LISTING ", 1)[1].splitlines()[0]
    assert "grading" in listing and "home" not in listing


def test_hidden_tests_never_reach_the_students_kernel(attacked):
    root = attacked["root"]
    config = course_config.load(root)
    with course_config.gradebook(config) as gb:
        hidden = [line for nb in gb.find_assignment(ASSIGNMENT).notebooks for c in nb.source_cells
                  for line in fb.hidden_lines(c.source or "")]
    assert len(hidden) >= 9
    text = printed(root, "snoop")
    history = text.split("HISTORY ", 1)[1].splitlines()[0]
    assert "Checks for task" not in history and "_expected" not in history  # no test cell ran there
    names = text.split("NAMES ", 1)[1].splitlines()[0]
    assert "_expected" not in names and "_problem" not in names
    for student in _attacks(root, 1):
        outputs = all_outputs(root, student)
        nb = graded_notebook(root, student)
        student_outputs = json.dumps([c.outputs for c in nb.cells if c.cell_type == "code"
                                      and not c.metadata.get("nbgrader", {}).get("grade")])
        assert [line for line in hidden if line in student_outputs] == [], student
        assert outputs


def test_patched_comparisons_and_builtins_do_not_change_the_score(attacked):
    root = attacked["root"]
    assert "PATCHED" in printed(root, "patch_compare")
    assert scores(root, "patch_compare") == WRONG


def test_an_input_transformer_removing_asserts_changes_nothing(attacked):
    root = attacked["root"]
    assert "TRANSFORMER ADDED" in printed(root, "patch_assert")
    assert scores(root, "patch_assert") == WRONG
    nb = graded_notebook(root, "patch_assert")
    test_q1 = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_q1")
    assert any(o.get("output_type") == "error" for o in test_q1.outputs)


def test_secrets_are_absent_from_the_kernel_and_from_proc(attacked):
    root = attacked["root"]
    text = printed(root, "snoop")
    for value in SECRETS.values():
        assert value not in text
    env = json.loads(text.split("ENV ", 1)[1].splitlines()[0])
    assert env["HOME"] == "/grading/work" and not set(SECRETS) & set(env)
    assert "pytest" not in text.split("PROC ", 1)[1]  # the grader's processes are not visible
    pids = json.loads(text.split("PIDS ", 1)[1].splitlines()[0])
    assert len(pids) <= 4  # bwrap's init, the kernel, the ls/glob helpers at most
    for student in _attacks(root, 1):
        assert not any(value in all_outputs(root, student) for value in SECRETS.values()), student


def test_no_process_outlives_grading_and_nothing_lands_outside_the_work_folder(attacked):
    root = attacked["root"]
    assert "DAEMON STARTED True" in printed(root, "daemon")
    left = []
    for proc in psutil.process_iter(["pid", "cmdline", "create_time"]):
        try:
            command = " ".join(proc.info["cmdline"] or [])
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        fresh = proc.info["create_time"] >= attacked["started"]
        if MARK in command or ("/grading/run/kernel.json" in command and fresh):
            left.append((proc.pid, command))
    assert left == []
    assert not [p for p in Path("/tmp").iterdir() if p.name.startswith(MARK)]
    assert not [p for p in root.rglob("*") if MARK in p.name or p.name in ("big0.bin", "f1")]


def test_the_loopback_refuses_and_nothing_reaches_the_network(attacked):
    root = attacked["root"]
    text = printed(root, "network")
    assert "NETWORK BLOCKED 127.0.0.1" in text and "NETWORK BLOCKED 10.0.0.1" in text
    assert "NETWORK CONNECTED" not in text
    assert attacked["connections"] == []
    assert scores(root, "network") == RIGHT  # right answers still score


def test_the_work_folder_is_bounded_in_size(attacked):
    root = attacked["root"]
    text = printed(root, "disk")
    errors, made = text.split("DISK ", 1)[1].rsplit(" ", 1)
    assert "28" in errors  # ENOSPC: no space left in the work folder
    assert int(made) < 20000


def test_processes_are_bounded(attacked):
    text = printed(attacked["root"], "forks")
    count, error = text.split("FORKS ", 1)[1].split()[:2]
    assert int(count) < 50 and error != "None", text
    assert scores(attacked["root"], "forks") == RIGHT


def test_outputs_are_capped_in_the_notebook_and_the_feedback(attacked):
    root = attacked["root"]
    text = printed(root, "printer")
    assert len(text) <= 1024 * 1024 + 500
    assert "output cut" in text
    assert (root / "autograded" / "printer" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").stat().st_size < 3 * 2**20
    assert scores(root, "printer") == RIGHT
    # --force: the written answer is not graded by hand here; the page must be written all the same
    code, out = run_cli("--root", root, "feedback", ASSIGNMENT, "--student", "printer", "--force")
    assert code == 0, out
    page = root / "feedback" / "printer" / ASSIGNMENT / f"{ASSIGNMENT}.html"
    assert page.stat().st_size < 4 * 2**20 and "output cut" in page.read_text(encoding="utf-8")


def test_every_attack_was_graded_in_the_sandbox(attacked):
    records = attacked["records"]
    for student in ["victim", *_attacks(attacked["root"], 1)]:
        assert records[student]["sandbox"].startswith("bubblewrap"), records[student]
        assert records[student]["status"] in ("graded", "tampered"), records[student]


def test_formgraders_buttons_grade_in_the_same_sandbox(attacked):
    """Formgrader runs nbgrader's own Autograde with nbgrader_config.py: the course's plug-ins, sandbox included."""
    import subprocess
    import sys

    root = attacked["root"]
    nbgrader = Path(sys.executable).parent / "nbgrader"
    env = dict(os.environ, PATH=f"{nbgrader.parent}{os.pathsep}{os.environ.get('PATH', '')}", **SECRETS)
    done = subprocess.run([str(nbgrader), "autograde", ASSIGNMENT, "--student", "snoop", "--force"], cwd=root,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    text = printed(root, "snoop")
    assert "grading" in text.split("ROOT LISTING ", 1)[1].splitlines()[0]
    assert not any(value in text for value in SECRETS.values())
    assert scores(root, "snoop") == RIGHT
