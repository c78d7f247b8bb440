"""Kill tests of course/grading/execute.py (issue 20): the executor that runs a submission's cells in
a limited, sandboxed kernel, caps its outputs, judges the tests outside it and enforces the time limits.

Most tests call the helpers and `CourseExecute`'s decisions in this process, with a tiny gradebook
built in `tmp_path`. Where only a kernel's misbehaviour reaches a branch (a kernel that dies, stops
answering, or hands over unreadable values), a small stand-in replaces the kernel's side and says so.
Two tests at the end run real kernels end to end (one in the bubblewrap sandbox, one with
`--no-sandbox`), each on one small notebook that covers several behaviours at once.
"""
from __future__ import annotations

import json
import os
import queue
import shutil
import sqlite3
import sys
import tempfile
from collections import deque
from pathlib import Path
from types import SimpleNamespace as NS

import nbformat
import pytest
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from traitlets.config import Config

from course.grading import execute, judge, sandbox, values
from course.grading.execute import CourseExecute, LimitedKernelManager

HAVE_BWRAP = sandbox.available()[0]


# -- building inputs ---------------------------------------------------------------------------------------
def _cell(source: str, gid: str | None = None, kind: str = "code", **meta):
    cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
    if gid:
        cell.metadata["nbgrader"] = {"grade_id": gid, "grade": False, "solution": False, "locked": False, **meta}
    return cell


def _setup(source, gid):
    return _cell(source, gid, locked=True)


def _answer(source, gid):
    return _cell(source, gid, solution=True)


def _test(source, gid):
    return _cell(source, gid, grade=True, locked=True, points=1)


def _gradebook(folder: Path, cells, notebook: str = "nb", assignment: str = "a1") -> str:
    """A real nbgrader gradebook recording `cells` as the assignment's source (what generate records)."""
    from nbgrader.api import Gradebook

    db = folder / "gradebook.db"
    # a new gradebook is stamped by running `alembic` in a subprocess (3 s); an existing stamp table skips that
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
    conn.commit()
    conn.close()
    url = f"sqlite:///{db}"
    with Gradebook(url) as gb:
        gb.update_or_create_assignment(assignment)
        gb.update_or_create_notebook(notebook, assignment)
        for cell in cells:
            meta = cell.metadata.get("nbgrader")
            if not meta:
                continue
            gid = meta["grade_id"]
            if meta.get("grade"):
                gb.update_or_create_grade_cell(gid, notebook, assignment, max_score=meta.get("points", 1),
                                               cell_type=cell.cell_type)
            if meta.get("solution"):
                gb.update_or_create_solution_cell(gid, notebook, assignment)
            gb.update_or_create_source_cell(gid, notebook, assignment, source=cell.source,
                                            locked=bool(meta.get("locked")), cell_type=cell.cell_type)
    return url


def _config(root: Path | None = None, **traits) -> Config:
    cfg = Config()
    if root is not None:
        cfg.CourseDirectory.root = str(root)
    for name, value in traits.items():
        cfg.CourseExecute[name] = value
    return cfg


def _source_notebook(root: Path, cells, notebook: str = "nb", assignment: str = "a1") -> None:
    folder = root / "source" / assignment
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / f"{notebook}.ipynb")


def _stream(text, name="stdout"):
    return nbformat.v4.new_output("stream", name=name, text=text)


def _error(ename="ValueError", evalue="wrong", traceback=None):
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue,
                                  traceback=traceback if traceback is not None else [f"{ename}: {evalue}"])


class _Clock:
    """execute.monotonic, moved by hand: time limits tested exactly, without waiting."""

    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> _Clock:
    fake = _Clock()
    monkeypatch.setattr(execute, "monotonic", fake)
    return fake


def _running(ex: CourseExecute, clock: _Clock | None = None, plan=None, judge_=None, left: float | None = None):
    """`ex` as `preprocess` leaves it just before the first cell (what it sets, set by hand)."""
    now = clock.now if clock is not None else execute.monotonic()
    ex._deadline = now + (left if left is not None else (ex.notebook_timeout or 0))
    ex._stop_reason = None
    ex._cell_bytes = {}
    ex._notebook_bytes = 0
    ex._cells_plan = plan or {}
    ex._judge = judge_
    ex.resources = {"course_grading": {"events": []}}
    ex.reset_execution_trackers()  # what nbclient sets before the first cell, and before each
    ex.clear_before_next_output = False
    return ex


def _events(ex) -> list[dict]:
    return ex.resources["course_grading"]["events"]


# -- the helpers ---------------------------------------------------------------------------------------------
def test_events_are_added_to_the_grading_record_in_order():
    """What happened to a notebook is a list of events that the status is built from."""
    resources = {}
    execute.record(resources, "cell timeout", cell="answer_q1", seconds=3)
    execute.record(resources, "output cut", cell="answer_q2", bytes=10)
    assert resources == {"course_grading": {"events": [{"kind": "cell timeout", "cell": "answer_q1", "seconds": 3},
                                                       {"kind": "output cut", "cell": "answer_q2", "bytes": 10}]}}
    kept = {"course_grading": {"findings": ["edited"]}}
    execute.record(kept, "kernel died", cell="c")
    assert kept == {"course_grading": {"findings": ["edited"], "events": [{"kind": "kernel died", "cell": "c"}]}}


def test_a_cell_not_run_gets_a_valid_error_output_saying_why():
    """A cell that never ran scores 0 through an error output nbformat accepts."""
    out = execute.not_run_output("not run: the notebook ran out of its 9 s")
    assert out == {"output_type": "error", "ename": "NotRun", "evalue": "not run: the notebook ran out of its 9 s",
                   "traceback": ["NotRun: not run: the notebook ran out of its 9 s"]}
    cell = nbformat.v4.new_code_cell("x = 1")
    cell.outputs = [out]
    nbformat.validate(nbformat.v4.new_notebook(cells=[cell]))


def test_output_size_counts_the_text_a_student_printed():
    """The caps count characters of text, tracebacks and rich data alike."""
    assert execute.output_size(_stream("abc")) == 3
    assert execute.output_size(_error(evalue="ev", traceback=["t1", "tt2"])) == 7
    assert execute.output_size({"output_type": "error"}) == 0
    rich = nbformat.v4.new_output("display_data", data={"text/plain": "hello", "application/json": {"a": 1}})
    assert execute.output_size(rich) == len("hello") + len(json.dumps({"a": 1}))
    assert execute.output_size({"output_type": "execute_result", "data": None}) == 0
    assert execute.output_size({"output_type": "display_data"}) == 0


def test_sizes_of_cut_output_are_said_in_kb_or_mb():
    """The line saying what was cut gives a readable size."""
    assert execute._mb(2**20) == "1.0 MB"
    assert execute._mb(2**20 - 1) == "1024 KB"
    assert execute._mb(1024000) == "1000 KB"
    assert execute._mb(7 * 2**19) == "3.5 MB"


def test_outputs_within_the_budget_are_kept_as_they_are():
    """Output that fits (to the last character) is kept unchanged, tracebacks and all."""
    outs = [_stream("a" * 10), nbformat.v4.new_output("display_data", data={"text/plain": "b" * 5}),
            _error(ename="E", evalue="boom", traceback=["Traceback (most recent call last)", "E: boom"])]
    budget = sum(execute.output_size(o) for o in outs)
    kept, cut = execute.cap_outputs(outs, budget, "why")
    assert cut == 0 and kept == outs and kept[2]["traceback"][0].startswith("Traceback")


def test_printing_past_the_budget_is_cut_and_the_cut_is_said():
    """A stream is cut at the budget; later outputs are dropped; a stderr line says how much and why."""
    rich = nbformat.v4.new_output("display_data", data={"text/plain": "p" * 7})
    kept, cut = execute.cap_outputs([_stream("a" * 10), _stream("b" * 10), rich, _stream("c")], 15,
                                    "the limit is 1 KB per cell")
    assert [o.get("text") for o in kept[:2]] == ["a" * 10, "b" * 5]
    assert cut == 5 + 7 + 1 and len(kept) == 3
    assert kept[2] == {"output_type": "stream", "name": "stderr",
                       "text": "\n[grading: 0 KB of output cut here: the limit is 1 KB per cell]\n"}
    kept, cut = execute.cap_outputs([rich, _stream("y")], 3, "w")
    assert cut == 8 and [o["name"] for o in kept] == ["stderr"]
    big, cut = execute.cap_outputs([_stream("z" * (3 * 2**20))], 2**20, "w")
    assert cut == 2 * 2**20 and big[0]["text"] == "z" * 2**20 and "2.0 MB of output cut" in big[1]["text"]


