"""Grading many submissions side by side (issue 20: course/grading/workers.py).

`run()` is called here with small module-level jobs: results in the order of the jobs, a job that
raises, a worker that dies, a job that hangs past the watchdog, and nothing left running after a
normal or an interrupted run. The workers' own loop, `_serve`, runs in a forked process during a
run, where mutation testing cannot see it, so it is also called in this process with a Pipe
already holding the jobs and the final None.
"""
from __future__ import annotations

import multiprocessing
import multiprocessing.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from course.grading import workers, zygote

_STATE: dict = {}

pytestmark = pytest.mark.usefixtures("no_hang")  # conftest.py


def _job(job: dict) -> dict:
    """What the worker tests hand out: answer, sleep, raise, die, or hang with a child process."""
    kind = job.get("kind", "ok")
    if kind == "sleep":
        time.sleep(job["seconds"])
    if kind == "raise":
        raise ValueError(f"broken job {job['n']}")
    if kind == "exit":
        raise SystemExit(5)
    if kind == "crash":
        os._exit(3)
    if kind == "hang":
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        Path(job["pidfile"]).write_text(str(child.pid))
        time.sleep(120)
    if kind == "deep":  # two functions in turn: Python would fold one repeated frame and hide the count
        def ping(n):
            if n == 0:
                raise RuntimeError("deep down")
            pong(n - 1)

        def pong(n):
            ping(n - 1)

        ping(10)
    if kind == "child":  # processes the job leaves behind (a kernel that did not stop, and its own child)
        code = "import subprocess, time; print(subprocess.Popen(['sleep', '60']).pid, flush=True); time.sleep(60)"
        child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        return {"status": "graded", "child": child.pid, "grandchild": int(child.stdout.readline())}
    if kind == "finalizer":  # written when the worker process ends normally (its clean-up ran)
        multiprocessing.util.Finalize(None, Path(job["marker"]).write_text, args=("clean exit",), exitpriority=10)
    if kind == "state":
        return {"status": "graded", "state": _STATE.get("token"), "pid": os.getpid()}
    if kind == "own seconds":
        return {"status": "graded", "seconds": 99}
    if kind == "sigint":
        return {"status": "graded", "sigint": signal.getsignal(signal.SIGINT) == signal.SIG_IGN}
    return {"status": "graded", "value": job.get("n", 0) * 2, "pid": os.getpid(), "workers": _workers_running()}


def _workers_running() -> int:
    """How many worker processes the grader (this worker's parent) has: its forks, not kernels or helpers."""
    parent = psutil.Process(os.getppid())
    count = 0
    for child in parent.children():
        try:
            count += child.cmdline() == parent.cmdline()
        except psutil.Error:  # a process that ended meanwhile
            continue
    return count


def _dead(pid: int, wait: float = 5) -> bool:
    """The process has ended (or is a zombie), waiting a little: a SIGKILL takes effect asynchronously."""
    deadline = time.monotonic() + wait
    while True:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


def _children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


@pytest.fixture
def nothing_left():
    """After the test, no process of ours is running that was not running before it."""
    before = _children()
    yield
    assert [pid for pid in _children() - before if not _dead(pid)] == []


# -- run(): order, results, the watchdog ------------------------------------------------------------------
def test_results_come_back_in_the_order_of_the_jobs_from_a_few_long_lived_workers(nothing_left):
    """The CSV and the summary list students in roster order, whatever order they finish in."""
    seen = []
    jobs = [{"kind": "sleep", "seconds": 1.0, "n": 0}] + [{"n": n} for n in range(1, 6)]
    results = workers.run(jobs, _job, workers=2, hard_timeout=60, on_result=lambda job, r: seen.append((job, r)))
    assert [r["value"] for r in results[1:]] == [2, 4, 6, 8, 10] and results[0]["status"] == "graded"
    assert len({r["pid"] for r in results[1:]}) <= 2 and os.getpid() not in {r["pid"] for r in results[1:]}
    assert len(seen) == 6 and seen[-1][0] is jobs[0]  # reported as each finishes: the slow one last
    assert all(results[jobs.index(job)] is result for job, result in seen)
    assert all(isinstance(r["seconds"], float) and r["seconds"] == round(r["seconds"], 2) >= 0 for r in results)
    assert 1.0 <= results[0]["seconds"] < 30  # how long the slow submission took, for the instructor


