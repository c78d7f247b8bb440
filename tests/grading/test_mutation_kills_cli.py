"""Fast tests of course/grading/cli.py (issue 20): `course grade VERB ...` run in this process on a
tiny course (see test_mutation_kills_autograde.py): each verb's exit code, the words of what it
tells the instructor, and the files it writes. Messages for bad input (no course folder, no
gradebook, an unknown assignment, no submissions, a download that matches nothing) must say
what is wrong and what to do."""
from __future__ import annotations

import contextlib
import csv
import io
import logging
import os
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from test_mutation_kills_autograde import (
    TINY,
    generated,
    hand_in,
    job,
    tiny_course,
)

from course.grading import autograde, cli, status

pytestmark = pytest.mark.usefixtures("stop_kernel_starters")  # conftest.py


def run_both(*argv) -> tuple[int, str, str]:
    """`course grade ARGV`: exit code, standard output, standard error."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def in_sys_exit(*argv) -> tuple[int, str]:
    """argparse's own exits (--help, a bad option): the code and what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out), pytest.raises(SystemExit) as done:
        cli.main([str(a) for a in argv])
    return done.value.code, out.getvalue()


@pytest.fixture
def course(tmp_path) -> Path:
    return generated(tmp_path / "course")


def missing_students(root: Path, *students: str) -> None:
    """Students with an empty submission folder: they get "missing" without running a kernel."""
    for student in students:
        (root / "submitted" / student / TINY).mkdir(parents=True)


# -- the command and its help ------------------------------------------------------------------------


def _flat(text: str) -> str:
    return " ".join(text.split())


SUMMARIES = {
    "generate": "make the student version of an assignment in release/",
    "collect": "import an LMS download into submitted/ (nbgrader zip_collect)",
    "autograde": "run and score the submissions, with parallel workers",
    "status": "the status and reason of every submission",
    "feedback": "feedback HTML in feedback/, without hidden tests",
    "export": "write the gradebook as CSV",
    "report": "the class report: scores, share right, common known mistakes",
}


def test_without_a_verb_the_help_lists_what_each_verb_does(capsys):
    assert cli.main([]) == 2
    shown = _flat(capsys.readouterr().out)
    for verb, summary in SUMMARIES.items():
        assert f"{verb} {summary}" in shown
    assert set(SUMMARIES) == set(cli.VERBS)
    assert "usage: course grade [-h] [--root ROOT] VERB ..." in shown
    assert "`course grade VERB`: the instructor's grading commands" in shown
    assert "Manual grading of the written answers" not in shown  # the first line of the docstring only
    assert shown.endswith(" nbgrader_config.py) Instructor guide: exercises/README.md")  # the last line
    assert "--root ROOT the course folder (default: the nearest folder with nbgrader_config.py)" in shown


@pytest.mark.parametrize("verb, words", [
    ("generate", ["--force regenerate even if release/ has it already"]),
    ("collect", ["download the zip file (or folder) downloaded from the LMS",
                 "--force replace submissions collected before"]),
    ("autograde", ["--student STUDENT only this student (repeat for more)",
                   "--workers WORKERS submissions graded side by side (default: one per CPU core)",
                   "--force regrade submissions that have not changed",
                   "--no-sandbox run student code WITHOUT the bubblewrap sandbox (as you; recorded in status and "
                   "export)"]),
    ("feedback", ["--student STUDENT only this student (repeat for more)",
                  '--force also write pages for students with answers still to grade by hand (marked "Not graded '
                  'yet"; by default they get no page and are listed)']),
    ("export", ["assignment assignments to export (default: all)",
                "--to TO the CSV file to write (default: grades.csv)"]),
    ("report", ["--out OUT the folder to write into (default: reports/ASSIGNMENT in the course folder)"]),
])
def test_each_option_is_explained(verb, words):
    """`course grade VERB --help` is the instructor's reference: every option says what it does."""
    code, shown = in_sys_exit(verb, "--help")
    assert code == 0
    for word in words:
        assert word in _flat(shown), (verb, word)