def test_a_failed_test_stays_failed_when_its_output_is_cut():
    """Error outputs are kept (shortened to at least 200 characters) whatever the budget: they are the score."""
    error = _error(ename="AssertionError", evalue="e" * 500, traceback=["x" * 1000])
    kept, cut = execute.cap_outputs([error], 0, "w")
    assert kept[0]["ename"] == "AssertionError" and kept[0]["evalue"] == "e" * 200
    assert kept[0]["traceback"] == ["AssertionError: " + "e" * 200] and cut == 1500 - 200
    kept, cut = execute.cap_outputs([_stream("s" * 10), error], 310, "w")
    assert kept[1]["evalue"] == "e" * 300 and cut == 1500 - 300
    kept, cut = execute.cap_outputs([_stream("s" * 20), error], 10, "w")  # both cuts are counted
    assert kept[0]["text"] == "s" * 10 and kept[1]["evalue"] == "e" * 200 and cut == 10 + 1500 - 200
    bare = {"output_type": "error", "traceback": ["t" * 300]}
    kept, cut = execute.cap_outputs([bare], 10, "w")
    assert kept[0]["evalue"] == "" and kept[0]["traceback"] == ["Error: "] and cut == 100
    small = _error(ename="ValueError", evalue="boom",
                   traceback=["Traceback (most recent call last)", "ValueError: boom"])
    kept, cut = execute.cap_outputs([_stream("s" * 10), small], 10, "w")
    assert cut == 0 and len(kept) == 2 and kept[1]["traceback"] == ["ValueError: boom"]


def test_a_kernel_outside_the_sandbox_is_homed_in_its_work_folder_without_the_graders_secrets(monkeypatch, tmp_path):
    """--no-sandbox: the kernel's home and temporary files are its work folder; no secret of the grader's passes."""
    monkeypatch.setenv("PATH", "/opt/tools/bin:/usr/bin")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    work = str(tmp_path)
    env = execute.kernel_environment(work)
    assert {k: env[k] for k in ("HOME", "TMPDIR", "TEMP", "TMP")} == dict.fromkeys(("HOME", "TMPDIR", "TEMP", "TMP"),
                                                                                   work)
    assert env["MPLCONFIGDIR"] == os.path.join(work, ".matplotlib")
    assert env["COURSE_PROGRESS_FILE"] == os.path.join(work, "course_progress.json")
    assert env["PATH"] == "/opt/tools/bin:/usr/bin" and env["USER"] == "student"
    assert "AWS_SECRET_ACCESS_KEY" not in env and env["OMP_NUM_THREADS"] == "1"
    monkeypatch.delenv("PATH")
    assert execute.kernel_environment(work)["PATH"] == "/usr/bin:/bin"


def test_the_assignments_data_files_are_copied_to_the_work_folder_but_not_notebooks_or_huge_files(tmp_path):
    """--no-sandbox: the kernel reads the assignment's data from a copy; notebooks and files over 50 MB stay out."""
    source, work = tmp_path / "source", tmp_path / "work"
    (source / "sub" / "deep").mkdir(parents=True)
    work.mkdir()
    (source / "data.csv").write_text("a,b\n", encoding="utf-8")
    (source / "sub" / "deep" / "notes.txt").write_text("n", encoding="utf-8")
    (source / "answer.ipynb").write_text("{}", encoding="utf-8")
    with open(source / "exact.bin", "wb") as handle:  # sparse files: sizes without the disk space
        handle.truncate(execute.MAX_COPIED_FILE)
    with open(source / "huge.bin", "wb") as handle:
        handle.truncate(execute.MAX_COPIED_FILE + 1)
    execute._copy_data_files(str(source), str(work))
    copied = sorted(p.relative_to(work).as_posix() for p in work.rglob("*") if p.is_file())
    assert copied == ["data.csv", "exact.bin", "sub/deep/notes.txt"]
    assert (work / "data.csv").read_text(encoding="utf-8") == "a,b\n"
    execute._copy_data_files(None, str(work))  # no folder (a notebook graded on its own): nothing to copy
    execute._copy_data_files(str(tmp_path / "absent"), str(work))
    assert sorted(p.name for p in work.iterdir()) == ["data.csv", "exact.bin", "sub"]


def test_cells_are_named_by_grade_id_then_cell_id():
    """Records name the cell the instructor knows: its grade id, else its cell id, else '?'."""
    graded = _answer("x = 1", "answer_q1")
    assert execute._grade_id(graded) == "answer_q1" and execute._cell_name(graded) == "answer_q1"
    plain = nbformat.v4.new_code_cell("x = 1")
    assert execute._grade_id(plain) is None and execute._cell_name(plain) == plain["id"]
    assert execute._grade_id({"id": "abc"}) is None and execute._cell_name({"id": "abc"}) == "abc"
    assert execute._cell_name({"metadata": {"nbgrader": {}}}) == "?" and execute._cell_name(None) == "?"


# -- the kernel manager ------------------------------------------------------------------------------------
def test_a_kernel_started_outside_the_sandbox_runs_under_the_limits_without_the_debugger():
    """The kernel starts under the memory and file-size limits, without debugpy, with nbclient's arguments."""
    km = LimitedKernelManager(kernel_name="python3")
    km.memory_limit_mb, km.file_size_limit_mb = 512, 20
    command = km.format_kernel_cmd(extra_arguments=["--HistoryManager.hist_file=:memory:"])
    split = command.index("--")
    assert command[:split] == [sys.executable, "-m", "course.grading.limits", "--memory-mb", "512",
                               "--file-size-mb", "20", "--no-debugger"]
    kernel = command[split + 1:]
    assert kernel[1:3] == ["-m", "ipykernel_launcher"] and kernel[-1] == "--HistoryManager.hist_file=:memory:"
    km.wrap_command = False  # a provisioner that applies the limits itself gets the plain command
    assert km.format_kernel_cmd(extra_arguments=["--x"]) == kernel[:-1] + ["--x"]


def test_a_sandboxed_kernel_talks_over_ipc_from_a_private_folder_and_is_interrupted_by_message(tmp_path):
    """A sandboxed kernel gets a private host folder, ipc sockets in it, and interrupts by message."""
    km = LimitedKernelManager(kernel_name="python3")
    km.use_sandbox(str(tmp_path))
    try:
        assert km.wrap_command is False and km.transport == "ipc"
        assert os.path.isdir(km.sandbox_folder) and Path(km.sandbox_folder).name.startswith("course-sandbox-")
        assert km.sandbox_data == str(tmp_path) and km.ip == os.path.join(km.sandbox_folder, "kernel")
        assert km.kernel_spec.interrupt_mode == "message"
        assert type(km.provisioner).__name__ == "SandboxProvisioner" and km.provisioner.parent is km
    finally:
        shutil.rmtree(km.sandbox_folder, ignore_errors=True)


def test_the_sandbox_folder_is_kept_across_a_restart_and_removed_at_the_end():
    """The sandbox's host folder (connection file, staged data) survives a restart and is removed after the run."""
    km = LimitedKernelManager(kernel_name="python3")
    km.use_sandbox(None)
    folder = Path(km.sandbox_folder)
    (folder / "data").mkdir()
    (folder / "data" / "staged.csv").write_text("x", encoding="utf-8")
    run_sync(km.cleanup_resources)(restart=True)
    assert (folder / "data" / "staged.csv").exists()
    run_sync(km.cleanup_resources)()  # nbclient's call: no argument
    assert not folder.exists()
    run_sync(km.cleanup_resources)()  # twice: nothing left, no error


# -- CourseExecute: which kernel, where ------------------------------------------------------------------------
def _executor(**traits) -> CourseExecute:
    traits.setdefault("kernel_name", "python3")
    ex = CourseExecute(**traits)
    ex.resources = {}
    return ex


