"""The learner-path rules of notebooks/AUTHORING.md, one test per rule, for every lesson.

Lessons are found from notebooks/*.ipynb; their banks and tasks from course/banks and
course/tasks; graded assignments from exercises/*/*.ipynb (the code between `### BEGIN SOLUTION`
and `### END SOLUTION`). Every failure names the file, the cell, question or task, and the fix.

Lessons not yet rewritten to the rules are listed in NOT_YET below, with the issue that rewrites
them: their failing tests are marked strict xfail. When a lesson lands, delete its entries; a
stale entry (a rule the lesson now meets) shows up as an XPASS, which fails.
"""
from __future__ import annotations

import ast
import builtins
import functools
import math
import re
from pathlib import Path

import nbformat
import pytest
import yaml

from course import learner_path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
TASKS_DIR = ROOT / "course" / "tasks"
BANKS_DIR = ROOT / "course" / "banks"

# --- lessons not yet rewritten: (rule, lesson) -> the issue that rewrites them ---------------
# Delete an entry when its lesson lands. Rule 1 covers the lesson's tasks; ("1", "exercises/…")
# covers a graded assignment.
ISSUE_13 = "issue 13: lessons 01–03 not yet rewritten"
ISSUE_14 = "issue 14: lessons 04–06 not yet rewritten"
ISSUE_15 = "issue 15: graded assignments not yet rewritten"
NOT_YET: dict[tuple[str, str], str] = {
}


def _xfail(rule: str, lesson: str):
    reason = NOT_YET.get((rule, lesson))
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


# --- what a lesson is made of ------------------------------------------------------------------

LESSONS = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))
TIME = re.compile(r"\*About (\d+)(?:\s*[–-]\s*(\d+))? minutes\*")
OBJECTIVE = re.compile(r"^\s*- \*\*(O\d+)\*\*\s+(.+)$", re.M)
SOURCES_LINE = "*Sources for this section:*"
CLAIM_REF = re.compile(r"\b(?:overview|history|constitution|border|corridor|framework|turkey|aliyev)"
                       r"\.[a-z0-9]+(?:-[a-z0-9]+)*\b")
FILE_SUFFIXES = {"py", "csv", "yaml", "md", "ipynb", "json", "png"}


@functools.cache
def notebook(lesson: str):
    return nbformat.read(NOTEBOOKS / f"{lesson}.ipynb", as_version=4)


@functools.cache
def bank(lesson: str) -> list[dict]:
    path = BANKS_DIR / f"{lesson}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))["questions"] if path.exists() else []


@functools.cache
def tasks(lesson: str) -> dict:
    path = TASKS_DIR / f"{lesson}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {"setup": "", "exercises": {}}


def number(lesson: str) -> int:
    return int(lesson[:2])


def prose(md: str) -> str:
    """A Markdown cell's prose: no code blocks, inline code, HTML tags, link targets or table rules."""
    md = re.sub(r"```.*?```", " ", md, flags=re.S)
    md = re.sub(r"`[^`]*`", " ", md)
    md = re.sub(r"<[^>]+>", " ", md)
    md = re.sub(r"\]\([^)]*\)", "]", md)
    return md


def words(lesson: str) -> int:
    text = " ".join(prose(c.source) for c in notebook(lesson).cells if c.cell_type == "markdown")
    return len(re.findall(r"[^\W_](?:[\w'’.,:/–-]*[^\W_])?", text))


def estimate(lesson: str) -> float:
    """Minutes: words / 150 + 1.5 per quiz question + 4 per exercise (AUTHORING.md, rule 4)."""
    return words(lesson) / 150 + 1.5 * len(bank(lesson)) + 4 * len(tasks(lesson)["exercises"])


def stated_time(lesson: str) -> tuple[int, int] | None:
    found = TIME.search(notebook(lesson).cells[0].source)
    if not found:
        return None
    low = int(found.group(1))
    return (low, int(found.group(2))) if found.group(2) else (low - 5, low + 5)


