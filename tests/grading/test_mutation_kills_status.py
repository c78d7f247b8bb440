"""Fast unit tests of course/grading/status.py (issue 20): every status and every reason that
`status.judge` gives a submission, and the records file. No kernel, no sandbox: the events and
findings a grading run records are built here by hand.

The reason is what the instructor reads in `course grade status` and in the records, so its
wording is asserted exactly for each kind of event."""
from __future__ import annotations

import json
from types import SimpleNamespace as NS

import pytest

from course.grading import status

LIM = {"cell_timeout": 30, "notebook_timeout": 180}


def judge(events=(), findings=(), limits=LIM):
    return status.judge(list(events), list(findings), limits)


# -- worst ---------------------------------------------------------------------------------------


def test_worst_orders_every_status_and_defaults_to_graded():
    assert status.worst([]) == "graded"
    assert status.worst(iter([])) == "graded"
    for i, state in enumerate(status.STATUSES):
        assert status.worst(list(status.STATUSES[i:])) == state
        assert status.worst(["graded", state]) == state


# -- judge: one kind of event at a time -----------------------------------------------------------


def test_nothing_recorded_is_graded_with_no_reason():
    assert judge() == ("graded", "")


@pytest.mark.parametrize("log, hint", [
    ("Traceback...\nMemoryError", " (memory limit reached?)"),
    ("Killed", " (memory limit reached?)"),
    ("segfault", ""),
    (None, ""),
])
def test_a_dead_kernel_names_its_cell_and_hints_at_memory(log, hint):
    event = {"kind": "kernel died", "cell": "answer_q3"}
    if log is not None:
        event["log"] = log
    assert judge([event, {"kind": "kernel died", "cell": "answer_q4", "log": "Killed"}]) == (
        "kernel died", f"the kernel died in cell answer_q3{hint}; later cells were not run and score 0")


def test_an_unresponsive_kernel_is_timed_out():
    assert judge([{"kind": "kernel unresponsive", "cell": "answer_q2"},
                  {"kind": "kernel unresponsive", "cell": "answer_q5"}]) == (
        "timed out", "the kernel stopped answering in cell answer_q2; later cells were not run and score 0")


def test_a_loop_that_catches_the_interrupt_gives_one_reason_and_keeps_other_cell_timeouts():
    state, reason = judge([{"kind": "cell timeout", "cell": "answer_q1"},
                           {"kind": "cell timeout", "cell": "answer_q0"},
                           {"kind": "kernel unresponsive", "cell": "answer_q1"}])
    assert state == "timed out"
    assert reason == (
        "cell answer_q1 ran longer than 30 s and did not stop when interrupted (it catches "
        "KeyboardInterrupt?), so the kernel was stopped; later cells were not run and score 0; "
        "cell answer_q0 ran longer than 30 s and was stopped; the other cells were graded")


def test_the_notebook_timeout_names_the_cell_and_the_limit():
    assert judge([{"kind": "notebook timeout", "cell": "answer_q4"},
                  {"kind": "notebook timeout", "cell": "answer_q5"}]) == (
        "timed out", "the notebook used up its 180 s in cell answer_q4; cells after it were not run and score 0")


def test_cell_timeouts_list_every_cell_once_in_order():
    assert judge([{"kind": "cell timeout", "cell": "b"}, {"kind": "cell timeout", "cell": "a"},
                  {"kind": "cell timeout", "cell": "b"}, {"kind": "cell timeout"}]) == (
        "timed out", "cell ?, a, b ran longer than 30 s and was stopped; the other cells were graded")


def test_limits_missing_from_the_settings_show_as_none():
    assert judge([{"kind": "cell timeout", "cell": "a"}], limits={})[1] == \
        "cell a ran longer than None s and was stopped; the other cells were graded"


def test_a_failed_judge_setup_is_an_error_to_fix():
    assert judge([{"kind": "judge setup failed", "cell": "test_q1", "error": "NameError: x"},
                  {"kind": "judge setup failed", "cell": "test_q2", "error": "other"}]) == (
        "error", "the checks' own setup failed in cell test_q1 (NameError: x); the scores are not reliable: "
                 "fix it and regrade with --force")
    assert judge([{"kind": "judge setup failed", "cell": "test_q1"}])[1].startswith(
        "the checks' own setup failed in cell test_q1 (); ")