def test_the_executor_uses_the_limited_kernel_manager_unless_told_otherwise():
    """Kernels start through the course's limited manager by default; a configured manager is honoured."""
    assert CourseExecute().kernel_manager_class is LimitedKernelManager
    assert CourseExecute(kernel_manager_class=AsyncKernelManager).kernel_manager_class is AsyncKernelManager
    ex = CourseExecute()
    assert ex._workdir is None and ex._kernel_log is None
    with pytest.raises(TypeError):  # like nbconvert's preprocessors: settings by name, nothing dropped silently
        CourseExecute(nbformat.v4.new_notebook())


def test_a_sandboxed_kernel_manager_gets_the_limits_and_the_submissions_folder(tmp_path):
    """The configured limits reach the sandboxed kernel's manager, with the submission's folder for its data."""
    ex = _executor(sandbox="bwrap", preload_kernels=False, memory_limit_mb=300, file_size_limit_mb=5,
                   max_processes=7, work_folder_mb=9)
    ex.resources = {"metadata": {"path": str(tmp_path)}}
    km = ex.create_kernel_manager()
    try:
        assert isinstance(km, LimitedKernelManager) and ex.km is km and ex._sandboxed()
        assert (km.memory_limit_mb, km.file_size_limit_mb, km.processes_limit, km.work_folder_mb) == (300, 5, 7, 9)
        assert km.sandbox_data == str(tmp_path) and os.path.isdir(km.sandbox_folder)
        assert km.sandbox_preloaded is False and type(km.provisioner).__name__ == "SandboxProvisioner"
    finally:
        shutil.rmtree(km.sandbox_folder, ignore_errors=True)
    ex = _executor(sandbox="bwrap", preload_kernels=True)
    km = ex.create_kernel_manager()
    try:
        assert km.sandbox_preloaded is sandbox.preloaded_supported() and km.sandbox_data is None
    finally:
        shutil.rmtree(km.sandbox_folder, ignore_errors=True)


def test_without_bubblewrap_the_executor_refuses_to_run_student_code(monkeypatch):
    """No bubblewrap: grading refuses, saying why, unless the instructor chose --no-sandbox."""
    monkeypatch.setattr(sandbox, "available", lambda: (False, "bubblewrap (`bwrap`) is not installed"))
    with pytest.raises(execute.SandboxUnavailable, match=r"^no sandbox for student code: bubblewrap \(`bwrap`\) is "
                                                          r"not installed$"):
        _executor(sandbox="bwrap").create_kernel_manager()
    km = _executor(sandbox="none", preload_kernels=False).create_kernel_manager()  # --no-sandbox: it runs
    assert km.sandbox_folder is None


def test_the_sandbox_needs_the_courses_kernel_manager():
    """A kernel manager that cannot sandbox is refused when the sandbox is asked for, accepted without it."""
    with pytest.raises(execute.SandboxUnavailable,
                       match="^the sandbox needs course.grading.execute.LimitedKernelManager$"):
        _executor(sandbox="bwrap", kernel_manager_class=AsyncKernelManager).create_kernel_manager()
    plain = _executor(sandbox="none", kernel_manager_class=AsyncKernelManager).create_kernel_manager()
    assert type(plain) is AsyncKernelManager


def test_without_the_sandbox_kernels_are_forked_from_the_preloaded_process_or_wrapped_in_the_limits():
    """--no-sandbox: the kernel is forked from the zygote (which applies the limits) or wrapped in them."""
    ex = _executor(sandbox="none", preload_kernels=True, memory_limit_mb=300, file_size_limit_mb=5)
    km = ex.create_kernel_manager()
    assert (km.memory_limit_mb, km.file_size_limit_mb) == (300, 5) and not ex._sandboxed()
    assert km.wrap_command is False and type(km.provisioner).__name__ == "ForkProvisioner"
    assert km.provisioner.parent is km and km.sandbox_folder is None
    km = _executor(sandbox="none", preload_kernels=False).create_kernel_manager()
    assert km.wrap_command is True and km.provisioner is None


@pytest.mark.skipif(not HAVE_BWRAP, reason="needs bubblewrap")
def test_a_sandboxed_kernel_is_started_inside_bwrap_with_no_work_folder_on_the_host(tmp_path):
    """The sandboxed kernel's process is bwrap; nothing of the no-sandbox set-up (host work folder, log) is made."""
    ex = _executor(sandbox="bwrap", preload_kernels=False)
    ex.resources = {"metadata": {"path": str(tmp_path)}}
    ex.km = ex.create_kernel_manager()
    folder = ex.km.sandbox_folder
    ex.start_new_kernel()
    try:
        assert ex.km.has_kernel and ex._workdir is None and ex._kernel_log is None
        assert Path(ex.km.provisioner.process.args[0]).name == "bwrap"
    finally:
        ex._cleanup_kernel()
    assert not os.path.exists(folder)


def test_only_a_manager_with_a_sandbox_folder_counts_as_sandboxed(tmp_path):
    """Where the kernel starts depends on whether its manager has a sandbox folder."""
    ex = _executor()
    ex.km = None
    assert ex._sandboxed() is False
    ex.km = AsyncKernelManager()
    assert ex._sandboxed() is False
    ex.km = NS(sandbox_folder=str(tmp_path))
    assert ex._sandboxed() is True


def test_the_kernels_last_words_are_read_from_the_sandbox_log_or_the_work_folder(tmp_path):
    """A dead kernel's record quotes the last five lines it wrote, without the encryption warning or blanks."""
    ex = _executor()
    lines = [f"line {i}" for i in range(1, 8)] + ["", "   ", "Kernel is running without encryption"]
    ex.km = NS(sandbox_log=deque(lines))
    assert ex._kernel_log_tail() == "line 3\nline 4\nline 5\nline 6\nline 7"
    assert ex._kernel_log_tail(lines=2) == "line 6\nline 7"
    ex.km = NS(sandbox_log=None)
    assert ex._kernel_log_tail() == ""  # no log and no work folder
    ex._workdir = str(tmp_path)
    assert ex._kernel_log_tail() == ""  # no log file (yet)
    (tmp_path / ".kernel.log").write_bytes(b"starting\n\xff\xfe MemoryError\n")
    assert ex._kernel_log_tail() == "starting\n\ufffd\ufffd MemoryError"
    ex.km = None
    assert ex._kernel_log_tail() == "starting\n\ufffd\ufffd MemoryError"
    ex.km = NS()  # a plain kernel manager (no sandbox log at all)
    assert ex._kernel_log_tail() == "starting\n\ufffd\ufffd MemoryError"


def test_cleaning_up_closes_the_kernel_log_and_removes_the_work_folder_even_twice(tmp_path):
    """After a run nothing is left: the log is closed, the work folder removed, and a second clean-up is harmless."""
    ex = _executor()
    ex.km = LimitedKernelManager(kernel_name="python3")  # never started: nothing to stop
    work = tmp_path / "course-grade-x"
    work.mkdir()
    log = open(work / ".kernel.log", "wb")  # noqa: SIM115
    ex._workdir, ex._kernel_log = str(work), log
    ex._cleanup_kernel()
    assert log.closed and not work.exists() and ex._workdir is None and ex._kernel_log is None
    ex._cleanup_kernel()  # a second clean-up finds nothing to do
    ex._workdir = str(tmp_path / "already-gone")
    ex._cleanup_kernel()
    assert ex._workdir is None


# -- time limits -------------------------------------------------------------------------------------------------
def test_the_notebook_limit_is_off_when_zero_or_negative(clock):
    """notebook_timeout 0 (or less) means no whole-notebook limit; otherwise what is left counts down."""
    for off in (0, -5):
        ex = _running(_executor(notebook_timeout=off), clock)
        assert ex._remaining() is None
    ex = _running(_executor(notebook_timeout=1), clock)
    assert ex._remaining() == 1
    ex = _running(_executor(notebook_timeout=10), clock)
    clock.now += 4
    assert ex._remaining() == 6