def objectives(lesson: str) -> dict[str, str]:
    return dict(OBJECTIVE.findall(notebook(lesson).cells[0].source))


def as_list(value) -> list:
    return [] if value is None else [value] if isinstance(value, str) else list(value)


# --- rule 1: the Python card, recognised in code ----------------------------------------------

FORBIDDEN = {ast.FunctionDef: "`def`", ast.AsyncFunctionDef: "`def`", ast.Lambda: "`lambda`",
             ast.For: "a `for` loop", ast.While: "a `while` loop", ast.ListComp: "a comprehension",
             ast.SetComp: "a comprehension", ast.DictComp: "a comprehension",
             ast.GeneratorExp: "a comprehension", ast.ClassDef: "`class`", ast.Try: "`try`",
             ast.If: "`if`", ast.IfExp: "`… if … else …`", ast.JoinedStr: "an f-string",
             ast.Dict: "a dictionary `{…}`", ast.Slice: "a slice `[a:b]`", ast.Starred: "`*`",
             ast.In: "`in`", ast.NotIn: "`not in`", ast.Is: "`is`", ast.IsNot: "`is not`",
             ast.BoolOp: "`and`/`or` (use `&`/`|` between conditions)", ast.Not: "`not` (use `~`)"}


@functools.cache
def card() -> dict:
    """{'nodes'|'methods'|'builtins'|'functions': {name: idiom id}} from idioms.yaml."""
    found: dict[str, dict[str, str]] = {"nodes": {}, "methods": {}, "builtins": {}, "functions": {}}
    for idiom_id, entry in learner_path.idioms().items():
        for kind in found:
            for name in entry["recognise"].get(kind, []):
                found[kind].setdefault(name, idiom_id)
    return found


def taught_in(idiom_id: str) -> str:
    return learner_path.idioms()[idiom_id]["lesson"]


def course_names(code: str) -> set[str]:
    """Names a piece of code imports from the course package (helpers and helper modules)."""
    names = set()
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return names
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "course":
            names |= {a.asname or a.name for a in node.names}
        elif isinstance(node, ast.Import):
            names |= {a.asname or a.name for a in node.names if a.name.split(".")[0] == "course"}
    return names


def card_problems(code: str, lesson: str, helpers: set[str]) -> list[str]:
    """What in `code` is not on the Python card, or not taught by `lesson` or an earlier one."""
    try:
        tree = ast.parse(code)
    except SyntaxError as err:
        return [f"the code does not parse: {err}"]
    problems: list[str] = []
    used: dict[str, str] = {}  # idiom -> what used it
    helper_parents: set[int] = set()

    def note(idiom: str, what: str) -> None:
        used.setdefault(idiom, what)

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in helpers:
            helper_parents.add(id(node))
    for node in ast.walk(tree):
        kind = type(node)
        if kind in FORBIDDEN:
            problems.append(f"uses {FORBIDDEN[kind]} (line {getattr(node, 'lineno', '?')}), which is not on "
                            "the Python card: write it with the card's idioms, or let a helper in "
                            "course/lessons/ do it")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
            if (module or "").split(".")[0] != "course":
                problems.append(f"imports {module!r}: a solution imports nothing but course helpers "
                                "(put other imports in the task's setup)")
            helpers |= {a.asname or a.name for a in node.names}
            note("chart", f"import from {module}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = node.func.id
            if name in card()["functions"]:
                note(card()["functions"][name], f"{name}()")
            elif name in helpers:
                note("chart", f"the course helper {name}()")
            elif name in card()["builtins"]:
                note(card()["builtins"][name], f"{name}()")
            elif hasattr(builtins, name):
                problems.append(f"calls `{name}()`, which is not on the Python card")
        elif isinstance(node, ast.Attribute):
            if id(node) in helper_parents:
                note("chart", f"the course helper {node.value.id}.{node.attr}")
            elif isinstance(node.value, ast.Attribute) and id(node.value) in helper_parents:
                continue
            elif node.attr in card()["methods"]:
                note(card()["methods"][node.attr], f".{node.attr}")
            else:
                problems.append(f"uses `.{node.attr}`, which is not on the Python card (see "
                                "course/lesson_data/idioms.yaml): use a card idiom, or teach it first and "
                                "add it to the card")
        elif kind.__name__ in card()["nodes"]:
            note(card()["nodes"][kind.__name__], kind.__name__)
    problems = list(dict.fromkeys(problems))  # each problem once, in the order met
    for idiom, what in used.items():
        if taught_in(idiom) > lesson:
            problems.append(f"uses {what} (card: {idiom}), which is taught in {taught_in(idiom)}, after "
                            f"{lesson}: teach it in this lesson first (and move its `lesson:` on the card) "
                            "or solve it another way")
    return problems


def task_items() -> list[tuple[str, str]]:
    return [(lesson, key) for lesson in LESSONS for key in tasks(lesson)["exercises"]]


def lesson_helpers(lesson: str) -> set[str]:
    code = "\n".join(c.source for c in notebook(lesson).cells if c.cell_type == "code") \
        if (NOTEBOOKS / f"{lesson}.ipynb").exists() else ""
    return course_names(tasks(lesson).get("setup", "")) | course_names(code)


def task_problems(lesson: str, key: str) -> list[str]:
    return card_problems(tasks(lesson)["exercises"][key]["solution"], lesson, set(lesson_helpers(lesson)))


SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)
ASSIGNMENTS = sorted((ROOT / "exercises").glob("*/*.ipynb"))