def test_a_module_missing_for_the_checks_is_an_error_named_once():
    assert judge([{"kind": "missing module", "cell": "test_q2", "module": "scipy", "judged": True},
                  {"kind": "missing module", "cell": "test_q3", "module": "sklearn", "judged": True}]) == (
        "error", "the checks in cell test_q2 need the module scipy, which is not installed where grading runs; "
                 "install it and regrade with --force")


def test_a_module_missing_for_the_student_is_a_note_not_a_status():
    assert judge([{"kind": "missing module", "cell": "answer_q2", "module": "seaborn"},
                  {"kind": "missing module", "cell": "answer_q1", "module": "altair", "judged": False},
                  {"kind": "missing module", "cell": "answer_q2", "module": "seaborn"}]) == (
        "graded", "cell answer_q1, answer_q2 imports altair, seaborn, which is not installed where grading runs, "
                  "so it failed there (the student may have it at home)")


def test_both_kinds_of_missing_module_give_both_reasons():
    state, reason = judge([{"kind": "missing module", "cell": "answer_q2", "module": "seaborn"},
                           {"kind": "missing module", "cell": "test_q2", "module": "scipy", "judged": True}])
    assert state == "error"
    assert reason.startswith("the checks in cell test_q2 need the module scipy,")
    assert "; cell answer_q2 imports seaborn," in reason


def test_unreadable_values_and_cut_output_are_notes():
    assert judge([{"kind": "values unreadable", "cell": "test_q2", "why": "too big"},
                  {"kind": "values unreadable", "cell": "test_q1", "why": "other"}]) == (
        "graded", "the answers checked by test_q1, test_q2 could not be read from the kernel (too big); "
                  "those checks saw no answer")
    assert judge([{"kind": "values unreadable", "cell": "t"}])[1] == \
        "the answers checked by t could not be read from the kernel (); those checks saw no answer"
    assert judge([{"kind": "output cut", "cell": "answer_q1"}]) == (
        "graded", "note: output of cell answer_q1 cut at the limit")


def test_unknown_events_change_nothing():
    assert judge([{"kind": "something else", "cell": "x"}]) == ("graded", "")


# -- judge: findings of the tamper check ------------------------------------------------------------


def _finding(kind, cell="test_q1", cell_type="code", **kw):
    return {"kind": kind, "cell": cell, "cell_type": cell_type, **kw}


@pytest.mark.parametrize("finding, reason", [
    (_finding("cell restored", graded=True),
     "deleted cell(s) test_q1 put back from the source and graded"),
    (_finding("metadata restored", graded=True),
     "nbgrader metadata missing from test_q1; restored from the source and graded"),
    (_finding("edited", graded=True),
     "locked cell(s) test_q1 edited by the student; the original was used"),
    (_finding("points changed", graded=True),
     "changed cell settings (points changed in test_q1); the source settings were used"),
    # a locked code cell counts without being graded
    (_finding("cell restored", cell="setup", locked=True),
     "deleted cell(s) setup put back from the source and graded"),
    # an edited code cell counts even when neither graded nor locked
    (_finding("edited", cell="setup"),
     "locked cell(s) setup edited by the student; the original was used"),
])
def test_serious_findings_mark_the_submission_tampered(finding, reason):
    assert judge(findings=[finding]) == ("tampered", reason)


def test_every_kind_of_serious_finding_is_reported_in_a_fixed_order():
    state, reason = judge(findings=[
        _finding("points changed", cell="t2", graded=True), _finding("type changed", cell="t3", graded=True),
        _finding("edited", cell="t4", graded=True), _finding("edited", cell="t1", graded=True),
        _finding("metadata restored", cell="t5", graded=True), _finding("cell restored", cell="t6", graded=True)])
    assert state == "tampered"
    assert reason == ("deleted cell(s) t6 put back from the source and graded; "
                      "nbgrader metadata missing from t5; restored from the source and graded; "
                      "locked cell(s) t1, t4 edited by the student; the original was used; "
                      "changed cell settings (points changed in t2; type changed in t3); the source settings were used")


@pytest.mark.parametrize("finding", [
    _finding("edited", cell="intro", cell_type="markdown", locked=True, graded=False),
    _finding("cell restored", cell="intro", cell_type="markdown", locked=True),
    _finding("cell restored", cell="answer_q1", cell_type="code", locked=False),
    _finding("metadata restored", cell="answer_q1"),
])
def test_minor_findings_are_a_note_only(finding):
    assert judge(findings=[finding]) == (
        "graded", f"note: {finding['kind']} also for 1 text or answer cell(s) ({finding['cell']})")