def test_a_cells_time_is_the_cell_limit_capped_by_what_is_left_of_the_notebooks(clock):
    """A cell may run for its own limit, but never past the notebook's deadline (and always at least 1 s)."""
    ex = _running(_executor(timeout=30, notebook_timeout=0), clock)
    assert ex._get_timeout(_answer("x = 1", "a")) == 30
    ex = _running(_executor(timeout=30, notebook_timeout=100), clock, left=5.5)
    assert ex._get_timeout(_answer("x = 1", "a")) == 6  # rounded up: a cell never gets less than is left
    clock.now += 5.0
    assert ex._get_timeout(None) == 1
    clock.now += 10  # past the deadline: still one second, never zero (zero would mean "no limit")
    assert ex._get_timeout(None) == 1
    ex = _running(_executor(timeout=3, notebook_timeout=100), clock, left=50)
    assert ex._get_timeout(None) == 3
    ex = _running(_executor(timeout=0, notebook_timeout=100), clock, left=7.2)
    assert ex._get_timeout(None) == 8  # no cell limit: the notebook's still applies
    ex = _running(_executor(timeout=30, notebook_timeout=100), clock, left=50)
    ex.timeout_func = lambda cell: 2 if cell is not None and "slow" in cell.source else 40
    assert ex._get_timeout(_answer("slow()", "a")) == 2 and ex._get_timeout(_answer("x", "b")) == 40


class _Interrupts:
    """The kernel manager's interrupt, counted (nbclient calls it when a cell runs out of time)."""

    def __init__(self):
        self.count = 0

    async def interrupt_kernel(self):
        self.count += 1


def test_a_cell_over_its_time_is_interrupted_and_recorded_as_a_cell_timeout(clock):
    """A cell over its own limit is interrupted and recorded; the notebook goes on."""
    ex = _running(_executor(timeout=7, notebook_timeout=100), clock, left=1.0)
    ex.km = _Interrupts()
    reply = run_sync(ex._async_handle_timeout)(7, _answer("while True: pass", "answer_q1"))
    assert ex.km.count == 1 and reply["content"]["status"] == "error"
    assert _events(ex) == [{"kind": "cell timeout", "cell": "answer_q1", "seconds": 7}]
    assert ex._stop_reason is None  # the next cells still run


def test_a_timeout_when_the_notebooks_time_is_used_up_stops_the_notebook(clock):
    """A timeout at the notebook's deadline is a notebook timeout, and stops the notebook."""
    ex = _running(_executor(timeout=7, notebook_timeout=100), clock, left=0.5)
    ex.km = _Interrupts()
    run_sync(ex._async_handle_timeout)(1, _answer("while True: pass", "answer_q2"))
    assert _events(ex) == [{"kind": "notebook timeout", "cell": "answer_q2", "seconds": 100}]
    assert ex._stop_reason == "the notebook ran out of its 100 s" and ex.km.count == 1
    ex = _running(_executor(timeout=7, notebook_timeout=0), clock)  # no notebook limit: always the cell's
    ex.km = _Interrupts()
    run_sync(ex._async_handle_timeout)(7, None)
    assert _events(ex) == [{"kind": "cell timeout", "cell": "?", "seconds": 7}]


def test_without_interrupting_a_cell_over_its_time_raises_for_that_cell(clock):
    """With interrupt_on_timeout off, nbclient's own error for the cell is raised."""
    ex = _running(_executor(timeout=7, notebook_timeout=100, interrupt_on_timeout=False), clock, left=50)
    with pytest.raises(CellTimeoutError, match="Cell execution timed out"):
        run_sync(ex._async_handle_timeout)(7, _answer("while True: pass", "answer_q1"))


# -- running cells (the kernel's answers replaced by stand-ins, to reach every branch quickly) ----------------
class _Cells:
    """Stands in for the kernel running a student cell: sets outputs, or raises what nbclient raises."""

    def __init__(self, outputs=(), fail=None):
        self.outputs, self.fail, self.ran = list(outputs), fail, []

    def __call__(self, cell, index, store_history=True):
        self.ran.append((cell.source, index, store_history))
        cell.outputs = list(self.outputs)
        if self.fail is not None:
            raise self.fail
        return cell


class _Judge:
    """Stands in for the judge process: records what it is asked and answers with given outputs."""

    def __init__(self, test_outputs=(), trusted_outputs=()):
        self.test_outputs, self.trusted_outputs = list(test_outputs), list(trusted_outputs)
        self.tests, self.setups = [], []

    def test(self, source, payload):
        self.tests.append((source, json.loads(payload)))
        return [nbformat.from_dict(o) for o in self.test_outputs]

    def trusted(self, source):
        self.setups.append(source)
        return list(self.trusted_outputs)


def test_a_student_cell_runs_in_the_kernel_and_a_missing_module_is_recorded(clock):
    """A student cell runs in the kernel; a module it could not import is recorded for the status."""
    missing = _error("ModuleNotFoundError", "No module named 'seaborn'")
    ex = _running(_executor(notebook_timeout=100), clock, judge_=_Judge())
    ex.execute_cell = _Cells([_stream("hello\n"), missing])
    cell = _answer("import seaborn", "answer_q1")
    resources = ex.resources
    result, returned = ex.preprocess_cell(cell, resources, 3)
    assert result is cell and returned is resources and ex.execute_cell.ran == [("import seaborn", 3, True)]
    assert cell.outputs == [_stream("hello\n"), missing]
    assert _events(ex) == [{"kind": "missing module", "cell": "answer_q1", "judged": False, "module": "seaborn"}]
    assert ex._judge.setups == [] and ex._stop_reason is None


def test_a_cell_that_prints_too_much_is_cut_to_the_cell_limit(clock):
    """A cell's output is cut to the cell limit, said in the cell and recorded."""
    ex = _running(_executor(notebook_timeout=0, max_output_cell_kb=1, max_output_notebook_kb=100), clock)
    ex.execute_cell = _Cells([_stream("x" * 1500)])
    cell, _ = ex.preprocess_cell(_answer("print('x' * 1500)", "answer_q1"), ex.resources, 0)
    assert cell.outputs[0]["text"] == "x" * 1024 and "the limit is 1 KB per cell" in cell.outputs[1]["text"]
    assert _events(ex) == [{"kind": "output cut", "cell": "answer_q1", "bytes": 1500 - 1024}]


def test_a_kernel_that_dies_stops_the_notebook_and_later_cells_are_not_run(clock):
    """What the cell printed is kept, its death and the kernel's last words are recorded, later cells score 0."""
    ex = _running(_executor(notebook_timeout=100), clock)
    ex.km = NS(sandbox_log=deque(["Traceback", "MemoryError"]))
    ex.execute_cell = _Cells([_stream("partial\n")], fail=DeadKernelError("Kernel died"))
    cell, _ = ex.preprocess_cell(_answer("x = [0] * 10**10", "answer_q1"), ex.resources, 1)
    assert cell.outputs == [_stream("partial\n"), execute.not_run_output("the kernel died in cell answer_q1")]
    assert _events(ex) == [{"kind": "kernel died", "cell": "answer_q1", "log": "Traceback\nMemoryError"}]
    ex.execute_cell = _Cells()
    later = _test("assert x", "test_q1")
    later.outputs = [_stream("old output")]
    note = _cell("## Next task", "task_q2", kind="markdown")
    assert ex.preprocess_cell(later, ex.resources, 2)[0].outputs == [
        execute.not_run_output("not run: the kernel died in cell answer_q1")]
    assert "outputs" not in ex.preprocess_cell(note, ex.resources, 3)[0]  # text cells are left alone
    assert ex.execute_cell.ran == [] and len(_events(ex)) == 1


def test_a_kernel_that_stops_answering_stops_the_notebook(clock):
    """A kernel that ignores the interrupt stops the notebook: the cell and the later ones say why."""
    ex = _running(_executor(notebook_timeout=100), clock)
    ex.execute_cell = _Cells([_stream("looping\n")], fail=CellTimeoutError("Timeout waiting for IOPub output"))
    cell, _ = ex.preprocess_cell(_answer("while True: ...", "answer_q3"), ex.resources, 4)
    assert cell.outputs == [_stream("looping\n"),
                            execute.not_run_output("the kernel stopped answering in cell answer_q3")]
    assert _events(ex) == [{"kind": "kernel unresponsive", "cell": "answer_q3"}]
    ex.execute_cell = _Cells()
    assert ex.preprocess_cell(_answer("y = 1", "answer_q4"), ex.resources, 5)[0].outputs == [
        execute.not_run_output("not run: the kernel stopped answering in cell answer_q3")]