def test_jobs_are_started_in_the_order_given():
    """With one worker, submissions are graded in roster order (progress reads top to bottom)."""
    seen = []
    results = workers.run([{"n": n} for n in range(4)], _job, workers=1, on_result=lambda job, r: seen.append(job["n"]))
    assert seen == [0, 1, 2, 3] and [r["value"] for r in results] == [0, 2, 4, 6]
    assert len({r["pid"] for r in results}) == 1  # one process graded them all (nbgrader imported once)


def test_no_more_workers_than_jobs_are_started():
    results = workers.run([{"n": 1}, {"n": 2}], _job, workers=10)
    assert [r["value"] for r in results] == [2, 4]
    assert max(r["workers"] for r in results) <= 2
    assert workers.run([{"n": 4}], _job, workers=-3)[0]["value"] == 8  # a nonsense count still grades, with one


def test_no_jobs_start_no_workers():
    assert workers.run([], _job, workers=4) == []


def test_the_default_number_of_workers_is_the_cpus_this_process_may_use(monkeypatch):
    assert workers.default_workers() == len(os.sched_getaffinity(0))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert workers.default_workers() == 1
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set())
    assert workers.default_workers() == 1
    monkeypatch.delattr(os, "sched_getaffinity")
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert workers.default_workers() == 3
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert workers.default_workers() == 1


def test_without_a_count_the_default_number_of_workers_is_used(monkeypatch):
    monkeypatch.setattr(workers, "default_workers", lambda: 1)
    results = workers.run([{"n": n} for n in range(3)], _job, workers=None)
    assert len({r["pid"] for r in results}) == 1 and [r["value"] for r in results] == [0, 2, 4]


def test_workers_are_forked_so_they_start_with_what_the_grader_loaded():
    """Forked workers inherit nbgrader and the course already imported (no start-up per worker), even where
    the default start method is another one (Python 3.14 makes it forkserver on Linux)."""
    _STATE["token"] = "loaded before the run"
    default = multiprocessing.get_start_method(allow_none=True)
    multiprocessing.set_start_method("spawn", force=True)
    try:
        results = workers.run([{"kind": "state"}], _job, workers=1)
    finally:
        multiprocessing.set_start_method(default, force=True)
        _STATE.clear()
    assert results[0]["state"] == "loaded before the run" and results[0]["pid"] != os.getpid()


def test_a_job_that_raises_is_reported_and_its_worker_keeps_serving():
    results = workers.run([{"kind": "raise", "n": 7}, {"n": 1}], _job, workers=1)
    assert results[0]["status"] == "error" and results[0]["reason"] == "ValueError: broken job 7"
    assert "ValueError" in results[0]["traceback"]
    assert results[1]["value"] == 2


def test_a_worker_that_dies_is_reported_with_its_exit_code_and_replaced(nothing_left):
    """A crash (a segfault in a C extension, os._exit) costs one submission, never the batch."""
    seen = []
    results = workers.run([{"n": 1}, {"kind": "crash"}, {"n": 3}, {"n": 4}], _job, workers=1,
                          on_result=lambda job, r: seen.append(r["status"]))
    assert results[1]["status"] == "error"
    assert results[1]["reason"] == "the grading process died (exit code 3)"
    assert [results[0]["value"], results[2]["value"], results[3]["value"]] == [2, 6, 8]
    assert results[0]["pid"] != results[2]["pid"] == results[3]["pid"]  # a fresh worker took over
    assert seen == ["graded", "error", "graded", "graded"]
    last = workers.run([{"n": 1}, {"kind": "crash"}], _job, workers=1)  # nothing left for the fresh worker
    assert [r["status"] for r in last] == ["graded", "error"]