def test_options_take_the_values_they_document():
    parsed = cli._parser().parse_args(["autograde", "a", "--student", "x", "--student", "y", "--workers", "3"])
    assert (parsed.student, parsed.workers, parsed.force, parsed.no_sandbox) == (["x", "y"], 3, False, False)
    parsed = cli._parser().parse_args(["autograde", "a", "--force", "--no-sandbox"])
    assert (parsed.student, parsed.workers, parsed.force, parsed.no_sandbox) == (None, None, True, True)
    assert cli._parser().parse_args(["export"]).to == "grades.csv"
    assert cli._parser().parse_args(["export"]).assignment == []
    assert cli._parser().parse_args(["export", "a", "b"]).assignment == ["a", "b"]
    assert cli._parser().parse_args(["report", "a"]).out is None
    assert cli._parser().parse_args(["feedback", "a"]).force is False
    assert cli._parser().parse_args(["feedback", "a", "--force", "--student", "s"]).student == ["s"]
    assert cli._parser().parse_args(["generate", "a", "--force"]).force is True
    assert cli._parser().parse_args(["collect", "a", "d"]).force is False
    code, shown = in_sys_exit("autograde", "a", "--workers", "many")
    assert code == 2 and "invalid int value" in shown


# -- finding the course --------------------------------------------------------------------------------


