"""Mutation testing of the course engine with mutmut 3 (issue 20): does the suite fail when the code is wrong?

mutmut changes the code in small ways, one "mutant" at a time (`<` becomes `<=`, a string changes,
a `return x` becomes `return None`, ...), and runs the tests that reach the changed function. A
mutant the tests catch is *killed*; one they let through *survived*: either a gap in the tests, or
an *equivalent* mutant (the change does not alter behaviour), listed with its reason in
`equivalent*.yaml` beside this script so the score stays honest.

    nice -n 10 .venv/bin/python tests/mutation/run_mutation.py                 # every package
    nice -n 10 .venv/bin/python tests/mutation/run_mutation.py quizzes checks  # some of them
    .venv/bin/python tests/mutation/run_mutation.py --list                      # what each package covers
    .venv/bin/python tests/mutation/run_mutation.py --report quizzes            # reprint the last run

Needs the `mutation` extra (`pip install -e '.[mutation]'`). Slow (minutes per package), so it is
not part of the README's test command and pytest does not collect it. Each package runs in a copy
of the project under `--workdir` (default: a folder in the system's temporary directory), so
the working tree is never changed and mutmut's `mutants/` folder never lands in it.

Score = (killed + timeout) / (all mutants - equivalent - untestable). A mutant with no test that
reaches it counts as a survivor. "Untestable" (also listed in equivalent*.yaml, with `kind:
untestable` and the reason) is a mutant mutmut itself cannot judge: code that reads its caller's
frame sees mutmut's trampoline instead of the test. Targets (issue 20): 90 % for the engine packages, 80 % for grading.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

# package -> the source files mutated (globs relative to the project root) and the tests that judge them
PACKAGES: dict[str, dict] = {
    "quizzes": {
        "mutate": ["course/quizzes/*.py"],
        "tests": ["tests/test_quiz_model.py", "tests/test_quiz_bank.py", "tests/test_quiz_widget.py",
                  "tests/test_engine_regressions.py", "tests/test_answer_keys.py",
                  "tests/test_mutation_kills_quizzes.py", "tests/test_mutation_kills_bank.py",
                  "tests/test_mutation_kills_widget.py"],
        "target": 90,
    },
    "checks": {
        "mutate": ["course/checks/*.py"],
        # check() reads its caller's variables through the call stack, and mutmut's trampolines add
        # a frame between them: under mutmut this test sees the wrong namespace, so it is left out
        "deselect": ["tests/test_checks.py::test_check_reads_the_callers_namespace_and_records_progress"],
        "tests": ["tests/test_checks.py", "tests/test_engine_regressions.py",
                  "tests/test_mutation_kills_compare.py", "tests/test_mutation_kills_engine.py"],
        "target": 90,
    },
    "data": {
        "mutate": ["course/data/*.py"],
        "tests": ["tests/test_data.py", "tests/test_engine_regressions.py", "tests/test_mutation_kills_data.py"],
        "target": 90,
    },
    "tracking": {
        "mutate": ["course/tracking.py"],
        "tests": ["tests/test_progress.py", "tests/test_mutation_kills_tracking.py"],
        "target": 90,
    },
    "negotiation": {
        "mutate": ["course/lessons/negotiation.py"],
        "tests": ["tests/test_negotiation.py", "tests/test_negotiation_widget.py",
                  "tests/test_mutation_kills_negotiation.py"],
        "target": 90,
    },
    # course/grading is measured in four parts, each judged by its fast in-process tests (a full
    # pipeline run per mutant would take days on two cores); the parts add up to the whole package
    "grading-results": {
        "mutate": ["course/grading/status.py", "course/grading/export.py", "course/grading/feedback.py",
                   "course/grading/restore.py", "course/grading/report.py", "course/grading/samples.py"],
        "tests": ["tests/grading/test_mutation_kills_status.py", "tests/grading/test_mutation_kills_export.py",
                  "tests/grading/test_mutation_kills_feedback.py", "tests/grading/test_mutation_kills_restore.py",
                  "tests/grading/test_mutation_kills_report.py", "tests/grading/test_mutation_kills_samples.py"],
        "target": 80, "group": "grading",
    },
    "grading-kernel": {
        "mutate": ["course/grading/execute.py", "course/grading/values.py", "course/grading/judge.py",
                   "course/grading/limits.py"],
        "tests": ["tests/grading/test_mutation_kills_execute.py", "tests/grading/test_mutation_kills_values.py",
                  "tests/grading/test_mutation_kills_judge.py", "tests/grading/test_mutation_kills_limits.py",
                  "tests/grading/test_notebook_time_limit.py",
                  # every assignment's model answers through encode/inject (fast; the rest of the file is slow)
                  "tests/grading/test_grading_parts.py::test_values_cross_as_json_exactly_for_every_assignment"],
        "target": 80, "group": "grading",
    },
    "grading-sandbox": {
        "mutate": ["course/grading/sandbox.py", "course/grading/zygote.py", "course/grading/workers.py"],
        "tests": ["tests/grading/test_mutation_kills_sandbox.py", "tests/grading/test_mutation_kills_zygote.py",
                  "tests/grading/test_mutation_kills_workers.py", "tests/grading/test_sandbox_paths.py"],
        "target": 80, "group": "grading",
    },
    "grading-commands": {
        "mutate": ["course/grading/autograde.py", "course/grading/cli.py", "course/grading/config.py"],
        "tests": ["tests/grading/test_mutation_kills_autograde.py", "tests/grading/test_mutation_kills_cli.py",
                  "tests/grading/test_mutation_kills_config.py"],
        "target": 80, "group": "grading",
    },
}
# a group name on the command line stands for all its parts
GROUPS = {"grading": [name for name, spec in PACKAGES.items() if spec.get("group") == "grading"]}
# what a package's copy holds besides course/ and tests/ (the grading tests read these)
ALSO_COPY = ["nbgrader_config.py", "exercises", "seeds"]
IGNORE = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "artifacts", "mutants", "*.pyc")
COUNTED = ("killed", "timeout", "survived", "no tests", "equivalent", "untestable", "other")


def tests_of(package: str) -> list[str]:
    """The package's test files (or single tests, `file::name`) that exist (the kill files are optional)."""
    return [t for t in PACKAGES[package]["tests"] if (ROOT / t.split("::")[0]).exists()]


