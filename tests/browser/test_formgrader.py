"""Hand grading in Formgrader, in a real browser, on the path exercises/README.md describes.

A temporary course folder gets the real nbgrader_config.py, assignment 01 generated, and three
autograded sample submissions. JupyterLab is started in it (as an instructor starts it), and the
test walks the guide's steps of "5 Grade the written answers by hand": Nbgrader menu ->
Formgrader -> Manual Grading -> assignment -> notebook -> "Submission #n" (names behind "Show All
Names") -> the written answer's score box -> the score saved when the box loses focus (no Save
button). Then `course grade export` must carry the score under the written answer's grade id.

The screenshots the guide shows are taken here, at every step. They go to the artifacts folder;
with COURSE_GUIDE_SCREENSHOTS=1 they also replace the guide's copies in exercises/.img/ (a
folder nbgrader does not take for an assignment, since its name starts with a dot).

The last test needs no browser: it checks that the guide names the real grade id and shows
screenshots that exist.
"""
from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import shutil
import time
from pathlib import Path

import nbformat
import pytest
from labdriver import REPO, LabServer

from course.grading import cli, samples
from course.grading import config as course_config

ASSIGNMENT = "01_war_to_talks"  # the assignment of the guide's walkthrough
STUDENTS = {"aliyevaleyla": "correct", "garciamaria": "wrong", "smithjane": "extra_cell"}
GRADED_BY_HAND = "garciamaria"
HAND_SCORE = 10
COMMENT = "Clear claim, tested against both figures; the second source is missing."
GUIDE = REPO / "exercises" / "README.md"
GUIDE_IMG = REPO / "exercises" / ".img"
SHOTS = ("formgrader-1-menu.png", "formgrader-2-start.png", "formgrader-3-submissions.png",
         "formgrader-4-written-answer.png")
SCREEN = {"width": 1100, "height": 760}


def written_grade_id(notebook: Path) -> tuple[str, float]:
    nb = nbformat.read(notebook, as_version=4)
    cell = next(c for c in nb.cells if samples.is_written(c))
    return cell.metadata["nbgrader"]["grade_id"], float(cell.metadata["nbgrader"]["points"])


def _cli(*argv) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main([str(a) for a in argv])
    assert code == 0, out.getvalue()
    return out.getvalue()


