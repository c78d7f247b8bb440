"""Instructor grading on nbgrader: `course grade VERB ...` (see exercises/README.md).

Built on nbgrader's own converters, preprocessors, plugins and gradebook. The modules each do
one job:

- `config`    find the course folder and load its nbgrader_config.py
- `sandbox`   run each student's kernel in a bubblewrap sandbox of its own (Linux)
- `values`    carry the values a test reads out of the sandbox as JSON (never pickle)
- `judge`     run the tests in a separate process that never ran student code
- `limits`    start a kernel under memory, file-size and process limits
- `zygote`    fork kernels from a process with ipykernel, pandas and the data imported (Linux; fast
              starts), inside the sandbox when grading as root
- `execute`   run a submission: in the sandbox, tests judged outside it, per-cell and per-notebook
              time limits, output caps, a dead or stuck kernel recorded instead of crashing the batch
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