def test_cells_reached_after_the_notebooks_time_are_not_run_and_say_why(clock):
    """Cells reached at or after the notebook's deadline are not run, score 0, and one event says why."""
    ex = _running(_executor(notebook_timeout=100), clock, left=0.5)
    ex.execute_cell = _Cells([_stream("ran\n")])
    assert ex.preprocess_cell(_answer("x = 1", "answer_q1"), ex.resources, 0)[0].outputs == [_stream("ran\n")]
    clock.now += 0.5  # exactly at the deadline
    first, _ = ex.preprocess_cell(_answer("y = 2", "answer_q2"), ex.resources, 1)
    second, _ = ex.preprocess_cell(_test("assert y == 2", "test_q2"), ex.resources, 2)
    reason = execute.not_run_output("not run: the notebook ran out of its 100 s")
    assert first.outputs == [reason] and second.outputs == [reason]
    assert _events(ex) == [{"kind": "notebook timeout", "cell": "answer_q2", "seconds": 100}]
    assert len(ex.execute_cell.ran) == 1


def test_the_instructors_setup_runs_in_both_kernels_and_its_failure_in_the_judge_is_recorded(clock):
    """A locked setup cell runs in the kernel and in the judge; a failure in the judge is recorded, shortened."""
    judge_ = _Judge(trusted_outputs=[_stream("loaded\n"), _error("FileNotFoundError", "f" * 400)])
    ex = _running(_executor(notebook_timeout=100), clock, plan={1: ("trusted", [])}, judge_=judge_)
    ex.execute_cell = _Cells([_stream("loaded\n")])
    cell, _ = ex.preprocess_cell(_setup("rows = open('data.csv').read()", "setup"), ex.resources, 1)
    assert cell.outputs == [_stream("loaded\n")]  # the student sees the kernel's run, not the judge's
    assert judge_.setups == ["rows = open('data.csv').read()"] and ex.execute_cell.ran
    (event,) = _events(ex)
    assert event == {"kind": "judge setup failed", "cell": "setup", "error": ("FileNotFoundError: " + "f" * 400)[:300]}
    ex.preprocess_cell(_answer("x = 1", "answer_q1"), ex.resources, 2)  # a student cell: never in the judge
    assert judge_.setups == ["rows = open('data.csv').read()"]


# -- tests judged outside the kernel (the kernel's side of the hand-over scripted) ---------------------------
def _msg(kind: str, content: dict, parent: str = "request-1") -> dict:
    return {"msg_type": kind, "header": {"msg_type": kind}, "parent_header": {"msg_id": parent},
            "content": content, "metadata": {}}


def _values_msg(data, parent: str = "request-1") -> dict:
    return _msg("display_data", {"data": {values.MIME: data if isinstance(data, str) else json.dumps(data)},
                                 "metadata": {}}, parent)


BUSY = _msg("status", {"execution_state": "busy"})
IDLE = _msg("status", {"execution_state": "idle"})
MISSING = {"t": "missing"}


class _KernelSide:
    """Stands in for the student's kernel asked for values: it answers with scripted iopub messages (None: a
    quiet second), and the clock moves by each wait that finds nothing."""

    def __init__(self, clock: _Clock, messages=(), alive: bool = True):
        self.clock, self.messages, self.alive = clock, list(messages), alive
        self.sent, self.waits, self.interrupted_at = [], [], []
        self.sandbox_log = deque(["Killed"])

    def execute(self, code, **kw):
        self.sent.append((code, kw))
        return "request-1"

    async def get_iopub_msg(self, timeout):
        self.waits.append(timeout)
        if len(self.waits) > 200:
            raise RuntimeError("still waiting after 200 polls")
        if self.messages:
            msg = self.messages.pop(0)
            if msg is not None:
                return msg
        self.clock.now += timeout
        raise queue.Empty

    async def is_alive(self):
        return self.alive

    async def interrupt_kernel(self):
        self.interrupted_at.append(self.clock.now)


def _fetching(clock, messages=(), alive=True, **traits):
    traits.setdefault("timeout", 5)
    traits.setdefault("notebook_timeout", 0)
    left = traits.pop("left", None)
    ex = _running(_executor(**traits), clock, left=left)
    ex.kc = ex.km = _KernelSide(clock, messages, alive)
    return ex


def test_the_values_a_test_reads_are_asked_from_the_kernel_and_only_those_come_back(clock, monkeypatch):
    """Only the reply to this request counts, and only the names asked for reach the judge."""
    answer = values.encode(42)
    ex = _fetching(clock, [
        _values_msg({"answer": values.encode(0)}, parent="someone-else"),  # not the answer to this request
        BUSY,
        None,  # a quiet second: the kernel is alive, keep waiting
        _msg("display_data", {"data": {"text/plain": "noise"}, "metadata": {}}),
        _msg("display_data", {"metadata": {}}),  # malformed (the student controls the kernel): ignored
        _values_msg({"answer": answer, "smuggled": values.encode("extra")}),
        IDLE,
    ])
    payload, problem = run_sync(ex._async_fetch_values)(["answer", "gone"])
    assert problem is None and json.loads(payload) == {"answer": answer, "gone": MISSING}
    (code, options), = ex.kc.sent
    assert options == {"silent": True, "store_history": False, "allow_stdin": False, "stop_on_error": False}
    assert all(wait is not None and 0 < wait <= 1.0 for wait in ex.kc.waits) and ex.kc.interrupted_at == []
    published = []  # what the request does in the student's kernel: publish exactly the names asked for
    import IPython.display

    monkeypatch.setattr(IPython.display, "publish_display_data", published.append)
    exec(code, {"answer": 42, "other": 1})
    assert json.loads(published[0][values.MIME]) == {"answer": answer, "gone": MISSING}


def test_a_test_that_reads_nothing_asks_the_kernel_nothing(clock):
    """A test that reads no student name does not disturb the kernel."""
    ex = _fetching(clock)
    assert run_sync(ex._async_fetch_values)([]) == ("{}", None) and ex.kc.sent == []


def test_a_kernel_that_does_not_hand_over_its_values_in_time_is_interrupted(clock):
    """A kernel that does not answer within the cell limit (30 s by default) is interrupted; the test sees no answer."""
    ex = _fetching(clock, [BUSY], timeout=5)
    start = clock.now
    payload, problem = run_sync(ex._async_fetch_values)(["answer", "other"])
    assert problem == "the kernel did not hand over answer, other within 5 s"
    assert json.loads(payload) == {"answer": MISSING, "other": MISSING} and ex.kc.interrupted_at == [start + 5]
    ex = _fetching(clock, timeout=None)
    start = clock.now
    assert run_sync(ex._async_fetch_values)(["a"])[1] == "the kernel did not hand over a within 30 s"
    assert ex.kc.interrupted_at == [start + 30]


def test_fetching_values_waits_no_longer_than_the_notebook_has_left_but_at_least_a_second(clock):
    """The hand-over is bounded by the notebook's deadline too, with a floor of one second."""
    ex = _fetching(clock, timeout=5, notebook_timeout=100, left=3)
    start = clock.now
    assert run_sync(ex._async_fetch_values)(["a"])[1] == "the kernel did not hand over a within 5 s"
    assert ex.kc.interrupted_at == [start + 3]
    ex = _fetching(clock, timeout=5, notebook_timeout=100, left=0.25)
    start = clock.now
    run_sync(ex._async_fetch_values)(["a"])
    assert ex.kc.interrupted_at == [start + 1] and ex.kc.waits == [1.0]


def test_a_kernel_that_died_before_handing_over_is_reported_dead(clock):
    """A kernel found dead while waiting is reported as dead, not as slow."""
    ex = _fetching(clock, alive=False)
    payload, problem = run_sync(ex._async_fetch_values)(["answer"])
    assert problem == "dead" and json.loads(payload) == {"answer": MISSING}