def assignment_items() -> list[tuple[Path, str]]:
    items = []
    for path in ASSIGNMENTS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code" and SOLUTION.search(cell.source):
                items.append((path, cell.get("id", "?")))
    return items


def assignment_problems(path: Path, cell_id: str) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    helpers = course_names("\n".join(c.source for c in nb.cells if c.cell_type == "code"))
    cell = next(c for c in nb.cells if c.get("id") == cell_id)
    code = "\n".join(SOLUTION.findall(cell.source))
    return card_problems(code, path.parent.name, helpers)


def _task_param(lesson: str, key: str):
    marks = _xfail("1", lesson) if task_problems(lesson, key) else []
    return pytest.param(lesson, key, id=f"{lesson}-{key}", marks=marks)


def _assignment_param(path: Path, cell_id: str):
    where = f"exercises/{path.parent.name}"
    marks = _xfail("1", where) if assignment_problems(path, cell_id) else []
    return pytest.param(path, cell_id, id=f"{where}-{cell_id}", marks=marks)


@pytest.mark.parametrize(("lesson", "key"), [_task_param(*item) for item in task_items()])
def test_rule_1_task_solutions_use_only_the_card(lesson, key):
    problems = task_problems(lesson, key)
    assert not problems, (f"course/tasks/{lesson}.yaml, exercise {key}, field 'solution':\n  - "
                          + "\n  - ".join(problems))


@pytest.mark.parametrize(("path", "cell_id"), [_assignment_param(*item) for item in assignment_items()])
def test_rule_1_assignment_solutions_use_only_the_card(path, cell_id):
    problems = assignment_problems(path, cell_id)
    assert not problems, (f"{path.relative_to(ROOT)}, cell {cell_id} (between BEGIN and END SOLUTION):\n  - "
                          + "\n  - ".join(problems))


def test_rule_1_xfail_entries_still_fail():
    """A NOT_YET entry for rule 1 whose lesson now meets the rule is stale: delete it."""
    failing = {lesson for lesson, key in task_items() if task_problems(lesson, key)}
    failing |= {f"exercises/{p.parent.name}" for p, c in assignment_items() if assignment_problems(p, c)}
    stale = [where for rule, where in NOT_YET if rule == "1" and where not in failing]
    assert not stale, f"delete these rule-1 entries from NOT_YET in tests/test_learner_path.py: {stale}"


