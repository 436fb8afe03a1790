# Sourced by the scripts that run Python (`. tools/hf-python.sh`): sets PY to $TOKENTUNE_HF_PYTHON, the
# one way this repository finds its Python with transformers 5 / torch 2.x, or stops the script with one line.
# (bash ../shared/bench/hf-env.sh builds such a venv offline and prints its python.)
if [ -z "${TOKENTUNE_HF_PYTHON:-}" ]; then
  echo "TOKENTUNE_HF_PYTHON is not set: point it at a Python with transformers 5 and torch 2.x (bash ../shared/bench/hf-env.sh prints one)" >&2
  exit 1
fi
if [ ! -x "$TOKENTUNE_HF_PYTHON" ]; then
  echo "TOKENTUNE_HF_PYTHON=$TOKENTUNE_HF_PYTHON: no such executable" >&2
  exit 1
fi
PY=$TOKENTUNE_HF_PYTHON
