"""Benchmark: `course grade autograde` against plain `nbgrader autograde` on the same batch.

Not a test (pytest does not collect it). Run it on an otherwise idle machine:

    .venv/bin/python tests/benchmarks/bench_grading.py               # 40 submissions, 1 round
    .venv/bin/python tests/benchmarks/bench_grading.py --rounds 2 --submissions 40 --workers 2

For each round it makes two fresh course folders in a temporary directory with assignment 01:
"plain" with a minimal nbgrader_config.py (course id, source folder, 30 s per cell: nbgrader
0.9.6 as shipped) and "course" with the repository's nbgrader_config.py: every submission in its
own bubblewrap sandbox, tests judged outside it (`--no-sandbox` times the course without the
sandbox instead, for comparison). Both get the same
submissions (correct, wrong, untouched, extra cells, an edited, a deleted and a
metadata-stripped test cell, in turn), then each command is timed from its start to its end,
one after the other (never at the same time), so that each has the machine to itself. It prints
the wall times, the throughput and the ratio, and where the two disagree on a score.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from course.grading import samples  # noqa: E402

ASSIGNMENT = "01_war_to_talks"
KINDS = ("correct", "wrong", "untouched", "extra_cell", "edited_test", "deleted_test", "stripped_metadata")
PLAIN_CONFIG = """c = get_config()
c.CourseDirectory.course_id = "peace-talks"
c.CourseDirectory.source_directory = "exercises"
c.Execute.timeout = 30
"""
BIN = Path(sys.executable).parent


def environment() -> dict:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def prepare(folder: Path, config: str, count: int) -> list[str]:
    (folder / "exercises").mkdir(parents=True)
    shutil.copytree(ROOT / "exercises" / ASSIGNMENT, folder / "exercises" / ASSIGNMENT)
    (folder / "nbgrader_config.py").write_text(config)
    subprocess.run([str(BIN / "nbgrader"), "generate_assignment", ASSIGNMENT, "--log-level=ERROR"],
                   cwd=folder, env=environment(), check=True, capture_output=True)
    source = nbformat.read(folder / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    release = nbformat.read(folder / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    students = []
    for n in range(count):
        kind = KINDS[n % len(KINDS)]
        student = f"s{n:02d}_{kind}"
        samples.write(kind, source, release, folder / "submitted" / student / ASSIGNMENT, ASSIGNMENT)
        students.append(student)
    return students


def timed(command: list[str], cwd: Path) -> tuple[float, int, str]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=environment(), capture_output=True, text=True)
    return time.perf_counter() - started, done.returncode, done.stdout + done.stderr


def scores(folder: Path) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from course.grading import config as course_config

    config = course_config.load(folder)
    with course_config.gradebook(config) as gb:
        return {s.student.id: s.score for s in gb.assignment_submissions(ASSIGNMENT)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--workers", type=int, help="course grade workers (default: one per core)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary course folders")
    parser.add_argument("--no-sandbox", action="store_true", help="time `course grade autograde --no-sandbox`")
    args = parser.parse_args(argv)
    from course.grading import sandbox

    ok, what = sandbox.available()
    if not args.no_sandbox and not ok:
        print(f"no sandbox here ({what}); rerun with --no-sandbox")
        return 2
    print(f"course grade runs with sandbox: {'none (--no-sandbox)' if args.no_sandbox else what}")

    print(f"cores available: {len(os.sched_getaffinity(0))}; load average before: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    plain_times, course_times = [], []
    base = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    try:
        for rnd in range(1, args.rounds + 1):
            plain, course = base / f"plain{rnd}", base / f"course{rnd}"
            prepare(plain, PLAIN_CONFIG, args.submissions)
            prepare(course, (ROOT / "nbgrader_config.py").read_text(), args.submissions)
            course_cmd = [str(BIN / "course"), "grade", "autograde", ASSIGNMENT]
            if args.workers:
                course_cmd += ["--workers", str(args.workers)]
            if args.no_sandbox:
                course_cmd += ["--no-sandbox"]
            runs = [("plain nbgrader autograde", plain, [str(BIN / "nbgrader"), "autograde", ASSIGNMENT],
                     plain_times), ("course grade autograde", course, course_cmd, course_times)]
            if rnd % 2 == 0:  # alternate which goes first
                runs.reverse()
            for label, folder, command, bucket in runs:
                seconds, code, log = timed(command, folder)
                bucket.append(seconds)
                print(f"round {rnd}: {label:<26} {seconds:7.1f} s  exit {code}  "
                      f"load {os.getloadavg()[0]:.2f}")
                errors = [line for line in log.splitlines() if "ERROR" in line and "Traceback" not in line]
                for line in errors[:6]:
                    print(f"    {line[:160]}")
            a, b = scores(plain), scores(course)
            differ = sorted(s for s in b if a.get(s) != b[s])
            kinds = sorted({s.split("_", 1)[1] for s in differ})
            print(f"round {rnd}: {len(b)} graded by course, {len(a)} by plain; scores differ for "
                  f"{len(differ)} submission(s), kinds: {', '.join(kinds) or 'none'}")
        p, c = statistics.median(plain_times), statistics.median(course_times)
        n = args.submissions
        print()
        print("| command | wall time (median) | submissions per minute |")
        print("|---|---|---|")
        print(f"| plain `nbgrader autograde` | {p:.1f} s | {60 * n / p:.1f} |")
        print(f"| `course grade autograde` | {c:.1f} s | {60 * n / c:.1f} |")
        print(f"\nthroughput ratio (course / plain): {p / c:.2f}x on {n} submissions")
    finally:
        if args.keep:
            print(f"course folders kept in {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
