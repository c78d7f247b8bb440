"""Write the reviewed snapshot of every quiz answer: tests/fixtures/answer_keys.yaml (issue 20).

    .venv/bin/python tests/tools/snapshot_answer_keys.py           # rewrite the snapshot
    .venv/bin/python tests/tools/snapshot_answer_keys.py --check   # only say what differs

tests/test_answer_keys.py fails when a bank's answer differs from the snapshot, so a correct
option moved by accident is caught. When you change an answer on purpose, run this script and
commit the snapshot with the change: the diff of answer_keys.yaml is what the reviewer reads.

The snapshot holds, per lesson and question id, the answer as the course grades it (read through
`course.quizzes`, the same code that grades students):
- single / multiple choice: the correct option id(s) and their text;
- numeric: the value, the tolerance and the unit;
- ordering: the item ids in the right order, with their text;
- matching: each left label with its right-hand match.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT / "tests" / "fixtures" / "answer_keys.yaml"
COMMAND = "python tests/tools/snapshot_answer_keys.py"
HEADER = f"""\
# The reviewed answer of every quiz question, per lesson and question id (issue 20).
# Written by `{COMMAND}`; checked by tests/test_answer_keys.py.
# Do not edit by hand: change the bank, rerun the command, and review this file's diff.
"""

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def answer_key(question) -> dict:
    """The answer of one question, in a plain form that reads well in YAML."""
    kind = question.kind
    if kind == "single":
        option = next(o for o in question.options if o.correct)
        return {"kind": kind, "correct": option.id, "text": option.text}
    if kind == "multiple":
        options = [o for o in question.options if o.correct]
        return {"kind": kind, "correct": sorted(o.id for o in options),
                "text": {o.id: o.text for o in sorted(options, key=lambda o: o.id)}}
    if kind == "numeric":
        return {"kind": kind, "value": question.value, "tolerance": question.tolerance, "unit": question.unit}
    if kind == "ordering":
        return {"kind": kind, "order": [item.id for item in question.items],
                "text": {item.id: item.text for item in question.items}}
    if kind == "matching":
        return {"kind": kind, "pairs": [{p.left: p.right} for p in question.pairs]}
    raise ValueError(f"question {question.id}: no answer key for kind {kind!r}")


def current_keys() -> dict[str, dict[str, dict]]:
    """lesson -> question id -> answer, from the banks as they are now."""
    from course.quizzes import bank

    keys = {}
    for lesson in bank.lesson_names():
        loaded = bank.load_file(bank.resolve(lesson))
        keys[lesson] = {q.id: answer_key(q) for q in loaded.questions}
    return keys


def read_snapshot(path: Path = SNAPSHOT) -> dict[str, dict[str, dict]]:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def dump(keys: dict) -> str:
    return HEADER + yaml.safe_dump(keys, allow_unicode=True, sort_keys=False, width=100, default_flow_style=False)


def _short(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def differences(snapshot: dict, current: dict, lessons=None) -> list[str]:
    """One line per change: a lesson or question added or removed, an answer changed (old vs new)."""
    lines = []
    for lesson in sorted(set(snapshot) | set(current)) if lessons is None else lessons:
        old, new = snapshot.get(lesson), current.get(lesson)
        if old is None and new is not None:
            lines.append(f"lesson {lesson}: not in the snapshot ({len(new)} questions)")
            continue
        if new is None:
            lines.append(f"lesson {lesson}: in the snapshot but has no bank now")
            continue
        for qid in list(old) + [q for q in new if q not in old]:
            if qid not in new:
                lines.append(f"{lesson}, question {qid}: removed (was {_short(old[qid])})")
            elif qid not in old:
                lines.append(f"{lesson}, question {qid}: new, not in the snapshot (now {_short(new[qid])})")
            elif old[qid] != new[qid]:
                changed = [k for k in dict.fromkeys([*old[qid], *new[qid]]) if old[qid].get(k) != new[qid].get(k)]
                for key in changed:
                    lines.append(f"{lesson}, question {qid}: {key} changed: was {_short(old[qid].get(key))}, "
                                 f"now {_short(new[qid].get(key))}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="print the differences and exit 1 if any")
    args = parser.parse_args(argv)
    current = current_keys()
    if args.check:
        found = differences(read_snapshot() if SNAPSHOT.exists() else {}, current)
        print("\n".join(found) if found else "the snapshot matches every bank")
        return 1 if found else 0
    before = read_snapshot() if SNAPSHOT.exists() else {}
    SNAPSHOT.write_text(dump(current), encoding="utf-8")
    changes = differences(before, current)
    print(f"wrote {SNAPSHOT.relative_to(ROOT)}: {sum(len(q) for q in current.values())} questions in "
          f"{len(current)} lessons; {len(changes)} change(s)")
    for line in changes:
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