def test_a_stuck_job_is_stopped_by_the_watchdog_with_everything_it_started(tmp_path, nothing_left):
    """A submission that hangs past hard_timeout is reported as timed out; its processes are killed."""
    pidfile = tmp_path / "child.pid"
    started = time.monotonic()
    results = workers.run([{"kind": "hang", "pidfile": str(pidfile)}, {"n": 1}, {"n": 2}], _job, workers=1,
                          hard_timeout=1)
    took = time.monotonic() - started
    assert results[0]["status"] == "timed out" and results[0]["reason"] == "stopped by the watchdog after 1 s"
    assert results[0]["seconds"] >= 1
    assert [results[1]["value"], results[2]["value"]] == [2, 4]  # the next submissions still graded
    assert _dead(int(pidfile.read_text()))
    assert took < 10  # killed at once, not after waiting 10 s for a graceful stop


def test_a_job_that_finishes_in_time_is_not_stopped():
    results = workers.run([{"kind": "sleep", "seconds": 0.3}, {"kind": "sleep", "seconds": 0.3}], _job,
                          workers=1, hard_timeout=2)
    assert [r["status"] for r in results] == ["graded", "graded"]


def test_a_result_that_says_how_long_it_took_keeps_its_own_time():
    assert workers.run([{"kind": "own seconds"}], _job, workers=1)[0]["seconds"] == 99


def test_workers_end_normally_after_a_normal_run(tmp_path):
    """Idle workers are asked to stop, so their kernels and starters are closed properly, not killed."""
    markers = [tmp_path / f"m{i}" for i in range(2)]
    workers.run([{"kind": "finalizer", "marker": str(m)} for m in markers], _job, workers=2)
    assert [m.read_text() if m.exists() else None for m in markers] == ["clean exit", "clean exit"]


def test_an_interrupted_run_leaves_no_worker_or_kernel_behind(tmp_path, nothing_left):
    """Ctrl-C (here: an error in on_result) stops every worker and everything it started."""
    pidfile = tmp_path / "child.pid"

    def interrupt(job, result):
        deadline = time.monotonic() + 10
        while not pidfile.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        raise KeyboardInterrupt

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        workers.run([{"n": 1}, {"kind": "hang", "pidfile": str(pidfile)}], _job, workers=2, on_result=interrupt)
    assert time.monotonic() - started < 9  # the busy worker is killed at once, not given 10 s to finish
    assert _dead(int(pidfile.read_text()))


