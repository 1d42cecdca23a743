# Sourced by run.sh and test.sh: make ./.venv with QuotaFlow installed in it.
python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "QuotaFlow needs Python 3.11 or newer as '$python' (set PYTHON=...)." >&2
    exit 2
fi
if [ ! -x .venv/bin/python ]; then
    echo "creating .venv ..."
    "$python" -m venv .venv
fi
spec="."
[ -n "${QUOTAFLOW_EXTRAS:-}" ] && spec=".[${QUOTAFLOW_EXTRAS}]"
echo "installing QuotaFlow ($spec) into .venv ..."
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