TEST_OVERRIDE: list[str] = []  # --tests


def load_equivalent() -> dict[str, dict]:
    """equivalent*.yaml: mutant name -> {reason, change}; `change` is the mutated line, to spot a stale entry."""
    found = {}
    for path in sorted(HERE.glob("equivalent*.yaml")):
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            if not entry.get("reason"):
                raise SystemExit(f"{path.name}: {entry.get('mutant')} has no reason")
            found[entry["mutant"]] = entry
    return found


def failing_tests(work: Path, tests: list[str]) -> list[str]:
    """Tests that fail on the unmutated copy (mutmut needs a green start): they are deselected and named."""
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE",
                           *tests], cwd=work, text=True, capture_output=True)
    if done.returncode == 0:
        return []
    found = []
    for line in done.stdout.splitlines():
        match = re.match(r"(FAILED|ERROR) (\S+?)( - .*)?$", line)
        if match and "::" in match.group(2):
            found.append(match.group(2))
    if not found:
        raise SystemExit(f"the tests fail before any mutation, and the failures cannot be read:\n{done.stdout[-3000:]}")
    return found


def prepare(package: str, work: Path, only: list[str] | None = None, preflight: bool = True) -> list[str]:
    """A fresh copy of the project for one package, with mutmut's settings in setup.cfg."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    shutil.copytree(ROOT / "course", work / "course", ignore=IGNORE)
    shutil.copytree(ROOT / "tests", work / "tests", ignore=IGNORE)
    shutil.copy2(ROOT / "pyproject.toml", work / "pyproject.toml")
    for name in ALSO_COPY:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, work / name, ignore=IGNORE)
        elif source.exists():
            shutil.copy2(source, work / name)
    shutil.copy2(HERE / "fresh_caches.py", work / "mutation_fresh_caches.py")
    spec = dict(PACKAGES[package], mutate=only or PACKAGES[package]["mutate"])

    def listing(values):
        return "".join(f"\n    {v}" for v in values)

    tests = TEST_OVERRIDE or tests_of(package)
    broken = failing_tests(work, tests) if preflight else []
    deselect = "".join(f"\n    --deselect\n    {node}" for node in [*broken, *spec.get("deselect", [])])
    (work / "setup.cfg").write_text(
        "[mutmut]\n"
        "source_paths = course\n"
        f"only_mutate ={listing(spec['mutate'])}\n"
        f"also_copy ={listing([*ALSO_COPY, 'mutation_fresh_caches.py'])}\n"
        f"pytest_add_cli_args_test_selection ={listing(tests)}\n"
        f"pytest_add_cli_args =\n    -q\n    -p\n    no:cacheprovider\n    -p\n    mutation_fresh_caches{deselect}\n"
        "use_git_change_detection = false\n",
        encoding="utf-8",
    )
    return broken


def mutmut(work: Path, *args: str, capture: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-m", "mutmut", *args], cwd=work, env=env, text=True,
                          capture_output=capture)


def statuses(work: Path) -> dict[str, str]:
    done = mutmut(work, "results", "--all", "true")
    found = {}
    for line in done.stdout.splitlines():
        match = re.match(r"\s+(\S+): (.+)$", line)
        if match:
            found[match.group(1)] = match.group(2).strip()
    return found


_DIFFS = """
import json, sys
from mutmut.__main__ import find_mutant, get_diff_for_mutant
out = {}
for name in json.load(sys.stdin):
    out[name] = get_diff_for_mutant(name, path=find_mutant(name).path)
