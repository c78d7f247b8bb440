"""`course grade VERB`: the instructor's grading commands, on top of nbgrader.

    course grade generate  ASSIGNMENT           the student version, in release/ (nbgrader generate_assignment)
    course grade collect   ASSIGNMENT DOWNLOAD  an LMS download (zip or folder) into submitted/ (nbgrader zip_collect)
    course grade autograde ASSIGNMENT           run and score every submission, side by side, each with a status
    course grade status    ASSIGNMENT           what happened to each submission, and why
    course grade feedback  ASSIGNMENT           feedback HTML for students, without the hidden tests (students
                                                with answers still to grade by hand get none; --force)
    course grade export    [ASSIGNMENT ...]     the gradebook as CSV, per question, with status and reason
    course grade report    ASSIGNMENT           after grading: scores, share right, the common known mistakes

Manual grading of the written answers happens in JupyterLab's Formgrader (see exercises/README.md).
Every verb works from any folder inside the course (the one holding nbgrader_config.py) or with --root.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
from pathlib import Path

from . import config as course_config


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="course grade", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Instructor guide: exercises/README.md")
    parser.add_argument("--root", help="the course folder (default: the nearest folder with nbgrader_config.py)")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")

    p = verbs.add_parser("generate", help="make the student version of an assignment in release/")
    p.add_argument("assignment")
    p.add_argument("--force", action="store_true", help="regenerate even if release/ has it already")

    p = verbs.add_parser("collect", help="import an LMS download into submitted/ (nbgrader zip_collect)")
    p.add_argument("assignment")
    p.add_argument("download", help="the zip file (or folder) downloaded from the LMS")
    p.add_argument("--force", action="store_true", help="replace submissions collected before")

    p = verbs.add_parser("autograde", help="run and score the submissions, with parallel workers")
    p.add_argument("assignment")
    p.add_argument("--student", action="append", help="only this student (repeat for more)")
    p.add_argument("--workers", type=int, help="submissions graded side by side (default: one per CPU core)")
    p.add_argument("--force", action="store_true", help="regrade submissions that have not changed")
    p.add_argument("--no-sandbox", action="store_true",
                   help="run student code WITHOUT the bubblewrap sandbox (as you; recorded in status and export)")

    p = verbs.add_parser("status", help="the status and reason of every submission")
    p.add_argument("assignment")

    p = verbs.add_parser("feedback", help="feedback HTML in feedback/, without hidden tests")
    p.add_argument("assignment")
    p.add_argument("--student", action="append", help="only this student (repeat for more)")
    p.add_argument("--force", action="store_true",
                   help="also write pages for students with answers still to grade by hand (marked \"Not graded "
                        "yet\"; by default they get no page and are listed)")

    p = verbs.add_parser("export", help="write the gradebook as CSV")
    p.add_argument("assignment", nargs="*", help="assignments to export (default: all)")
    p.add_argument("--to", default="grades.csv", help="the CSV file to write (default: grades.csv)")

    p = verbs.add_parser("report", help="the class report: scores, share right, common known mistakes")
    p.add_argument("assignment")
    p.add_argument("--out", help="the folder to write into (default: reports/ASSIGNMENT in the course folder)")
    return parser


@contextlib.contextmanager
def _in(folder: Path):
    here = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(here)


def _quiet_nbgrader_log(app, level="WARNING"):
    import logging

    log = logging.getLogger(f"course.grading.{type(app).__name__}")
    log.propagate = False
    log.handlers = [logging.StreamHandler(sys.stderr)]
    log.handlers[0].setFormatter(logging.Formatter("  nbgrader: %(message)s"))
    log.setLevel(level)
    app.log = log
    return app


# -- verbs -----------------------------------------------------------------------------------------
def generate(root: Path, args) -> int:
    from nbgrader.converters import GenerateAssignment
    from nbgrader.utils import temp_attrs

    config = course_config.load(root)
    course = course_config.coursedir(config)
    source = Path(course.format_path(course.source_directory, ".", args.assignment))
    if not source.is_dir():
        print(f"course grade: no assignment folder {source}", file=sys.stderr)
        return 2
    app = _quiet_nbgrader_log(GenerateAssignment(coursedir=course, config=config))
    app.force = args.force
    app.create_assignment = True
    with temp_attrs(course, assignment_id=args.assignment):
        try:
            app.start()
        except Exception as err:  # noqa: BLE001 - nbgrader raises NbGraderException and others
            print(f"course grade: could not generate {args.assignment}: {err}", file=sys.stderr)
            return 1
    release = Path(course.format_path(course.release_directory, ".", args.assignment))
    with course_config.gradebook(config) as gb:
        assignment = gb.find_assignment(args.assignment)
        auto = sum(c.max_score for nb in assignment.notebooks for c in nb.grade_cells if c.cell_type == "code")
        manual = sum(c.max_score for nb in assignment.notebooks for c in nb.grade_cells if c.cell_type != "code")
        cells = sum(len(nb.grade_cells) for nb in assignment.notebooks)
    files = ", ".join(sorted(p.name for p in release.glob("*.ipynb")))
    print(f"{args.assignment}: student version in {release.relative_to(root)}/ ({files})")
    print(f"  {cells} graded cells: {auto:g} points autograded, {manual:g} points graded by hand")
    return 0


def collect(root: Path, args) -> int:
    from nbgrader.apps import ZipCollectApp

    download = Path(args.download).resolve()
    if not download.exists():
        print(f"course grade: {download} does not exist", file=sys.stderr)
        return 2
    config = course_config.load(root)
    course = course_config.coursedir(config)
    archive = root / "downloaded" / args.assignment / "archive"
    if archive.exists():
        shutil.rmtree(archive)
    archive.mkdir(parents=True)
    if download.is_dir():
        shutil.copytree(download, archive, dirs_exist_ok=True)
    else:
        shutil.copy2(download, archive / download.name)

    collected: dict = {}

    class Collect(ZipCollectApp):
        def _transfer_files(self, collected_data):
            collected.update(collected_data or {})
            super()._transfer_files(collected_data)

    extracted = archive.parent / "extracted"  # rebuilt from this download every time
    if extracted.exists():
        shutil.rmtree(extracted)
    app = Collect()
    # a student's earlier submission is replaced only with --force
    argv = [args.assignment, "--log-level=WARN"] + (["--force"] if args.force else [])
    try:
        with _in(root):
            app.initialize(argv)
            for handler in app.log.handlers:  # keep nbgrader's useful warnings, drop "Creating: <folder>"
                handler.addFilter(lambda record: "Directory not found. Creating" not in record.getMessage())
            app.start()
    except SystemExit as err:
        if err.code:
            print("course grade: zip_collect stopped (see its message above); with --force it replaces "
                  "submissions collected before", file=sys.stderr)
            return 1
    finally:
        app.clear_instance()
    submitted = Path(course.format_path(course.submitted_directory, "*", args.assignment))
    print(f"{args.assignment}: {len(collected)} submission(s) collected into {submitted.parent.parent.name}/"
          f"<student>/{args.assignment}/: {', '.join(sorted(collected)) or 'none'}")
    if not collected:
        print("  no file name matched the pattern in nbgrader_config.py (FileNameCollectorPlugin.named_regexp);"
              " see exercises/README.md, 'Collect'")
        return 1
    return 0


def autograde_verb(root: Path, args) -> int:
    from . import autograde

    records = autograde.run(root, args.assignment, students=args.student, workers_count=args.workers,
                            force=args.force, no_sandbox=args.no_sandbox)
    return 0 if records else 1


def status_verb(root: Path, args) -> int:
    from . import status

    config = course_config.load(root)
    course = course_config.coursedir(config)
    autograded = Path(course.format_path(course.autograded_directory, ".", ".")).resolve()
    records = status.read(autograded, args.assignment)
    if not records:
        print(f"{args.assignment}: nothing graded yet (run `course grade autograde {args.assignment}`)")
        return 1
    unsandboxed = sorted(s for s, rec in records.items() if (rec.get("sandbox") or "").startswith("none"))
    if unsandboxed:
        print(f"WARNING: graded without a sandbox (--no-sandbox): {', '.join(unsandboxed)}")
    print("\n".join(status.table(config, args.assignment, records)))
    return 0


def feedback(root: Path, args) -> int:
    from .feedback import run

    return run(root, args.assignment, args.student, args.force)


def export(root: Path, args) -> int:
    from . import export as exporter

    config = course_config.load(root)
    text = exporter.to_csv(config, args.assignment or None)
    target = Path(args.to)
    if not target.is_absolute():
        target = Path(os.getcwd()) / target
    target.write_text(text, encoding="utf-8")
    rows = text.count("\n") - 1
    shown = os.path.relpath(target) if target.is_relative_to(os.getcwd()) else target
    print(f"wrote {rows} row(s) to {shown}")
    return 0


def report_verb(root: Path, args) -> int:
    from . import report

    return report.run(root, args.assignment, Path(args.out).resolve() if args.out else None)


VERBS = {"generate": generate, "collect": collect, "autograde": autograde_verb, "status": status_verb,
         "feedback": feedback, "export": export, "report": report_verb}


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.verb:
        parser.print_help()
        return 2
    try:
        root = Path(args.root).resolve() if args.root else course_config.find_root()
        if not (root / course_config.CONFIG_FILE).is_file():
            raise course_config.CourseNotFound(f"no {course_config.CONFIG_FILE} in {root}")
    except course_config.CourseNotFound as err:
        print(f"course grade: {err}", file=sys.stderr)
        return 2
    if args.verb in ("autograde", "status", "feedback", "export", "report"):
        database = course_config.database_file(course_config.load(root))
        if database is not None and not database.is_file():
            print(f"course grade: no gradebook yet ({database}); run `course grade generate ASSIGNMENT` first",
                  file=sys.stderr)
            return 1
    try:
        return VERBS[args.verb](root, args)
    except SystemExit as err:
        if isinstance(err.code, str):
            print(err.code, file=sys.stderr)
            return 1
        return int(err.code or 0)
