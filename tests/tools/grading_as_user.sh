#!/bin/sh
# Run the grading tests as an unprivileged user: the path every instructor who is not root takes
# (bubblewrap in a user namespace, kernels started from scratch rather than forked from a
# preloaded starter). CI and most containers run as root, so the README's test command never
# takes this path. Run from the checkout, as root (to switch user):
#
#     sh tests/tools/grading_as_user.sh            # as `nobody`, every grading test
#     sh tests/tools/grading_as_user.sh nobody tests/grading/test_sandbox_attacks.py
#
# The user must be able to read the checkout and the venv's Python (and the folders above them).
set -eu
user=${1:-nobody}
[ $# -gt 0 ] && shift
tests=${*:-tests/grading}
if [ "$(id -u)" != 0 ]; then
    echo "grading_as_user.sh: run it as root, to switch to the unprivileged user" >&2
    exit 2
fi
if ! su -s /bin/sh "$user" -c "test -x .venv/bin/python && .venv/bin/python -c pass" 2>/dev/null; then
    echo "grading_as_user.sh: $user cannot run .venv/bin/python here: make the checkout and its Python readable" >&2
    exit 2
fi
home=$(mktemp -d)
chown "$user" "$home"
trap 'rm -rf "$home"' EXIT
# a home of its own (Jupyter writes its runtime files there); no bytecode written into the checkout
su -s /bin/sh "$user" -c "HOME='$home' PYTHONDONTWRITEBYTECODE=1 .venv/bin/python -m pytest -q -p no:cacheprovider -rs $tests"
