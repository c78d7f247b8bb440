"""Instructor grading on nbgrader: `course grade VERB ...` (see exercises/README.md).

Built on nbgrader's own converters, preprocessors, plugins and gradebook. The modules each do
one job:

- `config`    find the course folder and load its nbgrader_config.py
- `limits`    start a kernel under memory and file-size limits
- `zygote`    fork kernels from a process with ipykernel and pandas imported (Linux; fast starts)
- `execute`   run a submission: per-cell and per-notebook time limits, own working directory,
              a dead or stuck kernel recorded instead of crashing the batch
- `restore`   put back deleted or metadata-stripped test cells; report only real edits
- `feedback`  keep hidden tests (and their tracebacks) out of student feedback
- `autograde` grade one student's submission and say what happened (its status)
- `workers`   run many submissions side by side, with a watchdog
- `status`    the per-submission status records and fingerprints (idempotent reruns)
- `export`    the CSV gradebook: per-question scores, status, reason, totals
- `samples`   sample submissions for tests and rehearsals
- `cli`       the `course grade` verbs

Nothing here is imported by the student-facing package.
"""
