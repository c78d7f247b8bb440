"""The grading modules one by one: limits, workers, status, prechecks, feedback filter, collect."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import psutil
import pytest
from grading_helpers import ASSIGNMENT, make_course, run_cli

from course.grading import autograde, execute, feedback, limits, samples, status, workers

# -- limits ------------------------------------------------------------------------------------------


def _limited(code: str, **kw) -> subprocess.CompletedProcess:
    command = limits.wrap([sys.executable, "-c", code], **kw)
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(os.name != "posix", reason="POSIX resource limits")
def test_memory_limit_turns_a_huge_allocation_into_memory_error():
    done = _limited("x = bytearray(800 * 2**20)", memory_mb=400)
    assert done.returncode != 0 and "MemoryError" in done.stderr
    assert _limited("x = bytearray(50 * 2**20)", memory_mb=400).returncode == 0


@pytest.mark.skipif(os.name != "posix", reason="POSIX resource limits")
def test_file_size_limit_stops_a_runaway_writer(tmp_path):
    code = f"open({str(tmp_path / 'big.bin')!r}, 'wb').write(b'0' * (3 * 2**20))"
    done = _limited(code, file_size_mb=1)
    assert done.returncode != 0 and "File too large" in done.stderr
    assert (tmp_path / "big.bin").stat().st_size <= 2**20


@pytest.mark.skipif(os.name != "posix", reason="POSIX resource limits")
def test_a_python_module_runs_in_the_launcher_without_debugpy(tmp_path):
    (tmp_path / "probe.py").write_text("import os, sys\nprint(sys.modules.get('debugpy', 'absent'), os.getpid())")
    command = limits.wrap([sys.executable, "-m", "probe"], memory_mb=1024, debugger=False)
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == "None"


def test_kernel_environment_drops_secrets_and_homes_in_the_work_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("GITHUB_TOKEN", "x")
    monkeypatch.setenv("MY_DB_PASSWORD", "x")
    monkeypatch.setenv("LANG", "C.UTF-8")
    env = execute.kernel_environment(str(tmp_path))
    assert "GITHUB_TOKEN" not in env and "MY_DB_PASSWORD" not in env and env["LANG"] == "C.UTF-8"
    assert env["HOME"] == env["TMPDIR"] == str(tmp_path)
    assert env["COURSE_PROGRESS_FILE"].startswith(str(tmp_path)) and env["OMP_NUM_THREADS"] == "1"


# -- workers -----------------------------------------------------------------------------------------


def _job(job):
    """A job for the worker tests: sleep, hang with a child process, crash, or answer."""
    if job["kind"] == "hang":
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        Path(job["pidfile"]).write_text(str(child.pid))
        time.sleep(600)
    if job["kind"] == "crash":
        os._exit(3)
    if job["kind"] == "raise":
        raise ValueError("broken job")
    return {"status": "graded", "value": job["n"] * 2, "pid": os.getpid()}


def test_workers_keep_the_order_and_reuse_processes():
    results = workers.run([{"kind": "ok", "n": n} for n in range(6)], _job, workers=2, hard_timeout=60)
    assert [r["value"] for r in results] == [0, 2, 4, 6, 8, 10]
    assert len({r["pid"] for r in results}) == 2


def test_watchdog_kills_a_stuck_job_and_everything_it_started(tmp_path):
    pidfile = tmp_path / "child.pid"
    seen = []
    jobs = [{"kind": "hang", "pidfile": str(pidfile)}, {"kind": "ok", "n": 1}, {"kind": "crash"},
            {"kind": "raise"}, {"kind": "ok", "n": 2}]
    results = workers.run(jobs, _job, workers=2, hard_timeout=3, on_result=lambda j, r: seen.append(r))
    assert results[0]["status"] == "timed out" and "watchdog" in results[0]["reason"]
    assert results[2]["status"] == "error" and "exit code 3" in results[2]["reason"]
    assert results[3]["status"] == "error" and "broken job" in results[3]["reason"]
    assert [results[1]["value"], results[4]["value"]] == [2, 4]
    assert len(seen) == 5
    child = int(pidfile.read_text())
    assert not psutil.pid_exists(child) or psutil.Process(child).status() == psutil.STATUS_ZOMBIE


# -- status ------------------------------------------------------------------------------------------


def test_status_keeps_the_worst_and_explains_each_event():
    lim = {"cell_timeout": 30, "notebook_timeout": 180}
    assert status.judge([], [], lim) == ("graded", "")
    state, reason = status.judge([{"kind": "cell timeout", "cell": "answer_q2", "seconds": 30}],
                                 [{"kind": "edited", "cell": "test_q1", "cell_type": "code", "graded": True}], lim)
    assert state == "timed out" and "answer_q2" in reason and "test_q1" in reason
    state, reason = status.judge([{"kind": "kernel died", "cell": "answer_q1", "log": "MemoryError"}], [], lim)
    assert state == "kernel died" and "memory" in reason
    state, reason = status.judge([], [{"kind": "edited", "cell": "intro", "cell_type": "markdown",
                                       "locked": True, "graded": False}], lim)
    assert state == "graded" and "intro" in reason
    assert status.worst(["graded", "tampered", "timed out"]) == "timed out"


def test_fingerprint_changes_with_the_submission_and_the_limits(tmp_path):
    sub, src = tmp_path / "sub", tmp_path / "src"
    sub.mkdir(), src.mkdir()
    (sub / "a.ipynb").write_text("1")
    (src / "a.ipynb").write_text("1")
    first = status.fingerprint(sub, src, {"cell_timeout": 30})
    assert first == status.fingerprint(sub, src, {"cell_timeout": 30})
    assert first != status.fingerprint(sub, src, {"cell_timeout": 31})
    (sub / "a.ipynb").write_text("2")
    assert first != status.fingerprint(sub, src, {"cell_timeout": 30})


def test_precheck_names_what_cannot_be_run(tmp_path):
    folder = tmp_path / "s"
    assert autograde.precheck(folder, ["nb"]) == ("missing", "no submission folder")
    folder.mkdir()
    (folder / "other.ipynb").write_text("{}")
    assert autograde.precheck(folder, ["nb"])[1] == "no nb.ipynb in the submission (found: other.ipynb)"
    (folder / "nb.ipynb").write_text('{"cells": [')
    state, reason = autograde.precheck(folder, ["nb"])
    assert state == "not a notebook" and "not valid JSON" in reason
    (folder / "nb.ipynb").write_text('{"hello": 1}')
    state, reason = autograde.precheck(folder, ["nb"])
    assert state == "not a notebook" and "not a Jupyter notebook" in reason
    (folder / "nb.ipynb").write_bytes(b"\xff\xfe\x00")
    assert autograde.precheck(folder, ["nb"])[0] == "not a notebook"
    nbformat.write(nbformat.v4.new_notebook(), folder / "nb.ipynb")
    assert autograde.precheck(folder, ["nb"]) is None


# -- feedback ----------------------------------------------------------------------------------------


def test_hidden_tests_and_their_tracebacks_are_removed_from_feedback():
    cell = nbformat.v4.new_code_cell("assert x > 0, 'x must be positive'\n### BEGIN HIDDEN TESTS\n"
                                     "expected = 42\nassert x == expected, 'not quite'\n### END HIDDEN TESTS")
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "t", "points": 1, "solution": False, "locked": True}
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="expected = 42"),
                    nbformat.v4.new_output("error", ename="AssertionError", evalue="not quite",
                                           traceback=["\x1b[31massert x == expected", "AssertionError: not quite"])]
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb, _ = feedback.HideHiddenTests().preprocess(nb, {})
    shown = json.dumps([nb.cells[0].source, nb.cells[0].outputs])  # not the cell id: random, may hold "42"
    assert "expected" not in shown and "42" not in shown
    assert nb.cells[0].outputs[0].traceback == ["AssertionError: not quite"]
    assert "x must be positive" in nb.cells[0].source
    assert feedback.leaks("<span>expected</span> <span>=</span> 42", ["expected = 42"]) == ["expected = 42"]


# -- samples -----------------------------------------------------------------------------------------


def test_samples_know_their_variables_and_scores():
    source = nbformat.read(Path(__file__).resolve().parents[2] / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
                           as_version=4)
    from course.grading import values

    answers = [samples.answer_variable(samples.solution_code(c.source)) for c in source.cells if samples.is_answer(c)]
    tests = [c for c in source.cells if samples.is_test(c)]
    assert len(answers) == len(tests) == 3 and answers[0] == "war_to_talks"
    for name, test in zip(answers, tests):  # each task's variable is what its test reads
        assert name in values.names_read(test.source)
    assert samples.points(source)[0] == [3.0, 3.0, 2.0]
    assert {k: samples.expected_auto_score(k, source) for k in ("correct", "loop", "kernel_dies")} == \
        {"correct": 8.0, "loop": 5.0, "kernel_dies": 3.0}


# -- collect and the command line --------------------------------------------------------------------


def test_collect_imports_an_lms_download_by_its_naming_pattern(tmp_path):
    root = make_course(tmp_path / "course")
    notebook = nbformat.writes(nbformat.v4.new_notebook())
    download = tmp_path / "submissions.zip"
    with zipfile.ZipFile(download, "w") as archive:
        archive.writestr(f"smithjane_48213_1093344_{ASSIGNMENT}.ipynb", notebook)
        archive.writestr(f"aliyevaleyla_LATE_50211_1093345_{ASSIGNMENT}-1.ipynb", notebook)
        archive.writestr(f"petrosyanarmen_{ASSIGNMENT}.ipynb", notebook)
        archive.writestr("readme.txt", "not a submission")
    code, out = run_cli("--root", root, "collect", ASSIGNMENT, download)
    assert code == 0, out
    for student in ("smithjane", "aliyevaleyla", "petrosyanarmen"):
        assert (root / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file(), out
    assert "3 submission(s) collected" in out
    code, out = run_cli("--root", root, "collect", ASSIGNMENT, download)  # again: refuses to overwrite
    assert code == 1
    code, out = run_cli("--root", root, "collect", ASSIGNMENT, download, "--force")
    assert code == 0, out


def test_the_command_needs_a_course_folder(tmp_path, capsys):
    code, _ = run_cli("--root", tmp_path, "status", ASSIGNMENT)
    assert code == 2 and "nbgrader_config.py" in capsys.readouterr().err
    root = make_course(tmp_path / "course")
    code, out = run_cli("--root", root, "autograde", ASSIGNMENT)
    assert code == 1
    assert "course grade generate" in capsys.readouterr().err
    assert not (root / "gradebook.db").exists()


# -- the sandbox, the judge's values, output caps ------------------------------------------------------


def test_values_cross_as_json_exactly_for_every_assignment():
    """Every assignment's model answers survive the trip out of the sandbox, and pass their tests there."""
    import pandas as pd

    from course.grading import values

    for path in sorted((Path(__file__).resolve().parents[2] / "exercises").glob("*/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        answers = set().union(*[values.names_bound(samples.solution_code(c.source))
                                for c in nb.cells if samples.is_answer(c)])
        trusted, student, judge = set(), {}, {}
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type != "code":
                continue
            if samples.is_test(cell):
                names = [n for n in values.names_read(cell.source) if n not in trusted or n in answers]
                text = json.dumps({n: values.encode(student[n]) for n in names}, allow_nan=False)
                payload = path.parent / "values.json"
                try:
                    Path(payload).write_text(text)
                except OSError:
                    payload = Path(os.environ.get("TMPDIR", "/tmp")) / "values.json"
                    payload.write_text(text)
                values.inject(judge, str(payload))
                payload.unlink()
                for name in names:
                    got, want = judge[name], student[name]
                    if isinstance(want, pd.DataFrame):
                        pd.testing.assert_frame_equal(got, want, check_exact=True)
                    elif isinstance(want, pd.Series):
                        pd.testing.assert_series_equal(got, want, check_exact=True)
                    else:
                        assert type(got) is type(want) and got == want, (path.name, name)
                exec(cell.source, judge)  # the hidden tests pass on the values carried over
            elif meta.get("locked") and not meta.get("solution"):
                exec(cell.source, student)
                exec(cell.source, judge)
                trusted |= values.names_bound(cell.source)
            elif samples.is_answer(cell):
                exec(samples.solution_code(cell.source), student)