def test_minor_notes_count_cells_and_list_kinds_once():
    state, reason = judge(findings=[
        _finding("edited", cell="b", cell_type="markdown"), _finding("cell restored", cell="a", cell_type="markdown"),
        _finding("edited", cell="a", cell_type="markdown"), _finding("metadata restored", cell="c")])
    assert state == "graded"
    assert reason == "note: cell restored, edited, metadata restored also for 3 text or answer cell(s) (a, b, c)"


def test_the_worst_status_wins_and_every_reason_is_kept():
    state, reason = judge([{"kind": "cell timeout", "cell": "answer_q2"},
                           {"kind": "kernel died", "cell": "answer_q5", "log": ""},
                           {"kind": "judge setup failed", "cell": "test_q1", "error": "e"}],
                          [_finding("edited", graded=True)])
    assert state == "error"
    assert reason.split("; ")[0] == "the kernel died in cell answer_q5"
    assert "cell answer_q2 ran longer than 30 s" in reason and reason.endswith("the original was used")
    assert judge([{"kind": "cell timeout", "cell": "a"}], [_finding("edited", graded=True)])[0] == "timed out"
    assert judge([{"kind": "kernel died", "cell": "a"}, {"kind": "cell timeout", "cell": "b"}])[0] == "kernel died"


# -- records ---------------------------------------------------------------------------------------


def test_records_round_trip_atomically_with_their_folder(tmp_path):
    assert status.path(tmp_path, "01_x") == tmp_path / ".course-grading" / "01_x.json"
    assert status.read(tmp_path, "01_x") == {}
    records = {"zoë": {"status": "graded", "reason": "é"}, "alice": {"status": "missing", "reason": ""}}
    file = status.write(tmp_path, "01_x", records)
    assert file == tmp_path / ".course-grading" / "01_x.json"
    assert status.read(str(tmp_path), "01_x") == records
    text = file.read_text(encoding="utf-8")
    assert text.endswith("}\n") and "zoë" in text  # readable, not escaped
    assert text.index('"alice"') < text.index('"zoë"')  # sorted keys: stable diffs between runs
    assert text == json.dumps(records, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    assert [p.name for p in file.parent.iterdir()] == ["01_x.json"]  # no temporary file left
    status.write(tmp_path, "01_x", {"bob": {}})
    assert status.read(tmp_path, "01_x") == {"bob": {}}


def test_unreadable_records_say_how_to_recover(tmp_path):
    status.path(tmp_path, "a").parent.mkdir()
    status.path(tmp_path, "a").write_text("{broken", encoding="utf-8")
    with pytest.raises(RuntimeError, match=r"a\.json: cannot read the grading records .*move it aside and rerun "
                                           r"with --force to rebuild them"):
        status.read(tmp_path, "a")
    status.path(tmp_path, "b").mkdir()  # a folder where the file should be: OSError
    with pytest.raises(RuntimeError, match="cannot read the grading records"):
        status.read(tmp_path, "b")


def test_now_is_a_local_time_with_its_offset():
    import re
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}", status.now())


def test_fingerprint_covers_names_contents_sources_and_skips_checkpoints(tmp_path):
    sub, src = tmp_path / "sub", tmp_path / "src"
    (sub / "data").mkdir(parents=True)
    src.mkdir()
    (sub / "a.ipynb").write_text("1")
    (sub / "data" / "b.csv").write_text("x")
    (src / "a.ipynb").write_text("1")
    base = status.fingerprint(sub, src, {"m": 1})
    assert len(base) == 64 and base == status.fingerprint(str(sub), str(src), {"m": 1})
    # the key order of the settings does not matter
    assert status.fingerprint(sub, src, {"a": 1, "b": 2}) == status.fingerprint(sub, src, {"b": 2, "a": 1})
    # a checkpoint does not change it
    (sub / ".ipynb_checkpoints").mkdir()
    (sub / ".ipynb_checkpoints" / "a-checkpoint.ipynb").write_text("old")
    assert status.fingerprint(sub, src, {"m": 1}) == base
    # a source change does
    (src / "a.ipynb").write_text("2")
    assert status.fingerprint(sub, src, {"m": 1}) != base
    (src / "a.ipynb").write_text("1")
    # a file moved to another name, with the same content, does
    (sub / "data" / "b.csv").rename(sub / "data" / "c.csv")
    assert status.fingerprint(sub, src, {"m": 1}) != base
    (sub / "data" / "c.csv").rename(sub / "data" / "b.csv")
    assert status.fingerprint(sub, src, {"m": 1}) == base
    # the same file as a submission or as a source is not the same
    (src / "a.ipynb").unlink()
    (sub / "a.ipynb").unlink()
    (sub / "data" / "b.csv").unlink()
    (sub / "a").write_text("same")
    as_submitted = status.fingerprint(sub, src, {"m": 1})
    (sub / "a").rename(src / "a")
    assert status.fingerprint(sub, src, {"m": 1}) != as_submitted