@pytest.mark.parametrize("data", ["{not json", "[1, 2]", {"answer": 1}, None])
def test_an_answer_that_is_not_a_json_object_reaches_the_test_as_no_answer(clock, data):
    """Whatever the (untrusted) kernel sends that is not a JSON object counts as no answer, and says so."""
    messages = [IDLE] if data is None else [_msg("display_data", {"data": {values.MIME: data}}), IDLE]
    ex = _fetching(clock, messages)
    payload, problem = run_sync(ex._async_fetch_values)(["answer"])
    assert problem == "the kernel's answer could not be read" and json.loads(payload) == {"answer": MISSING}


def test_an_answer_over_the_size_limit_is_not_read(clock, monkeypatch):
    """An answer over values.MAX_BYTES is not parsed at all; one at the limit is."""
    text = json.dumps({"answer": values.encode(7)})
    monkeypatch.setattr(values, "MAX_BYTES", len(text))
    ex = _fetching(clock, [_values_msg(text), IDLE])
    assert run_sync(ex._async_fetch_values)(["answer"]) == (text, None)
    monkeypatch.setattr(values, "MAX_BYTES", len(text) - 1)
    ex = _fetching(clock, [_values_msg(text), IDLE])
    assert run_sync(ex._async_fetch_values)(["answer"])[1] == "the kernel's answer could not be read"


def test_a_test_cell_is_judged_outside_the_kernel_on_the_students_values(clock):
    """The test never runs in the student's kernel; the judge's outputs are the cell's, capped, with no count."""
    failed = _error("AssertionError", "answer should be 42")
    no_scipy = _error("ModuleNotFoundError", "No module named 'scipy'")
    judge_ = _Judge(test_outputs=[failed, no_scipy, _stream("y" * 2000)])
    ex = _fetching(clock, [_values_msg({"answer": values.encode(41)}), IDLE], max_output_cell_kb=1)
    ex._cells_plan, ex._judge = {4: ("test", ["answer"])}, judge_
    ex.execute_cell = _Cells()
    cell = _test("assert answer == 42, 'answer should be 42'", "test_q1")
    cell.execution_count = 7
    result, _ = ex.preprocess_cell(cell, ex.resources, 4)
    assert ex.execute_cell.ran == [] and judge_.tests == [(cell.source, {"answer": values.encode(41)})]
    assert result.outputs[:2] == [failed, no_scipy] and result.execution_count is None
    kept = 1024 - execute.output_size(failed) - execute.output_size(no_scipy)
    assert result.outputs[2]["text"] == "y" * kept and "cut here" in result.outputs[3]["text"]
    assert _events(ex) == [{"kind": "output cut", "cell": "test_q1", "bytes": 2000 - kept},
                           {"kind": "missing module", "cell": "test_q1", "judged": True, "module": "scipy"}]


def test_values_that_cannot_be_read_are_recorded_and_the_test_still_runs_without_them(clock):
    """Unreadable values are recorded, and the test runs without them (and fails on its own terms)."""
    judge_ = _Judge(test_outputs=[_error("NameError", "name 'answer' is not defined")])
    ex = _fetching(clock, [IDLE])
    ex._cells_plan, ex._judge = {2: ("test", ["answer"])}, judge_
    result, _ = ex.preprocess_cell(_test("assert answer", "test_q1"), ex.resources, 2)
    assert judge_.tests == [("assert answer", {"answer": MISSING})] and result.outputs[0]["ename"] == "NameError"
    assert _events(ex) == [{"kind": "values unreadable", "cell": "test_q1",
                            "why": "the kernel's answer could not be read"}]


def test_a_kernel_found_dead_at_a_test_stops_the_notebook(clock):
    """A kernel found dead when a test asks for values stops the notebook, with its last words."""
    judge_ = _Judge()
    ex = _fetching(clock, alive=False)
    ex._cells_plan, ex._judge = {2: ("test", ["answer"])}, judge_
    ex.execute_cell = _Cells()
    result, _ = ex.preprocess_cell(_test("assert answer", "test_q1"), ex.resources, 2)
    assert result.outputs == [execute.not_run_output("the kernel died before cell test_q1")]
    assert _events(ex) == [{"kind": "kernel died", "cell": "test_q1", "log": "Killed"}] and judge_.tests == []
    assert ex.preprocess_cell(_answer("x = 1", "answer_q2"), ex.resources, 3)[0].outputs == [
        execute.not_run_output("not run: the kernel died before cell test_q1")]
    assert ex.execute_cell.ran == []


def test_a_test_reading_no_student_value_is_judged_without_asking_the_kernel(clock):
    """A test that reads nothing of the student's is judged on an empty set of values."""
    judge_ = _Judge()
    ex = _fetching(clock)
    ex._cells_plan, ex._judge = {0: ("test", [])}, judge_
    ex.preprocess_cell(_test("assert 1 + 1 == 2", "test_q0"), ex.resources, 0)
    assert judge_.tests == [("assert 1 + 1 == 2", {})] and ex.kc.sent == []


# -- output caps while a cell prints, and after it ran ----------------------------------------------------------
def _printed(text: str, parent: str = "p1") -> dict:
    return _msg("stream", {"name": "stdout", "text": text}, parent)


def test_output_past_a_cells_limit_is_not_kept_while_it_prints(clock):
    """A cell printing without end does not fill the grader's memory: past its limit, output is dropped."""
    ex = _running(_executor(max_output_cell_kb=1, max_output_notebook_kb=10), clock)
    outs = []
    kept = [ex.output(outs, _printed(text), None, 0) for text in ("a" * 1024, "b", "c", "d")]
    note = "\n[grading: output past the limit not kept]\n"
    assert [o["text"] for o in outs] == ["a" * 1024, "b", note]  # one note, however much more is printed
    assert outs[2]["name"] == "stderr" and kept[2:] == [None, None] and kept[1] == _stream("b")
    other = []
    assert ex.output(other, _printed("e"), None, 1) is not None  # the limit is per cell
    ex = _running(_executor(max_output_cell_kb=1, max_output_notebook_kb=10), clock)
    outs = []
    for text in ("a" * 1025, "b", "c"):
        ex.output(outs, _printed(text), None, 0)
    assert [o["text"] for o in outs] == ["a" * 1025, note]


def test_output_past_the_notebooks_limit_is_not_kept(clock):
    """Past the notebook's limit, nothing more is kept, with one note saying so."""
    ex = _running(_executor(max_output_cell_kb=1, max_output_notebook_kb=10), clock)
    ex._notebook_bytes = 10 * 1024  # at the limit: still kept
    outs = []
    ex.output(outs, _printed("kept"), None, 0)
    ex._notebook_bytes = 10 * 1024 + 1
    more = []
    for text in ("x", "y"):
        ex.output(more, _printed(text), None, 1)
    assert [o["text"] for o in outs] == ["kept"]
    assert more == [{"output_type": "stream", "name": "stderr",
                     "text": "\n[grading: output past the limit not kept]\n"}]


def test_the_note_about_dropped_output_is_not_repeated_but_a_student_line_does_not_count_as_it(clock):
    """The note is added once per run of dropped output; only the grader's own stderr note counts as it."""
    ex = _running(_executor(max_output_cell_kb=1, max_output_notebook_kb=10), clock)
    ex._cell_bytes[0] = 5000
    outs = [_stream("output not kept? fine\n")]
    ex.output(outs, _printed("more"), None, 0)
    outs.append(_stream("an error\n", name="stderr"))
    ex.output(outs, _printed("more"), None, 0)
    assert [o["text"] for o in outs].count("\n[grading: output past the limit not kept]\n") == 2
    assert len(outs) == 4


def test_rich_output_keeps_its_display_id(clock):
    """Rich output keeps nbclient's display-id bookkeeping (so later display updates find it)."""
    ex = _running(_executor(), clock)
    outs = []
    shown = _msg("display_data", {"data": {"text/plain": "x"}, "metadata": {}, "transient": {"display_id": "d1"}})
    ex.output(outs, shown, "d1", 3)
    assert ex._display_id_map["d1"] == {3: [0]} and outs[0]["data"] == {"text/plain": "x"}