def test_values_that_cannot_cross_say_so_and_nothing_runs_while_reading(tmp_path):
    from course.grading import values

    payload = {"f": values.encode(lambda: 1), "gone": {"t": "missing"}, "evil": {"t": "frame", "index": 1},
               "nested": values.encode({"a": [1, 2.5, float("nan"), None, "x"], (1, 2): {3}})}
    file = tmp_path / "values.json"
    file.write_text(json.dumps(payload))
    namespace = {"gone": 1}
    values.inject(namespace, str(file))
    assert isinstance(namespace["f"], values.NotCheckable) and "function" in repr(namespace["f"])
    assert "gone" not in namespace  # missing in the kernel: missing for the test too
    assert isinstance(namespace["evil"], values.NotCheckable)
    assert namespace["nested"]["a"][:2] == [1, 2.5] and namespace["nested"][(1, 2)] == {3}
    assert sorted(values.names_read('assert "x" in globals()\nfrom m import y\nassert y(z) and pd.isna(w)')) == \
        ["pd", "w", "x", "z"]


def test_output_caps_keep_errors_and_say_what_was_cut():
    big = nbformat.v4.new_output("stream", name="stdout", text="x" * 5000)
    error = nbformat.v4.new_output("error", ename="AssertionError", evalue="y" * 5000, traceback=["t" * 5000])
    kept, cut = execute.cap_outputs([big, error], 1000, "the limit is 1 KB per cell")
    assert cut > 0 and kept[0]["text"] == "x" * 1000
    assert kept[1]["output_type"] == "error"  # a failed test stays failed
    assert "output cut here: the limit is 1 KB per cell" in kept[-1]["text"]