def test_fingerprint_of_a_missing_folder_is_the_settings_alone(tmp_path):
    one = status.fingerprint(tmp_path / "none", tmp_path / "none2", {"m": 1})
    assert one == status.fingerprint(tmp_path / "nothing", tmp_path / "nothing2", {"m": 1})
    assert one != status.fingerprint(tmp_path / "none", tmp_path / "none2", {"m": 2})
    sub = tmp_path / "sub"
    sub.mkdir()
    assert status.fingerprint(sub, tmp_path / "none", {"m": 1}) == one  # an empty folder adds nothing
    (sub / "a").write_text("")
    assert status.fingerprint(sub, tmp_path / "none", {"m": 1}) != one
    assert status.fingerprint(tmp_path / "none", sub, {"m": 1}) != status.fingerprint(sub, tmp_path / "none", {"m": 1})


# -- hand grading summaries ------------------------------------------------------------------------


def test_points_and_describe_the_cells_waiting_for_hand_grading():
    waiting = {"smithjane": [("written_q4", 16.0)], "garciamaria": [("written_q4", 16.0), ("written_q5", 2.5)]}
    assert status.points(waiting["garciamaria"]) == 18.5
    assert status.points([]) == 0
    assert status.describe(waiting) == \
        "garciamaria (written_q4, written_q5, 18.5 pt), smithjane (written_q4, 16 pt)"
    assert status.describe(waiting, ["smithjane", "nobody"]) == "smithjane (written_q4, 16 pt)"
    assert status.describe(waiting, []) == ""