@pytest.fixture(scope="module")
def course_lab(tmp_path_factory, browser):
    """The course folder with three autograded submissions, and JupyterLab started in it."""
    root = tmp_path_factory.mktemp("formgrader-course")
    (root / "exercises").mkdir()
    shutil.copytree(REPO / "exercises" / ASSIGNMENT, root / "exercises" / ASSIGNMENT)
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    _cli("--root", root, "generate", ASSIGNMENT)
    source = nbformat.read(root / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    release = nbformat.read(root / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    for student, kind in STUDENTS.items():
        samples.write(kind, source, release, root / "submitted" / student / ASSIGNMENT, ASSIGNMENT)
    _cli("--root", root, "autograde", ASSIGNMENT, "--workers", 2)
    server = LabServer(root, tmp_path_factory.mktemp("formgrader-state")).start()
    yield root, server
    server.stop()


def _shot(target, name: str, artifacts: Path, **kw) -> None:
    path = artifacts / name
    target.screenshot(path=str(path), **kw)
    if os.environ.get("COURSE_GUIDE_SCREENSHOTS") == "1":
        GUIDE_IMG.mkdir(exist_ok=True)
        try:  # a palette PNG is a third of the size and looks the same for these flat screens
            from PIL import Image

            Image.open(path).convert("RGB").quantize(colors=128).save(GUIDE_IMG / name, optimize=True)
        except ImportError:
            shutil.copy(path, GUIDE_IMG / name)


def _manual_score(root: Path, grade_id: str, student: str):
    config = course_config.load(root)
    with course_config.gradebook(config) as gb:
        grade = gb.find_grade(grade_id, ASSIGNMENT, ASSIGNMENT, student)
        return grade.manual_score, grade.needs_manual_grade


def _saved(root: Path, grade_id: str):
    config = course_config.load(root)
    with course_config.gradebook(config) as gb:
        comment = gb.find_comment(grade_id, ASSIGNMENT, ASSIGNMENT, GRADED_BY_HAND).comment
    return _manual_score(root, grade_id, GRADED_BY_HAND), comment


@pytest.mark.browser
def test_grade_a_written_answer_in_formgrader_and_export_it(course_lab, browser, artifacts):
    root, lab = course_lab
    grade_id, points = written_grade_id(root / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    started = time.monotonic()
    context = browser.new_context(viewport=SCREEN)
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        page.goto(lab.url("lab"))
        page.wait_for_selector(".lm-MenuBar-itemLabel", timeout=60_000)
        page.wait_for_selector(".jp-DirListing-item")  # the file browser is filled: the shell is ready
        page.keyboard.press("Control+b")  # close the file browser: more room for Formgrader

        # Step 1: menu Nbgrader -> Formgrader
        page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
        item = page.locator(".lm-Menu-itemLabel").get_by_text("Formgrader", exact=True)
        item.wait_for()
        _shot(page, SHOTS[0], artifacts, clip={"x": 0, "y": 0, "width": 560, "height": 200})
        item.click()
        frame = page.frame_locator("iframe")
        # Formgrader opens on Manage Assignments; with the LMS route the exchange is not set up, and
        # it says so in a yellow box (expected: release and collect go through the LMS)
        frame.get_by_text("Manual Grading", exact=True).first.wait_for()
        warning = frame.locator(".alert-warning")
        warning.wait_for()
        assert "exchange directory" in warning.inner_text()
        frame.locator("table").get_by_text(ASSIGNMENT, exact=True).wait_for()  # the list has loaded
        _shot(page, SHOTS[1], artifacts, clip={"x": 0, "y": 0, "width": SCREEN["width"], "height": 600})

        # Step 2: Manual Grading -> assignment -> notebook: anonymised submissions
        frame.get_by_role("link", name="Manual Grading").click()
        frame.get_by_role("link", name=ASSIGNMENT).click()
        frame.get_by_text(f"Manual Grading {ASSIGNMENT}").wait_for()
        frame.get_by_role("link", name=ASSIGNMENT).click()
        frame.get_by_role("link", name=f"Submission #{len(STUDENTS)}").wait_for()  # rows come in one by one
        rows = frame.locator("table tbody tr")
        assert rows.count() == len(STUDENTS)
        table = frame.locator("table").first.inner_text()
        assert not any(student in table for student in STUDENTS)  # names hidden until asked
        _shot(page, SHOTS[2], artifacts, clip={"x": 0, "y": 0, "width": SCREEN["width"], "height": 520})
        frame.get_by_role("button", name="Show All Names").click()
        frame.get_by_role("link", name=GRADED_BY_HAND).wait_for()
        frame.get_by_role("link", name=GRADED_BY_HAND).click()

        # Step 3: one page with every cell; the written answer's score box, saved on leaving it
        score = frame.locator(f"input.score#{grade_id}")
        score.wait_for()
        assert "needs_manual_grade" in (score.get_attribute("class") or "")
        assert frame.get_by_role("button", name=re.compile("^Save", re.I)).count() == 0  # there is none
        score.scroll_into_view_if_needed()
        score.fill(str(HAND_SCORE))
        time.sleep(0.5)
        assert _manual_score(root, grade_id, GRADED_BY_HAND) == (None, True)  # nothing saved while typing
        comment = frame.locator(f"textarea#{grade_id}-comment")
        comment.fill(COMMENT)  # the score box loses focus: Formgrader saves the score
        comment.press("Tab")  # and the comment box: the comment is saved
        deadline = time.monotonic() + 15
        while _saved(root, grade_id) != ((HAND_SCORE, False), COMMENT) and time.monotonic() < deadline:
            time.sleep(0.25)
        assert _saved(root, grade_id) == ((HAND_SCORE, False), COMMENT)
        cell = score.locator("xpath=ancestor::div[contains(@class, 'nbgrader_cell')][1]")
        cell.scroll_into_view_if_needed()
        _shot(cell, SHOTS[3], artifacts)
    finally:
        context.close()
    walk = time.monotonic() - started

    # Step 4: the export has the score under the grade id; the others are still provisional
    csv_file = root / "grades.csv"
    _cli("--root", root, "export", ASSIGNMENT, "--to", csv_file)
    with open(csv_file, newline="", encoding="utf-8") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    graded = rows[GRADED_BY_HAND]
    assert (graded[grade_id], graded["provisional"], graded["to_grade_by_hand"]) == (f"{HAND_SCORE:g}", "no", "0")
    for student in set(STUDENTS) - {GRADED_BY_HAND}:
        assert (rows[student][grade_id], rows[student]["provisional"]) == ("", "yes")
        assert rows[student]["to_grade_by_hand"] == f"{points:g}"
    status = _cli("--root", root, "status", ASSIGNMENT)
    feedback = _cli("--root", root, "feedback", ASSIGNMENT)
    assert f"to grade by hand: {points:g} pt" in status and "no page for 2 student(s)" in feedback
    print(f"\nwalk through Formgrader: {walk:.1f} s\n{status}\n{feedback}")
    assert walk < 60


def test_the_guide_names_the_real_grade_id_and_shows_real_screens():
    """Section 5 of the guide: the walkthrough's grade id is the notebook's, and its screenshots
    are the ones the browser test above takes."""
    text = GUIDE.read_text(encoding="utf-8")
    section = text[text.index("## 5 Grade the written answers by hand"):text.index("## 6 ")]
    grade_id, _ = written_grade_id(REPO / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    assert f"`{grade_id}`" in section and ASSIGNMENT in section
    shown = re.findall(r"\]\((\.img/[^)]+\.png)\)", section)
    assert sorted(Path(s).name for s in shown) == sorted(SHOTS)
    for name in shown:
        assert (REPO / "exercises" / name).is_file(), name
    # nbgrader takes every folder matching exercises/* for an assignment (Formgrader would list an
    # "img" one); its glob skips names starting with a dot, so the pictures live in exercises/.img/
    assert GUIDE_IMG.name.startswith(".") and GUIDE_IMG.is_dir()
    ids = set(re.findall(r"`([a-z0-9_-]+)`", section)) & {"written_q4", "written-preamble"}
    for other in ids - {grade_id}:  # a grade id of another assignment only in the per-assignment table
        assert re.search(rf"\|\s*`\d\d_\w+`\s*\|\s*`{other}`", section), other
    for folder in sorted((REPO / "exercises").iterdir()):  # every written answer's id, in the table
        notebook = folder / f"{folder.name}.ipynb"
        if folder.is_dir() and notebook.is_file():
            gid, pts = written_grade_id(notebook)
            assert re.search(rf"\|\s*`{folder.name}`\s*\|\s*`{re.escape(gid)}`\s*\|\s*{pts:g}\s*\|", section), gid