def test_each_cell_is_capped_then_the_notebook_when_its_total_is_reached(clock):
    """Each cell keeps its limit until the notebook's total is reached; then the notebook's line says so."""
    ex = _running(_executor(max_output_cell_kb=1, max_output_notebook_kb=3), clock)
    cells = []
    for char in "abcd":
        cell = _answer(f"print('{char}' * 1500)", f"answer_{char}")
        cell.outputs = [_stream(char * 1500)]
        ex._cap(cell)
        cells.append(cell)
    note = execute.output_size(cells[0].outputs[1])
    assert cells[0].outputs[0]["text"] == "a" * 1024 and "the limit is 1 KB per cell" in cells[0].outputs[1]["text"]
    assert cells[1].outputs[0]["text"] == "b" * 1024
    left = 3 * 1024 - 2 * (1024 + note)
    assert cells[2].outputs[0]["text"] == "c" * left
    assert "the notebook reached its limit of 3 KB" in cells[2].outputs[1]["text"]
    assert [o["name"] for o in cells[3].outputs] == ["stderr"]  # nothing left for the last one
    assert [e["bytes"] for e in _events(ex)] == [476, 476, 1500 - left, 1500]
    assert [e["cell"] for e in _events(ex)] == ["answer_a", "answer_b", "answer_c", "answer_d"]
    assert ex._notebook_bytes == sum(execute.output_size(o) for c in cells for o in c.outputs)
    quiet, text = _answer("x = 1", "answer_e"), _cell("Some *text*", "md", kind="markdown")
    ex._cap(quiet)
    ex._cap(text)
    assert quiet.outputs == [] and "outputs" not in text and len(_events(ex)) == 4


def test_missing_modules_are_recorded_by_name_whoever_ran_the_cell(clock):
    """Only ModuleNotFoundError counts, named by its module (or its message, shortened)."""
    ex = _running(_executor(), clock)
    cell = _answer("import scipy.stats", "answer_q1")
    cell.outputs = [_stream("No module named 'x'"), _error("ImportError", "No module named 'y'"),
                    _error("ModuleNotFoundError", "No module named 'scipy.stats'"),
                    _error("ModuleNotFoundError", "z" * 100), {"output_type": "error", "ename": "ModuleNotFoundError"}]
    ex._note_missing_modules(cell, judged=True)
    ex._note_missing_modules(_cell("text", "md", kind="markdown"), judged=False)
    assert _events(ex) == [
        {"kind": "missing module", "cell": "answer_q1", "judged": True, "module": "scipy.stats"},
        {"kind": "missing module", "cell": "answer_q1", "judged": True, "module": "z" * 80},
        {"kind": "missing module", "cell": "answer_q1", "judged": True, "module": ""}]


# -- which cell runs where ---------------------------------------------------------------------------------------
def _assignment():
    """An assignment as nbgrader records it: a task text, two setup cells, answers, tests, odd cells."""
    return [
        _cell("# Task", "intro", kind="markdown", locked=True),
        _setup("import math\ntotal = 0\ndef helper(x):\n    return x * 2", "setup"),
        _setup("scale = 21", "setup2"),
        _answer("answer = helper(scale)\ntotal = 5", "answer_q1"),
        _test("assert answer == helper(scale) and total == 5 and math.isfinite(answer)", "test_q1"),
        _cell("auto = 1", "auto_q2", grade=True, solution=True, points=1),  # an answer that is also graded
        _test("assert auto == 1", "test_q2"),
        _cell("scratch = 1", "scratch"),  # recorded, but neither locked nor an answer: the student's
        _setup("", "empty_setup"),
    ]


def _planned(tmp_path, **traits):
    cells = _assignment()
    url = _gradebook(tmp_path, cells)
    _source_notebook(tmp_path, [
        _answer("### BEGIN SOLUTION\nanswer = helper(scale)\ntotal = 5\n### END SOLUTION", "answer_q1"),
        _cell("### BEGIN SOLUTION\nauto = 1\n### END SOLUTION", "auto_q2", grade=True, solution=True, points=1),
        _setup("import math\ntotal = 0\nsetup_only = 1", "setup"),
        _cell("Written: verdict = 1 is not code", "written", kind="markdown", grade=True, solution=True, points=2),
        nbformat.v4.new_code_cell("scratch_name = 1"),  # no nbgrader metadata at all
    ])
    submitted = copy_cells = [nbformat.from_dict(c) for c in cells]
    copy_cells[6].source = "assert auto == 1 or True"  # the student edited this test: it is not trusted
    submitted += [_cell("x = 1", "not_recorded", locked=True), _cell("x = 2")]
    ex = CourseExecute(config=_config(tmp_path, **traits), kernel_name="python3")
    info = {"db_url": url, "notebook": "nb", "assignment": "a1"}
    return ex, nbformat.v4.new_notebook(cells=submitted), info


def test_tests_go_to_the_judge_with_the_names_they_read_and_locked_cells_are_trusted_setup(tmp_path):
    """A test reads the students' names (and the answers' names even if the setup set them too); names the
    instructor's setup bound come from the judge's own run of the setup."""
    ex, nb, info = _planned(tmp_path)
    assert ex._plan(nb, {"nbgrader": info}) == {1: ("trusted", []), 2: ("trusted", []),
                                                4: ("test", ["answer", "total"]), 8: ("trusted", [])}


def test_nothing_is_judged_outside_without_a_gradebook_or_when_turned_off(tmp_path):
    """Without a gradebook entry (or with judge_outside off) every cell runs in the student's kernel."""
    ex, nb, info = _planned(tmp_path)
    assert ex._plan(nb, None) == {} and ex._plan(nb, {}) == {} and ex._plan(nb, {"nbgrader": None}) == {}
    assert ex._plan(nb, {"nbgrader": dict(info, db_url="")}) == {}
    assert ex._plan(nb, {"nbgrader": dict(info, notebook="other")}) == {}  # not in the gradebook
    off = CourseExecute(config=_config(tmp_path, judge_outside=False), kernel_name="python3")
    assert off._plan(nb, {"nbgrader": info}) == {}


def test_the_answers_names_are_read_from_the_source_notebooks_solutions(tmp_path):
    """The names the model answers set, graded answers included, come from the source notebook."""
    ex, _, info = _planned(tmp_path)
    assert ex._answer_names(info) == {"answer", "total", "auto"}
    assert ex._answer_names(dict(info, notebook="absent")) == set()  # no source: the locked cells decide



def test_each_notebook_starts_afresh_and_a_notebook_that_gets_no_kernel_leaves_no_judge_running(
        tmp_path, monkeypatch, judges):
    """preprocess sets up the notebook's record, plan and judge before the kernel starts; when the kernel
    cannot start (no bubblewrap here), a judge of its own is closed and the worker's shared one kept."""
    monkeypatch.setattr(sandbox, "available", lambda: (False, "bubblewrap (`bwrap`) is not installed"))
    ex, nb, info = _planned(tmp_path, sandbox="bwrap", fresh_judge=True)
    ex._notebook_bytes, ex._cell_bytes, ex._stop_reason = 5000, {0: 5000}, "left from the last notebook"
    resources = {"nbgrader": info}
    with pytest.raises(execute.SandboxUnavailable):
        ex.preprocess(nb, resources)
    assert resources["course_grading"] == {"events": []}
    assert (ex._notebook_bytes, ex._cell_bytes, ex._stop_reason) == (0, {}, None)
    assert ex._cells_plan[4] == ("test", ["answer", "total"]) and ex._judge is None
    (own,) = judges
    assert own.parent is ex and own.closed == 1 and own.client is None
    shared_ex = CourseExecute(config=_config(tmp_path, sandbox="bwrap"), kernel_name="python3")
    with pytest.raises(execute.SandboxUnavailable):
        shared_ex.preprocess(nb, {"nbgrader": info})
    shared = judges[1]
    assert shared.parent is shared_ex and shared.closed == 0 and judge._SHARED[os.getpid()] is shared
    with pytest.raises(execute.SandboxUnavailable):  # no gradebook: no plan, no judge
        shared_ex.preprocess(nb, None)
    assert len(judges) == 2