def test_outside_a_course_it_says_where_it_looked_and_what_to_do(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_both("status", TINY)
    assert code == 2 and out == ""
    assert err == (f"course grade: no nbgrader_config.py in {tmp_path.resolve()} or any folder above it: run the "
                   "command inside the course folder, or pass --root\n")
    code, out, err = run_both("--root", tmp_path / "elsewhere", "status", TINY)
    assert code == 2 and err == f"course grade: no nbgrader_config.py in {(tmp_path / 'elsewhere').resolve()}\n"


def test_the_course_is_found_from_any_folder_inside_it(course, monkeypatch):
    monkeypatch.chdir(course / "exercises" / TINY)
    code, out, err = run_both("status", TINY)
    assert (code, out, err) == (1, f"{TINY}: nothing graded yet (run `course grade autograde {TINY}`)\n", "")
    monkeypatch.chdir(course.parent)
    code, out, err = run_both("--root", "course", "status", TINY)  # a relative --root
    assert code == 1 and "nothing graded yet" in out


@pytest.mark.parametrize("verb", ["autograde", "status", "feedback", "export", "report"])
def test_verbs_that_read_grades_ask_for_generate_first(tmp_path, verb):
    """Before `generate` there is no gradebook: say so, and do not create an empty one."""
    root = tiny_course(tmp_path / "c", gradebook=False)
    argv = [verb] if verb == "export" else [verb, TINY]
    code, out, err = run_both("--root", root, *argv)
    assert code == 1 and out == ""
    assert err == (f"course grade: no gradebook yet ({root.resolve() / 'gradebook.db'}); run "
                   "`course grade generate ASSIGNMENT` first\n")
    assert not (root / "gradebook.db").exists()


def test_a_course_with_another_database_is_not_asked_for_a_gradebook_file(tmp_path):
    """A gradebook that is not an SQLite file (a server database) cannot be checked for on disk."""
    root = tiny_course(tmp_path / "c", "\nc.CourseDirectory.db_url = 'postgresql://nobody@localhost:1/none'\n",
                       gradebook=False)
    code, out, err = run_both("--root", root, "status", TINY)
    assert (code, out) == (1, f"{TINY}: nothing graded yet (run `course grade autograde {TINY}`)\n")


# -- generate ---------------------------------------------------------------------------------------


def test_generate_makes_the_student_version_and_counts_the_points(tmp_path):
    """With the course's nbgrader settings (here its own stub for answers to write)."""
    root = tiny_course(tmp_path / "c", "\nc.ClearSolutions.code_stub = {'python': '# your answer here'}\n")
    nbformat.write(nbformat.v4.new_notebook(), root / "exercises" / TINY / "00_intro.ipynb")  # a second notebook
    code, out, err = run_both("--root", root, "generate", TINY)
    assert code == 0, err
    assert out == (f"{TINY}: student version in release/{TINY}/ (00_intro.ipynb, {TINY}.ipynb)\n"
                   "  2 graded cells: 2 points autograded, 3 points graded by hand\n")
    assert err == ""  # nbgrader's information lines are not shown
    release = nbformat.read(root / "release" / TINY / f"{TINY}.ipynb", as_version=4)
    assert release.cells[1].source == "# your answer here"


def test_generate_replaces_the_student_version_only_with_force(course):
    source = course / "exercises" / TINY / f"{TINY}.ipynb"
    nb = nbformat.read(source, as_version=4)
    nb.cells[0].source = "Set x to one. New wording."
    nbformat.write(nb, source)
    release = course / "release" / TINY / f"{TINY}.ipynb"
    code, out, err = run_both("--root", course, "generate", TINY)
    assert "New wording" not in release.read_text()
    code, out, err = run_both("--root", course, "generate", TINY, "--force")
    assert code == 0 and "New wording" in release.read_text()
    assert "  nbgrader: Removing existing assignment" in err  # nbgrader's warnings are shown, marked as its own


def test_generate_names_a_missing_assignment_folder(course):
    code, out, err = run_both("--root", course, "generate", "02_nothing")
    assert code == 2 and out == ""
    assert err == f"course grade: no assignment folder {course / 'exercises' / '02_nothing'}\n"


def test_generate_says_when_nbgrader_cannot_make_the_student_version(course):
    source = course / "exercises" / TINY / f"{TINY}.ipynb"
    nb = nbformat.read(source, as_version=4)
    nb.cells[2].metadata["nbgrader"]["grade_id"] = "answer_x"  # two cells with one id
    nbformat.write(nb, source)
    code, out, err = run_both("--root", course, "generate", TINY, "--force")
    assert code == 1 and out == ""
    assert f"course grade: could not generate {TINY}: " in err


# -- collect ----------------------------------------------------------------------------------------


def _download(folder: Path, *names: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text(nbformat.writes(nbformat.v4.new_notebook()))
    return folder


def test_collect_takes_a_folder_or_a_zip_and_lists_who_was_collected(course, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = _download(tmp_path / "dl", f"smithjane_48213_1093344_{TINY}.ipynb", f"aliyevaleyla_{TINY}.ipynb")
    code, out, err = run_both("--root", course, "collect", TINY, "dl")
    assert code == 0, err
    assert out == f"{TINY}: 2 submission(s) collected into submitted/<student>/{TINY}/: aliyevaleyla, smithjane\n"
    assert "Directory not found. Creating" not in err
    assert Path.cwd() == tmp_path  # back where the instructor was
    for student in ("smithjane", "aliyevaleyla"):
        assert (course / "submitted" / student / TINY / f"{TINY}.ipynb").is_file()
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as packed:
        packed.write(folder / f"aliyevaleyla_{TINY}.ipynb", f"aliyevaleyla_{TINY}.ipynb")
        packed.writestr(f"petrosyanarmen_{TINY}.ipynb", nbformat.writes(nbformat.v4.new_notebook()))
    code, out, err = run_both("--root", course, "collect", TINY, archive)  # aliyevaleyla again: refused
    assert code == 1 and out == ""
    assert err.endswith("course grade: zip_collect stopped (see its message above); with --force it replaces "
                        "submissions collected before\n")
    assert Path.cwd() == tmp_path
    code, out, err = run_both("--root", course, "collect", TINY, archive, "--force")
    assert code == 0, err
    assert out == f"{TINY}: 2 submission(s) collected into submitted/<student>/{TINY}/: aliyevaleyla, petrosyanarmen\n"
    kept = sorted(p.name for p in (course / "downloaded" / TINY / "archive").iterdir())
    assert kept == ["submissions.zip"]  # the earlier download is not mixed in
    assert (course / "downloaded" / TINY / "extracted").is_dir()


def test_collect_explains_a_download_that_matches_no_student(course, tmp_path):
    download = _download(tmp_path / "dl", "homework.ipynb")
    code, out, err = run_both("--root", course, "collect", TINY, download)
    assert code == 1
    assert out == (f"{TINY}: 0 submission(s) collected into submitted/<student>/{TINY}/: none\n"
                   "  no file name matched the pattern in nbgrader_config.py (FileNameCollectorPlugin.named_regexp);"
                   " see exercises/README.md, 'Collect'\n")
    assert "homework.ipynb" in err  # nbgrader's own warning names the file it skipped
    assert not (course / "submitted").exists()


def test_collect_follows_the_course_folders_of_the_config(tmp_path):
    """A course that renames nbgrader's submitted/ folder gets its submissions there, and is told so."""
    root = generated(tmp_path / "c", "\nc.CourseDirectory.submitted_directory = 'handed_in'\n")
    download = _download(tmp_path / "dl", f"smithjane_{TINY}.ipynb")
    code, out, err = run_both("--root", root, "collect", TINY, download)
    assert code == 0, err
    assert out == f"{TINY}: 1 submission(s) collected into handed_in/<student>/{TINY}/: smithjane\n"
    assert (root / "handed_in" / "smithjane" / TINY / f"{TINY}.ipynb").is_file()


def test_collect_names_a_download_that_does_not_exist(course, tmp_path):
    code, out, err = run_both("--root", course, "collect", TINY, tmp_path / "nowhere.zip")
    assert code == 2 and out == ""
    assert err == f"course grade: {tmp_path / 'nowhere.zip'} does not exist\n"
    assert not (course / "downloaded").exists()


def test_collect_rebuilds_what_it_extracted(course, tmp_path):
    download = _download(tmp_path / "dl", f"smithjane_{TINY}.ipynb")
    extracted = course / "downloaded" / TINY / "extracted"
    extracted.mkdir(parents=True)
    (extracted / f"ghost_{TINY}.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook()))
    code, out, err = run_both("--root", course, "collect", TINY, download)
    assert code == 0 and ": smithjane\n" in out
    assert not (course / "submitted" / "ghost").exists()


# -- autograde ------------------------------------------------------------------------------------------


def test_autograde_with_no_submission_fails_and_says_so(course):
    code, out, err = run_both("--root", course, "autograde", TINY, "--no-sandbox")
    assert code == 1
    assert f"{TINY}: 0 submission(s)" in out


def test_autograde_names_an_assignment_that_was_never_generated(course):
    code, out, err = run_both("--root", course, "autograde", "02_unknown")
    assert (code, out) == (1, "")
    assert err == ("course grade: assignment '02_unknown' is not in the gradebook; run "
                   "`course grade generate 02_unknown` first\n")


def test_autograde_passes_on_its_options(course):
    missing_students(course, "nora", "omar", "pia")
    code, out, err = run_both("--root", course, "autograde", TINY, "--student", "nora", "--student", "pia",
                              "--no-sandbox")
    assert code == 0, err
    assert autograde.NO_SANDBOX_WARNING in out
    assert f"{TINY}: 2 submission(s): 0 to grade, 2 that cannot be run, 0 unchanged" in out
    assert sorted(status.read(course / "autograded", TINY)) == ["nora", "pia"]
    code, out, err = run_both("--root", course, "autograde", TINY, "--no-sandbox")
    assert code == 0 and "1 that cannot be run, 2 unchanged" in out
    code, out, err = run_both("--root", course, "autograde", TINY, "--no-sandbox", "--force")
    assert code == 0 and "3 that cannot be run, 0 unchanged" in out


def test_autograde_uses_the_workers_asked_for(course, monkeypatch):
    """--workers reaches the batch (watched by calling the real one through)."""
    seen = []
    real = autograde.run

    def spy(*args, **kw):
        seen.append(kw)
        return real(*args, **kw)

    monkeypatch.setattr(autograde, "run", spy)
    missing_students(course, "rex")
    code, out, err = run_both("--root", course, "autograde", TINY, "--no-sandbox", "--workers", "3")
    assert code == 0, err
    assert seen == [{"students": None, "workers_count": 3, "force": False, "no_sandbox": True}]


# -- status ---------------------------------------------------------------------------------------------


def test_status_warns_about_submissions_graded_without_the_sandbox(course):
    missing_students(course, "nora", "omar")
    hand_in(course, "pia")
    autograde.grade_one(job(course, "pia"))  # graded, with its written answer still to grade by hand
    run_both("--root", course, "autograde", TINY, "--no-sandbox", "--student", "nora", "--student", "omar")
    code, out, err = run_both("--root", course, "status", TINY)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "WARNING: graded without a sandbox (--no-sandbox): nora, omar"
    assert any(line.startswith("nora") and "missing" in line for line in lines[1:])
    assert any(line.startswith("omar") and "missing" in line for line in lines[1:])
    records = status.read(course / "autograded", TINY)
    records["omar"]["sandbox"] = "bubblewrap"
    records["pia"] = {"student": "pia", "status": "graded", "reason": "", "sandbox": "bubblewrap"}
    status.write(course / "autograded", TINY, records)
    code, out, err = run_both("--root", course, "status", TINY)
    lines = out.splitlines()
    assert lines[0] == "WARNING: graded without a sandbox (--no-sandbox): nora"
    pia, = [line for line in lines if line.startswith("pia")]
    assert "2/5" in pia and "to grade by hand: 3 pt" in pia  # the gradebook's scores of this assignment
    records["nora"]["sandbox"] = None
    status.write(course / "autograded", TINY, records)
    code, out, err = run_both("--root", course, "status", TINY)
    assert code == 0 and "WARNING" not in out


# -- feedback -----------------------------------------------------------------------------------------


def test_feedback_names_who_it_failed_for(course):
    code, out, err = run_both("--root", course, "feedback", TINY, "--student", "ghost")
    assert code == 1 and "course grade: feedback for ghost:" in err


def test_feedback_waits_for_hand_grades_unless_forced(course):
    hand_in(course, "tia")
    autograde.grade_one(job(course, "tia"))
    page = course / "feedback" / "tia" / TINY / f"{TINY}.html"
    code, out, err = run_both("--root", course, "feedback", TINY)
    assert code == 0, err
    assert not page.exists() and "no page for 1 student(s)" in out
    code, out, err = run_both("--root", course, "feedback", TINY, "--force")
    assert code == 0 and page.exists()


# -- export ---------------------------------------------------------------------------------------------


def test_export_writes_the_csv_where_asked_and_says_how_many_rows(course, tmp_path, monkeypatch):
    missing_students(course, "nora", "omar")
    run_both("--root", course, "autograde", TINY, "--no-sandbox")
    monkeypatch.chdir(course)
    code, out, err = run_both("export")
    assert (code, out) == (0, "wrote 2 row(s) to grades.csv\n")
    with open(course / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(r["student_id"] for r in rows) == ["nora", "omar"] and rows[0]["status"] == "missing"
    (course / "out").mkdir()
    code, out, err = run_both("export", TINY, "--to", os.path.join("out", "g.csv"))
    assert (code, out) == (0, f"wrote 2 row(s) to {os.path.join('out', 'g.csv')}\n")
    assert (course / "out" / "g.csv").is_file()
    elsewhere = tmp_path / "elsewhere.csv"
    code, out, err = run_both("export", TINY, "--to", elsewhere)  # outside the current folder: its full path
    assert (code, out) == (0, f"wrote 2 row(s) to {elsewhere}\n")
    assert elsewhere.read_text().startswith("assignment,student_id")
    code, out, err = run_both("export", "02_other", "--to", elsewhere)
    assert (code, out) == (1, "") and "not in the gradebook: 02_other" in err
    monkeypatch.chdir(tmp_path)  # from another folder: the course's gradebook, not one here
    code, out, err = run_both("--root", course, "export", "--to", "from_outside.csv")
    assert (code, out) == (0, "wrote 2 row(s) to from_outside.csv\n")
    assert not (tmp_path / "gradebook.db").exists()


# -- report ---------------------------------------------------------------------------------------------


MISTAKES = """assignment: 01_tiny
setup: |
  pass
tasks:
  test_x:
    variable: x
    kind: number
    mistakes: []
"""


def test_report_writes_where_asked(course, tmp_path, monkeypatch):
    missing_students(course, "nora")
    run_both("--root", course, "autograde", TINY, "--no-sandbox")
    code, out, err = run_both("--root", course, "report", TINY)
    assert code == 2 and f"{TINY}.mistakes.yaml" in err  # no known mistakes written down yet
    (course / "exercises" / f"{TINY}.mistakes.yaml").write_text(MISTAKES)
    monkeypatch.chdir(tmp_path)
    code, out, err = run_both("--root", course, "report", TINY, "--out", "rep")
    assert code == 0, err
    assert (tmp_path / "rep" / "report.md").is_file() and (tmp_path / "rep" / "scores.csv").is_file()
    code, out, err = run_both("--root", course, "report", TINY)
    assert code == 0 and (course / "reports" / TINY / "report.md").is_file()


# -- how verbs end -------------------------------------------------------------------------------------


def test_a_verb_that_exits_with_a_number_keeps_it(course, monkeypatch):
    """A verb stopping with SystemExit(n) ends the command with n; with a message, with 1 and the message."""
    monkeypatch.setitem(cli.VERBS, "status", lambda root, args: (_ for _ in ()).throw(SystemExit(3)))
    assert run_both("--root", course, "status", TINY)[0] == 3
    monkeypatch.setitem(cli.VERBS, "status", lambda root, args: (_ for _ in ()).throw(SystemExit(None)))
    assert run_both("--root", course, "status", TINY)[0] == 0
    monkeypatch.setitem(cli.VERBS, "status", lambda root, args: (_ for _ in ()).throw(SystemExit("stopped: why")))
    assert run_both("--root", course, "status", TINY) == (1, "", "stopped: why\n")


def test_the_working_folder_is_restored_even_on_error(tmp_path):
    here = Path.cwd()
    with pytest.raises(RuntimeError), cli._in(tmp_path):
        assert Path.cwd() == tmp_path.resolve()
        raise RuntimeError
    assert Path.cwd() == here


def test_nbgrader_messages_go_to_stderr_marked_as_its_own_and_only_from_warnings_up():
    class App:
        pass

    app = cli._quiet_nbgrader_log(App())
    assert app.log.name == "course.grading.App" and app.log.propagate is False
    assert app.log.level == logging.WARNING
    assert cli._quiet_nbgrader_log(App(), "ERROR").log.level == logging.ERROR
    handler, = app.log.handlers
    assert handler.stream is sys.stderr
    assert handler.formatter.format(logging.makeLogRecord({"msg": "hello"})) == "  nbgrader: hello"