def test_rule_1_the_card_recognises_what_it_should():
    assert card_problems('t = load("timeline")\nn = len(t[t["category"] == "borders"])', "00_start_here", set()) == []
    assert any("`for` loop" in p for p in card_problems("for x in [1]:\n    y = x", "05_power", set()))
    assert any("`.pivot`" in p for p in card_problems('w = m.pivot(index="year", columns="iso3")', "05_power", set()))
    assert any("taught in 01_war_to_talks" in p for p in card_problems("d = (b - a).days", "00_start_here", set()))
    assert card_problems("fig = region_map(['baku'])", "00_start_here", {"region_map"}) == []


# --- rule 2: help fades ----------------------------------------------------------------------

def _normal(line: str) -> str:
    return " ".join(line.split())


LOADING = re.compile(r'^\w+ = [\w.]+\(("[^"]*")?\)$')  # `timeline = load("timeline")`: no step given away


def given_away(lesson: str) -> list[str]:
    """Lines of a reference solution shown before that exercise's check cell."""
    problems = []
    cells = notebook(lesson).cells
    setup = {_normal(x) for x in tasks(lesson).get("setup", "").splitlines()}
    for key, spec in tasks(lesson)["exercises"].items():
        check = next((i for i, c in enumerate(cells) if f"ex.{key}.check()" in c.source), None)
        if check is None:
            continue
        before = [(c.get("id"), _normal(c.source)) for c in cells[:check]]
        for line in spec["solution"].splitlines():
            line = _normal(line)
            if not line or line.startswith("#") or line in setup or LOADING.match(line):
                continue
            for cell_id, text in before:
                if line in text:
                    problems.append(f"exercise {key}: the solution line `{line}` appears in cell {cell_id}, "
                                    "before the check: move it into the exercise's hints")
                    break
    return problems


@pytest.mark.parametrize("lesson", [pytest.param(x, marks=_xfail("2", x)) for x in LESSONS])
def test_rule_2_help_fades(lesson):
    if number(lesson) < 2:
        pytest.skip("lessons 00–01 may give the steps")
    problems = given_away(lesson)
    assert not problems, f"notebooks/{lesson}.ipynb:\n  - " + "\n  - ".join(problems)


# --- rule 3: every exercise answers a question about the talks -------------------------------

@functools.cache
def computed(lesson: str, key: str):
    from course.checks.engine import load_exercises

    return getattr(load_exercises(lesson), key).expected


def _same_value(a, b) -> bool:
    import pandas as pd

    from course.checks import compare

    if type(a) is not type(b):
        return False
    if isinstance(a, (pd.DataFrame, pd.Series, list, tuple)):
        if len(a) == 0:
            return False
        try:
            return compare.auto(a, b) is None
        except Exception:
            return False
    if isinstance(a, float):  # two whole numbers can agree by chance; two ratios hardly
        return not float(a).is_integer() and math.isclose(a, b, rel_tol=1e-9)
    if isinstance(a, str):
        return a == b
    return False


def _normal_code(code: str) -> str:
    try:
        return ast.dump(ast.parse(code))
    except SyntaxError:
        return _normal(code)


def question_problems(lesson: str) -> list[str]:
    problems = []
    for key, spec in tasks(lesson)["exercises"].items():
        for field in ("question", "meaning"):
            if not str(spec.get(field, "")).strip():
                problems.append(f"course/tasks/{lesson}.yaml, exercise {key}: add `{field}:` "
                                + ("(the question about the talks it answers)" if field == "question"
                                   else "(what the right result tells the student about the talks)"))
        if not spec.get("idioms"):
            problems.append(f"course/tasks/{lesson}.yaml, exercise {key}: add `idioms:` (the Python-card ids "
                            "it needs; the first hint points the student to those lines)")
    mine = list(tasks(lesson)["exercises"])
    for key in mine:
        for other_lesson, other_key in task_items():
            if (other_lesson, other_key) >= (lesson, key) or other_lesson > lesson:
                continue
            a, b = tasks(lesson)["exercises"][key], tasks(other_lesson)["exercises"][other_key]
            same_code = _normal_code(a["solution"]) == _normal_code(b["solution"])
            try:
                same_value = _same_value(computed(lesson, key), computed(other_lesson, other_key))
            except Exception as err:  # a solution that does not run is its own failure elsewhere
                problems.append(f"course/tasks/{lesson}.yaml, exercise {key}: the solution fails: {err}")
                break
            if same_code or same_value:
                problems.append(f"course/tasks/{lesson}.yaml, exercise {key} computes the same "
                                f"{'code' if same_code else 'value'} as {other_lesson} {other_key}: "
                                "give it a different question")
    return problems


