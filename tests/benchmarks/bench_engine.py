"""Benchmark of the quiz and check engine (run by hand; pytest does not collect it).

    .venv/bin/python tests/benchmarks/bench_engine.py

Reports the median of repeated runs for: building every quiz of each lesson as widgets, grading
one answer, one exercise check, and what `import course` adds on top of `import pandas,
ipywidgets` (fresh interpreters). Targets: <= 50 ms, <= 1 ms, <= 50 ms, <= 0.2 s.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("COURSE_PROGRESS_FILE", str(Path(tempfile.mkdtemp()) / "progress.json"))


def median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def import_cost(code: str, repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", f"import time; t=time.perf_counter(); {code}; "
                              "print(time.perf_counter()-t)"], capture_output=True, text=True, check=True)
        times.append(float(out.stdout))
    return statistics.median(times)


def main() -> None:
    import ipywidgets as w

    from course.checks import load_exercises, load_tasks_file
    from course.checks.engine import TASKS_DIR, _run
    from course.quizzes import lesson_names, load_bank
    from course.quizzes.widget import Quiz

    print(f"{'measure':<52} {'median':>10}  target")
    for lesson in lesson_names():
        bank = load_bank(lesson)

        def build(bank=bank):
            Quiz(bank)
            w.Widget.close_all()

        print(f"{'build all quizzes of ' + lesson + f' ({len(bank)} q)':<52} {median_ms(build, 20):>8.1f} ms  <= 50 ms")

    q = load_bank(lesson_names()[-1]).questions[0] if lesson_names() else None
    if q is not None:
        answer = sorted(q.answer) if isinstance(q.answer, frozenset) else q.answer
        print(f"{'grade one answer (' + q.kind + ')':<52} {median_ms(lambda: q.grade(answer), 2000):>8.3f} ms  <= 1 ms")

    tasks = sorted(p.stem for p in TASKS_DIR.glob("*.yaml"))
    sources = [(load_exercises(t), t) for t in tasks] or [
        (load_tasks_file(ROOT / "tests/fixtures/sample_tasks.yaml"), "sample")]
    for exercises, name in sources:
        for ex in exercises:
            solved = _run(ex.spec["solution"], ex.setup, "bench")
            ex.evaluate(solved)  # the first call computes the expected value once
            cost = median_ms(lambda ex=ex, solved=solved: ex.evaluate(solved), 50)
            print(f"{'one check(): ' + name + '.' + ex.key:<52} {cost:>8.2f} ms  <= 50 ms")

    base = import_cost("import pandas, ipywidgets")
    full = import_cost("import pandas, ipywidgets, course; from course import quiz, exercises, load")
    print(f"{'import pandas, ipywidgets':<52} {base * 1000:>8.0f} ms")
    print(f"{'import course on top of that':<52} {(full - base) * 1000:>8.0f} ms  <= 200 ms")


if __name__ == "__main__":
    main()
