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
# The install is editable (code changes need no reinstall): it is done again only
# when pyproject.toml or the extras asked for changed since the last one.
stamp=.venv/.quotaflow-installed
wanted="$spec $(.venv/bin/python -c 'import hashlib,sys; print(hashlib.sha256(open("pyproject.toml","rb").read()).hexdigest())')"
had=$(cat "$stamp" 2>/dev/null || true)
# An install with the dev tools serves a plain run too.
if [ "$had" = "$wanted" ] || { [ "$spec" = "." ] && [ "$had" = ".[dev] ${wanted#. }" ]; }; then
    echo "QuotaFlow ($spec) is installed in .venv and pyproject.toml is unchanged"
else
    echo "installing QuotaFlow ($spec) into .venv ..."
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
    echo "$wanted" > "$stamp"
fi