@pytest.mark.parametrize("lesson", [pytest.param(x, marks=_xfail("3", x)) for x in LESSONS])
def test_rule_3_every_exercise_answers_a_question(lesson):
    problems = question_problems(lesson)
    assert not problems, "\n  - ".join(["", *problems])


# --- rule 4: reading load fits the time ------------------------------------------------------

def claim_ids_in_running_text(lesson: str) -> list[str]:
    found = []
    in_sources_part = False
    for cell in notebook(lesson).cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if re.match(r"#+\s*(Further reading|Sources)\b", line.strip()):
                in_sources_part = True
            elif re.match(r"#+\s", line.strip()):
                in_sources_part = False
            if in_sources_part or line.strip().startswith(SOURCES_LINE):
                continue
            for ref in CLAIM_REF.findall(line):
                if ref.split(".")[1] not in FILE_SUFFIXES:
                    found.append(f"cell {cell.get('id')}: `{ref}`")
    return found


def reading_problems(lesson: str) -> list[str]:
    problems = []
    n_words = words(lesson)
    if n_words > 1500:
        problems.append(f"{n_words} words of prose (at most 1,500; aim for 1,200): cut or split the lesson")
    stated = stated_time(lesson)
    est = estimate(lesson)
    if stated is None:
        problems.append("the first cell does not state the time as `*About 30–45 minutes*`")
    elif not stated[0] <= est <= stated[1]:
        problems.append(f"the first cell states {stated[0]}–{stated[1]} minutes, but the estimate is "
                        f"{est:.0f} ({n_words} words / 150 + 1.5 × {len(bank(lesson))} questions + 4 × "
                        f"{len(tasks(lesson)['exercises'])} exercises): state a range that contains it, or trim")
    claims = claim_ids_in_running_text(lesson)
    if claims:
        problems.append(f"{len(claims)} claim id(s) in the running text (move them to the section's "
                        f"`{SOURCES_LINE}` line): " + ", ".join(claims[:8]) + (" …" if len(claims) > 8 else ""))
    return problems


@pytest.mark.parametrize("lesson", [pytest.param(x, marks=_xfail("4", x)) for x in LESSONS])
def test_rule_4_reading_load_fits_the_time(lesson):
    problems = reading_problems(lesson)
    assert not problems, f"notebooks/{lesson}.ipynb:\n  - " + "\n  - ".join(problems)


# --- rule 5: quizzes test understanding ------------------------------------------------------

def data_value_problems(lesson: str, q: dict) -> list[str]:
    from course import load

    where = f"question {q['id']}"
    spec = q.get("data_value")
    if not spec:
        return [f"{where}: a numeric question on a data set needs `data_value` (code that recomputes the "
                "answer for its own setting and the neighbouring ones)"]
    problems = []
    for setting in [spec["own"], *spec["others"]]:
        namespace = {"load": load, spec["name"]: setting}
        try:
            exec(spec["code"], namespace)  # bank content, trusted like a task's solution
            value = float(namespace["value"])
        except Exception as err:
            problems.append(f"{where}, data_value with {spec['name']} = {setting!r}: the code fails "
                            f"({type(err).__name__}: {err}); it must set `value`")
            continue
        inside = abs(value - q["answer"]) <= q["tolerance"]
        if setting == spec["own"] and not inside:
            problems.append(f"{where}: the data give {value:.4g} for {spec['name']} = {setting!r}, outside "
                            f"answer {q['answer']} ± {q['tolerance']}: fix the answer")
        elif setting != spec["own"] and inside:
            problems.append(f"{where}: the tolerance ± {q['tolerance']} also accepts {value:.4g}, the value "
                            f"for {spec['name']} = {setting!r}: narrow it")
    return problems