def test_status_reasons_for_a_loop_that_catches_interrupts_and_a_missing_module():
    lim = {"cell_timeout": 30, "notebook_timeout": 180}
    state, reason = status.judge([{"kind": "cell timeout", "cell": "answer_q1", "seconds": 30},
                                  {"kind": "kernel unresponsive", "cell": "answer_q1"}], [], lim)
    assert state == "timed out" and "did not stop when interrupted" in reason
    assert "other cells were graded" not in reason  # no longer contradicts itself
    state, reason = status.judge([{"kind": "missing module", "cell": "answer_q2", "module": "seaborn",
                                   "judged": False}], [], lim)
    assert state == "graded" and "seaborn" in reason and "not installed" in reason
    state, reason = status.judge([{"kind": "missing module", "cell": "test_q2", "module": "scipy",
                                   "judged": True}], [], lim)
    assert state == "error" and "scipy" in reason


def test_autograde_refuses_without_a_sandbox_unless_told(tmp_path, monkeypatch, capsys):
    from course.grading import sandbox

    root = make_course(tmp_path / "course")
    code, out = run_cli("--root", root, "generate", ASSIGNMENT)
    assert code == 0, out
    source = nbformat.read(root / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    release = nbformat.read(root / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    samples.write("correct", source, release, root / "submitted" / "alice" / ASSIGNMENT, ASSIGNMENT)
    (root / "nbgrader_config.py").write_text((root / "nbgrader_config.py").read_text()
                                             + '\nc.CourseExecute.sandbox = "bwrap"\n')
    monkeypatch.setattr(sandbox, "available", lambda: (False, "bubblewrap (`bwrap`) is not installed; " + sandbox.FIX))
    code, out = run_cli("--root", root, "autograde", ASSIGNMENT)
    err = capsys.readouterr().err
    assert code == 1 and "refusing to run student code without a sandbox" in err
    assert "apt-get install bubblewrap" in err and "--no-sandbox" in err
    assert not (root / "autograded" / "alice").exists()
    code, out = run_cli("--root", root, "autograde", ASSIGNMENT, "--no-sandbox")
    assert code == 0, out
    assert "WARNING: grading WITHOUT a sandbox" in out
    record = status.read(root / "autograded", ASSIGNMENT)["alice"]
    assert record["sandbox"] == "none (--no-sandbox)" and record["status"] == "graded"
    code, out = run_cli("--root", root, "status", ASSIGNMENT)
    assert "WARNING: graded without a sandbox" in out and "alice" in out
    code, out = run_cli("--root", root, "export", ASSIGNMENT, "--to", root / "grades.csv")
    assert "none (--no-sandbox)" in (root / "grades.csv").read_text()