print(json.dumps(out))
"""


def diffs_of(work: Path, names: list[str]) -> dict[str, str]:
    """The changed lines of some mutants (`-` original, `+` mutant), read in one process."""
    if not names:
        return {}
    done = subprocess.run([sys.executable, "-c", _DIFFS], cwd=work, input=json.dumps(names), text=True,
                          capture_output=True)
    if done.returncode != 0:
        raise SystemExit(f"cannot read the mutants' diffs: {done.stderr[-2000:]}")
    found = {}
    for name, text in json.loads(done.stdout.strip().splitlines()[-1]).items():
        found[name] = "\n".join(line for line in text.splitlines()
                                if line[:1] in "+-" and not line.startswith(("+++", "---")))
    return found


def _score(counts: dict) -> float:
    judged = sum(counts.values()) - counts["equivalent"] - counts["untestable"]
    return round(100.0 * (counts["killed"] + counts["timeout"]) / judged, 1) if judged else 100.0


def summarise(package: str, work: Path, equivalent: dict[str, dict], seconds: float | None) -> dict:
    found = statuses(work)
    alive = [name for name, state in found.items() if state in ("survived", "no tests")]
    changes = diffs_of(work, alive)
    counts = dict.fromkeys(COUNTED, 0)
    per_module: dict[str, dict] = {}  # the same counts for each mutated file (module name)
    survivors, stale = [], []
    for name, state in sorted(found.items()):
        module = per_module.setdefault(name.rsplit(".", 1)[0], dict.fromkeys(COUNTED, 0))
        if state in ("survived", "no tests") and name in equivalent:
            expected = (equivalent[name].get("change") or "").strip()
            if expected and expected not in changes[name]:
                stale.append(name)  # the numbering moved: count it as a survivor until equivalent.yaml is fixed
            else:
                kind = "untestable" if equivalent[name].get("kind") == "untestable" else "equivalent"
                counts[kind] += 1
                module[kind] += 1
                continue
        kind = state if state in ("killed", "timeout", "survived", "no tests") else "other"
        counts[kind] += 1
        module[kind] += 1
        if state in ("survived", "no tests"):
            survivors.append({"mutant": name, "status": state, "diff": changes[name]})
    total = sum(counts.values())
    judged = total - counts["equivalent"] - counts["untestable"]
    score = 100.0 * (counts["killed"] + counts["timeout"]) / judged if judged else 100.0
    deselected = work / "deselected.json"
    summary = {"package": package, "counts": counts,
               "deselected": json.loads(deselected.read_text(encoding="utf-8")) if deselected.exists() else [],
               "total": total, "score": round(score, 1),
               "target": PACKAGES[package]["target"], "seconds": seconds, "survivors": survivors,
               "modules": {m: {"counts": c, "score": _score(c)} for m, c in sorted(per_module.items())},
               "stale_equivalents": stale}
    (work / "summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    return summary


def show(summary: dict) -> None:
    c = summary["counts"]
    took = f", {summary['seconds']:.0f} s" if summary.get("seconds") else ""
    print(f"\n== {summary['package']}: score {summary['score']} % (target {summary['target']} %){took}")
    print(f"   {summary['total']} mutants: {c['killed']} killed, {c['timeout']} timeout, {c['survived']} survived, "
          f"{c['no tests']} no tests, {c['equivalent']} equivalent, {c['untestable']} untestable under mutmut, "
          f"{c['other']} other")
    if len(summary.get("modules", {})) > 1:
        for module, part in summary["modules"].items():
            m = part["counts"]
            print(f"   {module}: score {part['score']} %: {m['killed']} killed, {m['timeout']} timeout, "
                  f"{m['survived']} survived, {m['no tests']} no tests, {m['equivalent']} equivalent, "
                  f"{m['untestable']} untestable, {m['other']} other")
    for node in summary.get("deselected", []):
        print(f"   ! left out of the run: {node}")
    for name in summary["stale_equivalents"]:
        print(f"   ! equivalent.yaml entry {name} no longer matches its mutant: check it")
    for survivor in summary["survivors"]:
        print(f"   -- {survivor['mutant']} ({survivor['status']})")
        for line in survivor["diff"].splitlines():
            print(f"        {line}")


def combine(paths: list[Path]) -> int:
    """Print each module's latest figures from several runs' summaries, and the total per package."""
    modules: dict[str, tuple[dict, str]] = {}
    for path in paths:
        file = path / "summary.json" if path.is_dir() else path
        if not file.exists():
            raise SystemExit(f"--combine: no summary at {file}")
        summary = json.loads(file.read_text(encoding="utf-8"))
        for module, part in summary.get("modules", {}).items():
            if sum(part["counts"][k] for k in COUNTED) - part["counts"]["other"] > 0:  # measured, not skipped
                modules[module] = (part["counts"], str(file))
    print("module                              score  killed  timeout  survived  no-tests  equivalent  other  run")
    totals: dict[str, dict] = {}
    for module, (c, source) in sorted(modules.items()):
        print(f"{module:<34} {_score(c):>6.1f}%  {c['killed']:>6}  {c['timeout']:>7}  {c['survived']:>8}  "
              f"{c['no tests']:>8}  {c['equivalent'] + c['untestable']:>10}  {c['other']:>5}  {source}")
        package = module.split(".")[1] if module.count(".") > 1 else module
        total = totals.setdefault(package, dict.fromkeys(COUNTED, 0))
        for key in COUNTED:
            total[key] += c[key]
    for package, c in sorted(totals.items()):
        print(f"{'course.' + package + ' (all)':<34} {_score(c):>6.1f}%  {c['killed']:>6}  {c['timeout']:>7}  "
              f"{c['survived']:>8}  {c['no tests']:>8}  {c['equivalent'] + c['untestable']:>10}  {c['other']:>5}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("packages", nargs="*",
                        help=f"packages to test (default: all): {', '.join(PACKAGES)}; grading = its four parts")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "course-mutation",
                        help="where the copies of the project are made (default: %(default)s)")
    parser.add_argument("--max-children", type=int, default=2, help="mutants tested side by side (default: 2)")
    parser.add_argument("--only", nargs="+", metavar="GLOB",
                        help="mutate only these files of the package (e.g. course/quizzes/model.py)")
    parser.add_argument("--tests", nargs="+", metavar="PATH",
                        help="judge the mutants with these tests only (default: the package's tests)")
    parser.add_argument("--mutants", nargs="+", metavar="PATTERN",
                        help="test only the mutants whose names match (fnmatch, e.g. 'course.grading.cli.x_main__*'); "
                             "the others show as 'other' in the counts")
    parser.add_argument("--no-preflight", action="store_true",
                        help="skip the first plain test run that finds (and leaves out) tests failing already")
    parser.add_argument("--list", action="store_true", help="show what each package mutates and tests, then stop")
    parser.add_argument("--report", action="store_true", help="reprint the results of the last run, run nothing")
    parser.add_argument("--combine", nargs="+", type=Path, metavar="SUMMARY",
                        help="one table per module from the summary.json of several runs (or their folders), "
                             "in the order given: a module measured again counts from the later run")
    args = parser.parse_args(argv)
    if args.combine:
        return combine(args.combine)
    asked = [part for name in args.packages for part in GROUPS.get(name, [name])]
    unknown = [p for p in asked if p not in PACKAGES]
    if unknown:
        parser.error(f"unknown package(s) {', '.join(unknown)}; choose from {', '.join([*PACKAGES, *GROUPS])}")
    packages = asked or list(PACKAGES)
    TEST_OVERRIDE[:] = args.tests or []
    if args.list:
        for package in packages:
            print(f"{package}: mutates {' '.join(PACKAGES[package]['mutate'])}; tests {' '.join(tests_of(package))}")
        return 0
    equivalent = load_equivalent()
    results = []
    for package in packages:
        work = args.workdir / package
        seconds = None
        if not args.report:
            print(f"== {package}: mutating {' '.join(args.only or PACKAGES[package]['mutate'])} in {work}", flush=True)
            broken = prepare(package, work, args.only, preflight=not args.no_preflight)
            for node in broken:
                print(f"   ! fails before any mutation, left out of this run: {node}", flush=True)
            left_out = broken + [f"{node} (cannot run under mutmut)" for node in PACKAGES[package].get("deselect", [])]
            (work / "deselected.json").write_text(json.dumps(left_out), encoding="utf-8")
            start = time.monotonic()
            done = mutmut(work, "run", "--max-children", str(args.max_children), *(args.mutants or []),
                          capture=False)
            seconds = time.monotonic() - start
            if done.returncode != 0:
                print(f"   mutmut run failed (exit {done.returncode}); see the output above", flush=True)
        elif (work / "summary.json").exists():
            seconds = json.loads((work / "summary.json").read_text(encoding="utf-8")).get("seconds")
        if not (work / "mutants").is_dir():
            print(f"== {package}: no results in {work}")
            continue
        summary = summarise(package, work, equivalent, seconds)
        show(summary)
        results.append(summary)
    if results:
        print("\npackage        score  target  killed  timeout  survived  no-tests  equivalent  untestable  seconds")
        for s in results:
            c = s["counts"]
            print(f"{s['package']:<13} {s['score']:>5.1f}%  {s['target']:>4} %  {c['killed']:>6}  {c['timeout']:>7}  "
                  f"{c['survived']:>8}  {c['no tests']:>8}  {c['equivalent']:>10}  {c['untestable']:>10}  "
                  f"{s['seconds'] or 0:>7.0f}")
        for group, parts in GROUPS.items():
            mine = [s for s in results if s["package"] in parts]
            if len(mine) == len(parts):  # the whole group was run or reported: its score over all its mutants
                c = {k: sum(s["counts"][k] for s in mine) for k in COUNTED}
                print(f"{group + ' (all)':<13} {_score(c):>5.1f}%  {mine[0]['target']:>4} %  {c['killed']:>6}  "
                      f"{c['timeout']:>7}  {c['survived']:>8}  {c['no tests']:>8}  {c['equivalent']:>10}  "
                      f"{c['untestable']:>10}  {sum(s['seconds'] or 0 for s in mine):>7.0f}")
    return 0 if all(s["score"] >= s["target"] for s in results) else 1


if __name__ == "__main__":
    sys.exit(main())
