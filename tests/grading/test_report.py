"""`course grade report`: on a small class graded by the real pipeline, the report names the planted
mistakes with the right counts, writes the CSV (ids) and the chart (no names), and shows progress."""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from grading_helpers import ASSIGNMENT, ROOT, make_course, notebooks, run_cli, submit, submit_notebook

from course.grading import report, samples

ARM = 'milex[(milex["iso3"] == "ARM") & (milex["year"] == {})]["milex_current_usd_m"].iloc[0]'
DAY = 'timeline[timeline["date_text"] == "{}"]["date"].iloc[0]'
FROM_CEASEFIRE = f"a = {DAY.format('2023-09-20')}\nb = {DAY.format('2025-03-13')}\ndays_to_agreed_text = (b - a).days"
REVERSED = f"a = {DAY.format('2023-09-19')}\nb = {DAY.format('2025-03-13')}\ndays_to_agreed_text = (a - b).days"
WRONG_BASE = f"a = {ARM.format(2022)}\nb = {ARM.format(2023)}\narmenia_growth_2023 = (b - a) / b * 100"
NO_END = 'war_to_talks = timeline[timeline["date"] >= "2020-09-27"][["date", "event"]].sort_values("date")'

# student id -> {answer grade_id: code replacing the solution}; each plants known mistakes of
# exercises/01_war_to_talks.mistakes.yaml (or none)
PLANTED = {
    "ceasefirea": {"answer_q2": FROM_CEASEFIRE},
    "ceasefireb": {"answer_q2": FROM_CEASEFIRE},
    "reversed": {"answer_q2": REVERSED, "answer_q3": WRONG_BASE},
    "wrongbase": {"answer_q3": WRONG_BASE},
    "noend": {"answer_q1": NO_END, "answer_q3": "armenia_growth_2023 = 50"},
    "allright": {},
}


def _planted(root: Path, changes: dict):
    source, release = notebooks(root)
    nb = samples.make("correct", source, release)
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in changes:
            cell.source = changes[gid]
    return nb


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("report-class"))
    shutil.copy(ROOT / "exercises" / f"{ASSIGNMENT}.mistakes.yaml", root / "exercises")
    code, out = run_cli("--root", root, "generate", ASSIGNMENT)
    assert code == 0, out
    for student, changes in PLANTED.items():
        submit_notebook(root, student, _planted(root, changes))
    submit(root, "untouched", "untouched")
    submit(root, "notjson", "not_json")
    code, out = run_cli("--root", root, "autograde", ASSIGNMENT, "--workers", 2)
    assert code == 0, out
    progress: list[str] = []
    built = report.build(root, ASSIGNMENT, progress=progress.append)
    return root, built, progress


def _task(built, gid):
    return next(t for t in built.tasks if t.gid == gid)


def test_the_report_names_the_planted_mistakes_with_their_counts(reported):
    _, built, _ = reported
    q1, q2, q3 = (_task(built, g) for g in ("test_q1", "test_q2", "test_q3"))
    assert q2.outcomes["from-ceasefire-2023"] == 2
    assert q2.outcomes["reversed"] == 1
    assert q3.outcomes["wrong-base"] == 2
    assert q3.outcomes[report.OTHER] == 1          # 50 %: wrong, but no known mistake
    assert q1.outcomes["no-end-date"] == 1
    assert q1.outcomes[report.NO_ANSWER] == 1      # the untouched notebook
    # right: everyone else among the 7 graded (6 planted + untouched)
    assert (q1.outcomes[report.RIGHT], q2.outcomes[report.RIGHT], q3.outcomes[report.RIGHT]) == (5, 3, 3)
    assert built.not_graded == 1 and len(built.graded) == 7


def test_the_text_gives_counts_messages_and_what_to_reteach(reported):
    _, built, _ = reported
    summary = report.text(built)
    assert "2 of 7: counted from the ceasefire of 20 Sep 2023" in summary
    assert "2 of 7: divided the change by the 2023 figure" in summary
    assert "What to reteach: a change in per cent is measured against the starting value" in summary
    assert "Right: 5 of 7 (71 %)" in summary
    assert "Scored: 1 of 7" in summary  # the untouched answer scores 0 by itself


def test_files_keep_ids_in_the_csv_and_no_name_in_the_chart(reported, tmp_path):
    root, _, progress = reported
    code = report.run(root, ASSIGNMENT, out=tmp_path)
    assert code == 0
    rows = {r["student_id"]: r for r in csv.DictReader((tmp_path / "scores.csv").open(encoding="utf-8"))}
    assert rows["ceasefirea"]["test_q2:answer"] == "from-ceasefire-2023"
    assert rows["allright"]["test_q1"] == "3" and rows["notjson"]["test_q1:answer"] == report.NOT_RUN
    png = (tmp_path / "scores.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    for student in PLANTED:
        assert student.encode() not in png
    assert (tmp_path / "report.md").read_text(encoding="utf-8").startswith("# Class report: 01_war_to_talks")
    assert progress[0].startswith("[1/") and progress[-1].startswith("[8/8]")


def test_a_mistake_file_with_a_missing_field_is_named(tmp_path):
    bad = tmp_path / "x.mistakes.yaml"
    bad.write_text("tasks:\n  test_q1:\n    variable: v\n    kind: number\n"
                   "    mistakes:\n      - id: a\n        code: v = 1\n")
    with pytest.raises(report.MistakesError, match="x.mistakes.yaml, task test_q1, mistake 1: field 'message'"):
        report.load_mistakes(bad)