def quiz_problems(lesson: str) -> list[str]:
    questions = bank(lesson)
    if not questions:
        return [f"course/banks/{lesson}.yaml: missing"]
    problems = []
    for q in questions:
        missing = [f for f in ("level", "objective") if f not in q]
        if missing:
            problems.append(f"question {q['id']}: add " + " and ".join(f"`{f}:`" for f in missing))
    levels = [q.get("level") for q in questions]
    if levels.count("remember") > 0.3 * len(questions):
        problems.append(f"{levels.count('remember')} of {len(questions)} questions are `remember` (at most 30 %): "
                        "turn some into understand/apply/analyse questions")
    orderings = [q["id"] for q in questions if q["kind"] == "ordering"]
    if len(orderings) > 1:
        problems.append(f"{len(orderings)} ordering questions ({', '.join(orderings)}); at most one")
    if number(lesson) >= 1:
        n_transfer = sum(bool(q.get("transfer")) for q in questions)
        if n_transfer < 2:
            problems.append(f"{n_transfer} transfer item(s) (`transfer: true`); at least two on material "
                            "not in the lesson")
    for q in questions:
        if q["kind"] == "numeric" and any(s.startswith("data:") for s in as_list(q["source"])):
            problems += data_value_problems(lesson, q)
    return problems


@pytest.mark.parametrize("lesson", [pytest.param(x, marks=_xfail("5", x)) for x in LESSONS])
def test_rule_5_quizzes_test_understanding(lesson):
    problems = quiz_problems(lesson)
    assert not problems, f"course/banks/{lesson}.yaml:\n  - " + "\n  - ".join(problems)


# --- rule 6: every objective is assessed -----------------------------------------------------

VISUAL = re.compile(r"\b(map|chart)s?\b", re.I)


def objective_problems(lesson: str) -> list[str]:
    stated = objectives(lesson)
    if not stated:
        return [f"notebooks/{lesson}.ipynb, first cell: list the objectives as `- **O1** …` lines"]
    named: dict[str, list[str]] = {}
    for q in bank(lesson):
        for o in as_list(q.get("objective")):
            named.setdefault(o, []).append(f"course/banks/{lesson}.yaml, question {q['id']}")
    for key, spec in tasks(lesson)["exercises"].items():
        for o in as_list(spec.get("objective")):
            named.setdefault(o, []).append(f"course/tasks/{lesson}.yaml, exercise {key}")
    problems = [f"objective {o} ({stated[o][:60]}…) is assessed by nothing: give it a question or task"
                for o in stated if o not in named]
    problems += [f"course/tasks/{lesson}.yaml, exercise {key}: add `objective:` (the objective it assesses)"
                 for key, spec in tasks(lesson)["exercises"].items() if not spec.get("objective")]
    problems += [f"course/banks/{lesson}.yaml, question {q['id']}: add `objective:`"
                 for q in bank(lesson) if not q.get("objective")]
    for o, text in stated.items():  # an objective about a map or chart: a question on that map or chart
        if VISUAL.search(text) and not any(VISUAL.search(q["prompt"]) and o in as_list(q.get("objective"))
                                           for q in bank(lesson)):
            problems.append(f"objective {o} is about a map or chart: assess it with a question whose prompt "
                            "refers to that map or chart")
    problems += [f"{where} names objective {o}, which the first cell does not list"
                 for o, wheres in named.items() if o not in stated for where in wheres]
    return problems