# -- kill_tree and one worker ---------------------------------------------------------------------------------
def test_kill_tree_kills_a_process_and_all_its_descendants():
    """Kernels started by a stuck worker go with it."""
    code = ("import subprocess, sys, time\n"
            "subprocess.Popen([sys.executable, '-c', 'import subprocess, time; "
            "subprocess.Popen([\"sleep\", \"60\"]); time.sleep(60)'])\ntime.sleep(60)")
    top = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 10
    while len(psutil.Process(top.pid).children(recursive=True)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    family = [top.pid] + [p.pid for p in psutil.Process(top.pid).children(recursive=True)]
    assert len(family) == 3
    workers.kill_tree(top.pid)
    assert all(_dead(pid) for pid in family)
    workers.kill_tree(top.pid)  # already gone: nothing to do, no error


def test_a_worker_stopped_politely_exits_cleanly_and_one_stopped_by_force_is_killed():
    ctx = workers._context()
    worker = workers._Worker(ctx, _job)
    worker.give(0, {"n": 21})
    assert worker.index == 0 and worker.started > 0
    assert worker.conn.recv()["value"] == 42
    worker.stop()
    assert worker.proc.exitcode == 0 and worker.conn.closed
    worker = workers._Worker(ctx, _job)
    started = time.monotonic()
    worker.stop(kill=True)
    assert time.monotonic() - started < 5 and worker.proc.exitcode != 0  # killed, not waited for
    assert _dead(worker.proc.pid) and worker.conn.closed


def test_stopping_a_worker_that_already_died_does_not_fail():
    ctx = workers._context()
    worker = workers._Worker(ctx, _job)
    worker.give(0, {"kind": "crash"})
    worker.proc.join(timeout=10)
    worker.stop()  # its pipe is broken: stop falls back to killing, without an error
    assert worker.proc.exitcode == 3


# -- the worker's loop, in this process ------------------------------------------------------------------------
@pytest.fixture
def serve(monkeypatch):
    """Run workers._serve here on jobs already in its pipe; SIGINT handling restored afterwards.

    _serve kills every child process of its process except the kernel starters and the judge:
    children this test process had before, and whatever they start meanwhile (a browser of the
    browser tests opens new processes at any time), are protected as if they were starters."""
    before = [p for p in psutil.Process().children() if p.pid != os.getpid()]
    real = zygote.current_pids

    def kept() -> set[int]:
        pids = set(real())
        for proc in before:
            try:
                pids |= {proc.pid} | {p.pid for p in proc.children(recursive=True)}
            except psutil.NoSuchProcess:
                pass
        return pids

    monkeypatch.setattr(zygote, "current_pids", kept)
    old = signal.getsignal(signal.SIGINT)

    def run(jobs: list, function=_job, close: bool = False) -> list[dict]:
        ours, theirs = multiprocessing.Pipe()
        for job in jobs:
            ours.send(job)
        if close:
            ours.close()
        try:
            workers._serve(theirs, function)
            assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN  # the parent handles Ctrl-C
        finally:
            signal.signal(signal.SIGINT, old)
        results = []
        while not close and ours.poll():
            results.append(ours.recv())
        return results

    return run


def test_the_worker_loop_answers_each_job_in_turn_and_stops_at_none(serve):
    results = serve([{"n": 1}, {"kind": "raise", "n": 2}, {"kind": "exit"}, {"kind": "sigint"}, {"n": 5}, None,
                     {"n": 99}])
    assert [r.get("value") for r in results] == [2, None, None, None, 10]  # nothing after None
    assert results[1]["status"] == "error" and results[1]["reason"] == "ValueError: broken job 2"
    assert "Traceback" in results[1]["traceback"] and "broken job 2" in results[1]["traceback"]
    assert results[2]["status"] == "error" and results[2]["reason"] == "SystemExit: 5"  # even exit() is reported
    assert results[3]["sigint"] is True


def test_the_worker_loop_keeps_a_short_traceback(serve):
    """Five frames at most: enough to see the error, not a page of the grader's internals."""
    (result,) = serve([{"kind": "deep"}, None])
    assert result["reason"] == "RuntimeError: deep down"
    assert 1 <= result["traceback"].count('File "') <= 5


def test_the_worker_loop_stops_when_the_grader_goes_away(serve):
    assert serve([], close=True) == []  # EOF on the pipe: stop, do not spin


def test_the_worker_loop_kills_what_a_job_left_running_but_keeps_the_kernel_starter(serve, monkeypatch):
    """A kernel left behind by one submission must not run on during the next; the reusable starter stays.

    The starter is a stand-in here (a real one takes seconds to load pandas): a process of ours
    that zygote.current_pids names."""
    starter = subprocess.Popen(["sleep", "60"])
    real = zygote.current_pids
    monkeypatch.setattr(zygote, "current_pids", lambda: real() | {starter.pid})
    try:
        results = serve([{"kind": "child"}, {"n": 1}, None])
        assert _dead(results[0]["child"]) and _dead(results[0]["grandchild"])
        os.waitpid(results[0]["child"], 0)  # our own child: reaped here, not left to whoever waits next
        assert results[1]["value"] == 2 and not _dead(starter.pid, wait=0)
    finally:
        starter.kill()
        starter.wait()
