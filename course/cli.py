"""The `course` command (also `python -m course`): one verb per job.

Each verb lives in its own module with a `main(argv) -> int`; this file only dispatches, so a
new verb is one line in VERBS.
"""
from __future__ import annotations

import importlib
import sys

VERBS = {  # verb -> (module, one-line description)
    "doctor": ("course.doctor", "check that this computer can run the course, with fixes"),
    "grade": ("course.grading.cli", "instructors: release, collect, autograde, export (nbgrader)"),
    "glossary": ("course.learner_path", "authors: regenerate notebooks/glossary.md (--write)"),
}


def usage() -> str:
    lines = ["usage: course VERB [options]", "", "verbs:"]
    lines += [f"  {verb:<8} {about}" for verb, (_, about) in VERBS.items()]
    lines.append("\n`course VERB --help` explains a verb.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    verb, rest = argv[0], argv[1:]
    if verb not in VERBS:
        print(f"course: unknown verb {verb!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(VERBS[verb][0])
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