@pytest.mark.parametrize("lesson", [pytest.param(x, marks=_xfail("6", x)) for x in LESSONS])
def test_rule_6_every_objective_is_assessed(lesson):
    problems = objective_problems(lesson)
    assert not problems, f"notebooks/{lesson}.ipynb:\n  - " + "\n  - ".join(problems)


# --- rule 7: "What's next" and the glossary --------------------------------------------------

def ending_and_glossary_problems(lesson: str) -> list[str]:
    problems = []
    last = notebook(lesson).cells[-1]
    later = [x for x in LESSONS if x > lesson]
    if not (last.cell_type == "markdown" and last.source.lstrip().startswith("## What's next")):
        problems.append("the last cell must be a Markdown cell starting `## What's next`")
    elif later and f"]({later[0]}.ipynb)" not in last.source:
        problems.append(f"the `## What's next` cell must link the next lesson: []({later[0]}.ipynb)")
    markdown = "\n".join(c.source for c in notebook(lesson).cells if c.cell_type == "markdown")
    for entry in learner_path.terms():
        if entry["first_lesson"] != lesson:
            continue
        link = f"](glossary.md#{entry['anchor']})"
        mention = re.search(r"\b" + re.escape(entry["term"]), markdown, re.I)
        if link not in markdown:
            problems.append(f"the glossary says `{entry['term']}` first appears here: link its first mention, "
                            f"[{entry['term']}](glossary.md#{entry['anchor']})")
        elif mention:
            linked = re.search(r"\[[^\]]*\]\(glossary\.md#" + re.escape(entry["anchor"]) + r"\)", markdown)
            if mention.start() < linked.start():
                problems.append(f"`{entry['term']}` is mentioned before its glossary link: link the first mention")
    return problems


@pytest.mark.parametrize("lesson", [pytest.param(x, marks=_xfail("7", x)) for x in LESSONS])
def test_rule_7_whats_next_and_glossary_links(lesson):
    problems = ending_and_glossary_problems(lesson)
    assert not problems, f"notebooks/{lesson}.ipynb:\n  - " + "\n  - ".join(problems)


def test_rule_7_glossary_md_is_current():
    current = learner_path.GLOSSARY_MD.read_text(encoding="utf-8") if learner_path.GLOSSARY_MD.exists() else ""
    assert current == learner_path.glossary_markdown(), \
        "notebooks/glossary.md is stale: run `python -m course glossary --write`"


def test_rule_7_glossary_anchors_are_heading_links():
    text = learner_path.GLOSSARY_MD.read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, re.M)
    for entry in learner_path.terms():
        assert entry["term"] in headings
        # JupyterLab keeps case and punctuation and turns spaces into hyphens; GitHub lower-cases and
        # drops punctuation: for lower-case words both give the anchor
        assert entry["term"].replace(" ", "-") == entry["anchor"]
        assert re.sub(r"[^\w\- ]", "", entry["term"].lower()).replace(" ", "-") == entry["anchor"]


def test_glossary_and_card_show_as_tables():
    from course import glossary, python_card

    card_table = python_card()
    assert list(card_table.index) == list(learner_path.idioms())
    assert "keep the rows that match" in set(card_table["what it does"])
    assert len(glossary()) == len(learner_path.terms())
    assert glossary("delimitation").index[0] == "delimitation"
    with pytest.raises(KeyError, match="no term"):
        glossary("no such term")


def test_every_task_names_card_idioms_and_objectives_that_exist():
    """Where a task names `idioms:` they are card ids (the engine validates; this reads every file)."""
    from course.checks.engine import load_exercises

    for lesson in LESSONS:
        if (TASKS_DIR / f"{lesson}.yaml").exists():
            for ex in load_exercises(lesson):
                assert set(ex.spec.get("idioms", [])) <= set(learner_path.idioms())


def test_the_glossary_verb_checks_and_prints(capsys):
    from course import cli

    assert cli.main(["glossary", "--check"]) == 0, \
        "notebooks/glossary.md is stale: run `python -m course glossary --write`"
    assert cli.main(["glossary"]) == 0
    assert "## delimitation" in capsys.readouterr().out