def test_fingerprint_hashes_the_source_even_without_a_submission_folder(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.ipynb").write_text("1")
    before = status.fingerprint(tmp_path / "none", src, {})
    (src / "a.ipynb").write_text("2")
    assert status.fingerprint(tmp_path / "none", src, {}) != before


def test_records_are_written_into_a_folder_made_on_the_way(tmp_path):
    where = tmp_path / "new" / "autograded"
    status.write(where, "a", {"x": {"status": "graded"}})
    assert status.read(where, "a") == {"x": {"status": "graded"}}


# -- hand grading and the status table, from a gradebook of plain objects -------------------------


class _Gradebook:
    def __init__(self, submissions, known=True):
        self.submissions, self.known, self.asked = submissions, known, []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def find_assignment(self, name):
        from nbgrader.api import MissingEntry

        self.asked.append(name)
        if not self.known:
            raise MissingEntry()
        return NS(submissions=self.submissions if name == "a1" else [])



def _sub(student, *grades):
    return NS(student_id=student, notebooks=[NS(grades=[NS(name=n, max_score=m, needs_manual_grade=w)
                                                        for n, m, w in grades])])


@pytest.fixture
def gradebook(monkeypatch):
    from course.grading import config as course_config

    book = _Gradebook([])
    seen = []

    def open_gradebook(config):
        seen.append(config)
        return book if config == "CONFIG" else _Gradebook([])

    monkeypatch.setattr(course_config, "gradebook", open_gradebook)
    book.configs = seen
    return book


def test_hand_grading_lists_the_waiting_cells_of_each_student(gradebook):
    gradebook.submissions = [
        _sub("ann", ("written_q4", 16, True), ("test_q1", 2, False)),
        _sub("bob", ("test_q1", 2, False)),
        _sub("cem", ("written_q4", None, True), ("written_q5", 2.5, True)),
    ]
    assert status.hand_grading("CONFIG", "a1") == {"ann": [("written_q4", 16.0)],
                                                   "cem": [("written_q4", 0.0), ("written_q5", 2.5)]}
    assert gradebook.asked == ["a1"] and gradebook.configs == ["CONFIG"]
    assert type(status.hand_grading("CONFIG", "a1")["ann"][0][1]) is float


def test_hand_grading_of_an_unknown_assignment_is_empty(gradebook):
    gradebook.known = False
    assert status.hand_grading("CONFIG", "a9") == {}


@pytest.fixture
def scores(monkeypatch):
    from course.grading import autograde

    table = {}
    def scores(config, assignment, student):  # only the table's own config and assignment have scores
        return table.get(student, {}) if (config, assignment) == ("CONFIG", "a1") else {}

    monkeypatch.setattr(autograde, "scores", scores)
    return table


def test_the_status_table_lines_up_scores_reasons_and_hand_grading(gradebook, scores):
    gradebook.submissions = [_sub("a_long_student_id", ("written_q4", 16, True)), _sub("gone", ("w", 3, True))]
    scores.update({"a_long_student_id": {"score": 12.5, "max_score": 40.0}, "bob": {"score": 40, "max_score": 40},
                   "cem": {"score": 3, "max_score": 40}, "gone": {"score": 1, "max_score": 40}})
    records = {"bob": {"status": "graded", "reason": ""},
               "a_long_student_id": {"status": "tampered", "reason": "locked cell(s) test_q1 edited"},
               "cem": {"status": "missing", "reason": "no submission folder"},
               "dan": {"status": "not a notebook", "reason": "resubmission unreadable; earlier grade kept"},
               "eve": {"status": "timed out"}}
    scores["fay"] = {"score": 2, "max_score": 40}
    records["fay"] = {"status": "not a notebook", "reason": "not valid JSON"}
    lines = status.table("CONFIG", "a1", records)
    width = len("a_long_student_id") + 1
    assert lines[0] == f"{'student':<{width}} {'status':<15} {'score':>7}  reason"
    assert lines[1:-1] == [
        f"{'a_long_student_id':<{width}} {'tampered':<15} {'12.5/40':>7}  to grade by hand: 16 pt; "
        "locked cell(s) test_q1 edited",
        f"{'bob':<{width}} {'graded':<15} {'40/40':>7}  ",
        f"{'cem':<{width}} {'missing':<15} {'-':>7}  no submission folder",
        f"{'dan':<{width}} {'not a notebook':<15} {'-':>7}  resubmission unreadable; earlier grade kept",
        f"{'eve':<{width}} {'timed out':<15} {'-':>7}  ",
        f"{'fay':<{width}} {'not a notebook':<15} {'-':>7}  not valid JSON",
    ]
    assert lines[-1] == ("statuses: 2 not a notebook, 1 missing, 1 timed out, 1 tampered, 1 graded; to grade by "
                         "hand: 1 submission(s), 16 pt (their scores are not final; grade them in Formgrader)")


def test_an_earlier_grade_kept_shows_its_score(gradebook, scores):
    scores["dan"] = {"score": 7, "max_score": 10}
    lines = status.table("CONFIG", "a1", {"dan": {"status": "missing", "reason": "earlier grade kept"}})
    assert lines[1].split()[2] == "7/10"


def test_the_status_table_with_nothing_to_grade_by_hand(gradebook, scores):
    gradebook.submissions = [_sub("ann", ("written_q4", 16, True))]  # not in the records: not counted
    scores["al"] = {"score": 1, "max_score": 2}
    lines = status.table("CONFIG", "a1", {"al": {"status": "graded", "reason": None}})
    assert lines == [f"{'student':<8} {'status':<15} {'score':>7}  reason",
                     f"{'al':<8} {'graded':<15} {'1/2':>7}  ",
                     "statuses: 1 graded; to grade by hand: none"]
    waiting_without_score = status.table("CONFIG", "a1", {"ann": {"status": "graded", "reason": "r"}})
    assert waiting_without_score[1].endswith("  r")  # no score yet: no "to grade by hand" before the reason
    assert waiting_without_score[-1].endswith("to grade by hand: 1 submission(s), 16 pt (their scores are not "
                                              "final; grade them in Formgrader)")


def test_the_summary_counts_several_submissions_per_status(gradebook, scores):
    gradebook.submissions = [_sub("a", ("w", 2, True)), _sub("b", ("w", 2.5, True), ("v", 1, True))]
    records = {s: {"status": "graded"} for s in ("a", "b", "c")}
    assert status.table("CONFIG", "a1", records)[-1] == (
        "statuses: 3 graded; to grade by hand: 2 submission(s), 5.5 pt (their scores are not final; grade them "
        "in Formgrader)")