def test_a_kernel_manager_handed_to_preprocess_is_the_one_used(tmp_path, monkeypatch):
    """A caller's kernel manager is used instead of a new one; when its kernel cannot start, the
    work folder made for it (and its open log) does not outlive the failure."""
    from jupyter_client.kernelspec import NoSuchKernel

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the work folder is made here
    ex = CourseExecute(sandbox="none", preload_kernels=False, kernel_name="")
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "kernel-of-the-notebook", "display_name": "k"}})
    with pytest.raises(NoSuchKernel, match="handed-in-kernel"):
        ex.preprocess(nb, {}, km=AsyncKernelManager(kernel_name="handed-in-kernel"))
    assert (ex._workdir, ex._kernel_log) == (None, None)
    assert not list(tmp_path.glob("course-grade-*"))


# -- real kernels, end to end -------------------------------------------------------------------------------
class _JudgeSpy(judge.Judge):
    """The real judge, remembering the instances made and closed (the judge kernel's lifetime)."""

    made: list = []

    def __init__(self, parent):
        super().__init__(parent)
        self.closed = 0
        _JudgeSpy.made.append(self)

    def close(self) -> None:
        self.closed += 1
        super().close()


@pytest.fixture
def judges(monkeypatch):
    _JudgeSpy.made = []
    monkeypatch.setattr(judge, "Judge", _JudgeSpy)
    monkeypatch.setattr(judge, "_SHARED", {})
    yield _JudgeSpy.made
    judge.close_shared()


def _submission(tmp_path: Path) -> Path:
    folder = tmp_path / "submitted" / "alice" / "a1"
    (folder / "sub").mkdir(parents=True)
    (folder / "data.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (folder / "sub" / "more.txt").write_text("more", encoding="utf-8")
    nbformat.write(nbformat.v4.new_notebook(), folder / "nb.ipynb")
    return folder


def _resources(url: str, folder: Path) -> dict:
    return {"nbgrader": {"db_url": url, "notebook": "nb", "assignment": "a1"}, "metadata": {"path": str(folder)}}


_REPORT = ("import json, os\n"
           "print(json.dumps({'cwd': os.getcwd(), 'home': os.environ.get('HOME'),"
           " 'secret': os.environ.get('GRADER_SECRET_TOKEN'),"
           " 'files': sorted(os.path.relpath(os.path.join(d, f)) for d, _, fs in os.walk('.') for f in fs)}))\n")


@pytest.mark.skipif(not HAVE_BWRAP, reason="needs bubblewrap")
def test_a_sandboxed_submission_is_judged_outside_capped_and_stopped_when_its_kernel_dies(
        tmp_path, monkeypatch, judges):
    """The whole path in the sandbox: student cells in bwrap, tests in the judge, caps, a kernel that dies."""
    monkeypatch.setenv("GRADER_SECRET_TOKEN", "do-not-leak")
    folders = []
    new_folder = sandbox.new_folder
    monkeypatch.setattr(sandbox, "new_folder", lambda: folders.append(new_folder()) or folders[-1])
    cells = [
        _cell("# Assignment", "intro", kind="markdown", locked=True),
        _setup("scale = 2", "setup"),
        _setup("rows = open('data.csv').read().split()", "setup_data"),  # the judge has no data files
        _answer(_REPORT + "answer = scale * 21\nprint(rows)", "answer_q1"),
        _test("checked_here = True\nassert answer == 42, 'answer should be 42'", "test_q1"),
        _answer("print('checked_here' in globals())\nimport no_such_module_for_grading", "answer_q2"),
        _test("assert answer2 == 1, 'answer2 should be 1'", "test_q2"),
        _answer("print('x' * 3000)", "answer_q3"),
        _answer("import os\nos._exit(1)", "answer_q4"),
        _test("assert answer == 42", "test_q4"),
    ]
    url = _gradebook(tmp_path, cells)
    cfg = _config(tmp_path, sandbox="bwrap", preload_kernels=False, notebook_timeout=120, max_output_cell_kb=1)
    cfg.Execute.timeout = 10
    ex = CourseExecute(config=cfg)
    nb, resources = ex.preprocess(nbformat.v4.new_notebook(cells=cells), _resources(url, _submission(tmp_path)))
    out = nb.cells
    printed = "".join(o["text"] for o in out[3].outputs)
    report = json.loads(printed.splitlines()[0])
    assert report["cwd"] == report["home"] == sandbox.WORK and report["secret"] is None
    assert "data.csv" in report["files"] and "nb.ipynb" not in report["files"]
    assert printed.splitlines()[1] == "['a,b', '1,2']"  # the setup ran in the kernel, with the data
    assert out[4].outputs == [] and out[4].execution_count is None  # the test passed, in the judge
    assert out[5].outputs[0]["text"] == "False\n"  # the test's own names never reached the kernel
    assert [(o.ename, o.evalue) for o in out[6].outputs] == [("NameError", "name 'answer2' is not defined")]
    assert out[7].outputs[0]["text"] == "x" * 1024
    assert out[7].outputs[-1]["text"] == "\n[grading: 2 KB of output cut here: the limit is 1 KB per cell]\n"
    assert out[8].outputs[-1] == execute.not_run_output("the kernel died in cell answer_q4")
    assert out[9].outputs == [execute.not_run_output("not run: the kernel died in cell answer_q4")]
    events = resources["course_grading"]["events"]
    assert [e["kind"] for e in events] == ["judge setup failed", "missing module", "output cut", "kernel died"]
    assert events[0]["cell"] == "setup_data" and events[0]["error"].startswith("FileNotFoundError: ")
    assert events[1] == {"kind": "missing module", "cell": "answer_q2", "judged": False,
                         "module": "no_such_module_for_grading"}
    assert events[2] == {"kind": "output cut", "cell": "answer_q3", "bytes": 3001 - 1024}
    assert events[3]["cell"] == "answer_q4" and isinstance(events[3]["log"], str)
    assert len(folders) == 1 and not os.path.exists(folders[0])  # the sandbox's host folder is removed
    (shared,) = judges  # the worker's judge is kept for the next notebook, not closed
    assert shared.closed == 0 and shared.alive() and judge._SHARED[os.getpid()] is shared


def test_without_the_sandbox_a_kernel_works_in_a_fresh_copy_and_its_death_is_recorded_with_its_log(
        tmp_path, monkeypatch, judges):
    """--no-sandbox: a temporary copy of the files, no secrets, and the kernel's last words in the record."""
    monkeypatch.setenv("GRADER_SECRET_TOKEN", "do-not-leak")
    cells = [
        _answer(_REPORT, "answer_a"),
        _answer("import os, sys, time\nprint('to the notebook', flush=True)\nos.write(1, b'fd one\\n')\n"
                "os.write(2, b'fd two\\n')\ntime.sleep(0.5)\nos._exit(3)", "answer_b"),
        _test("assert answer_b == 1", "test_b"),
    ]
    url = _gradebook(tmp_path, cells)
    cfg = _config(tmp_path, sandbox="none", preload_kernels=False, fresh_judge=True, notebook_timeout=120)
    cfg.Execute.timeout = 10
    ex = CourseExecute(config=cfg)
    nb, resources = ex.preprocess(nbformat.v4.new_notebook(cells=cells), _resources(url, _submission(tmp_path)))
    report = json.loads(nb.cells[0].outputs[0]["text"])
    work = Path(report["cwd"])
    assert work.name.startswith("course-grade-") and report["home"] == str(work) and report["secret"] is None
    assert [f for f in report["files"] if not f.startswith(".ipython")] == [".kernel.log", "data.csv", "sub/more.txt"]
    assert not work.exists()  # the copy is removed after the run
    *said, last = nb.cells[1].outputs  # what it said before dying is kept, then why it stopped
    assert "".join(o["text"] for o in said if o["name"] == "stdout") in ("to the notebook\nfd one\n",
                                                                          "fd one\nto the notebook\n")
    assert [o["text"] for o in said if o["name"] == "stderr"] == ["fd two\n"]
    assert last == execute.not_run_output("the kernel died in cell answer_b")
    assert nb.cells[2].outputs == [execute.not_run_output("not run: the kernel died in cell answer_b")]
    (event,) = resources["course_grading"]["events"]
    assert event["kind"] == "kernel died" and event["cell"] == "answer_b"
    assert "fd one" in event["log"] and "fd two" in event["log"]  # the kernel's own stdout and stderr, kept in its log
    (fresh,) = judges  # a judge of its own for this notebook, closed with it
    assert fresh.closed == 1 and fresh.client is None
