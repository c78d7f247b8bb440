"""Run jobs in worker processes side by side, with a watchdog and nothing left running afterwards.

`run(jobs, function, workers=2, hard_timeout=600, on_result=print)` hands each job (a dict) to
`function(job) -> dict` in one of `workers` long-lived processes (started once, so nbgrader is
imported once per worker, not once per submission), calls `on_result(job, result)` in this process
as results arrive, and returns the results in the order of the jobs.

Watchdog: a job that takes longer than `hard_timeout` seconds (the per-notebook limit inside the
job should stop it long before) has its worker killed together with every process it started
(kernels included), is reported as `{"status": "timed out", ...}`, and a fresh worker takes over.
A worker that dies is reported as an error the same way. On the way out, normal or not
(Ctrl-C included), every worker and everything it started is stopped.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
import traceback
from multiprocessing.connection import wait

import psutil

from . import judge, zygote


def kill_tree(pid: int) -> None:
    """Kill a process and all its descendants, children first (kernels are not left behind)."""
    try:
        parent = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    family = parent.children(recursive=True) + [parent]
    for proc in family:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(family, timeout=5)


def _serve(conn, function) -> None:
    """A worker's loop: receive a job, run it, send the result; stop at None."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    while True:
        try:
            job = conn.recv()
        except EOFError:
            job = None
        if job is None:
            judge.close_shared()
            zygote.close()
            return
        try:
            result = function(job)
        except BaseException as err:  # noqa: BLE001 - report anything, keep serving
            result = {"status": "error", "reason": f"{type(err).__name__}: {err}",
                      "traceback": traceback.format_exc(limit=5)}
        finally:
            keep = zygote.current_pids() | judge.shared_pids()  # starters and the judge stay; other kernels go
            for child in psutil.Process().children(recursive=True):
                if child.pid in keep:
                    continue
                try:
                    child.kill()
                except psutil.NoSuchProcess:
                    pass
        conn.send(result)


def _context():
    # fork starts workers in milliseconds with nbgrader already imported; elsewhere spawn is safe
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")  # pragma: no cover


class _Worker:
    def __init__(self, ctx, function):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, function), daemon=True)
        self.proc.start()
        child.close()
        self.index = None
        self.started = 0.0

    def give(self, index, job):
        self.index, self.started = index, time.monotonic()
        self.conn.send(job)

    def stop(self, kill: bool = False):
        if not kill:
            try:
                self.conn.send(None)
            except (BrokenPipeError, OSError):
                kill = True
            self.proc.join(timeout=10)
        if self.proc.is_alive() or kill:
            kill_tree(self.proc.pid)
        self.proc.join(timeout=5)
        self.conn.close()


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover
        return max(1, os.cpu_count() or 1)


def run(jobs: list[dict], function, workers: int | None = None, hard_timeout: float = 600,
        on_result=None) -> list[dict]:
    if not jobs:
        return []
    ctx = _context()
    count = max(1, min(workers or default_workers(), len(jobs)))
    pending = list(enumerate(jobs))[::-1]
    results: list[dict | None] = [None] * len(jobs)
    pool = [_Worker(ctx, function) for _ in range(count)]

    def finish(worker, result):
        index = worker.index
        worker.index = None
        result.setdefault("seconds", round(time.monotonic() - worker.started, 2))
        results[index] = result
        if on_result is not None:
            on_result(jobs[index], result)

    def replace(slot, result):
        worker = pool[slot]
        worker.stop(kill=True)
        finish(worker, result)
        pool[slot] = _Worker(ctx, function)
        if pending:
            pool[slot].give(*pending.pop())

    try:
        for worker in pool:
            if pending:
                worker.give(*pending.pop())
        while any(w.index is not None for w in pool):
            busy = [w for w in pool if w.index is not None]
            ready = wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], timeout=0.5)
            for slot, worker in enumerate(pool):
                if worker.index is None or (worker.conn not in ready and worker.proc.sentinel not in ready):
                    continue
                try:
                    result = worker.conn.recv() if worker.conn.poll() else None
                except (EOFError, OSError):
                    result = None
                if result is not None:
                    finish(worker, result)
                    if pending:
                        worker.give(*pending.pop())
                elif not worker.proc.is_alive():
                    replace(slot, {"status": "error", "reason": "the grading process died "
                                   f"(exit code {worker.proc.exitcode})"})
            for slot, worker in enumerate(pool):
                if worker.index is not None and time.monotonic() - worker.started > hard_timeout:
                    replace(slot, {"status": "timed out",
                                   "reason": f"stopped by the watchdog after {hard_timeout:.0f} s"})
    finally:
        for worker in pool:
            worker.stop(kill=worker.index is not None)
    return results  # type: ignore[return-value]
