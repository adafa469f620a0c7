#!/usr/bin/env bash
# Create the reference environment for the chainrule benchmarks in benchmarks/.venv.
#
# Installs NumPy, a CPU-only PyTorch of an exact version, TensorFlow (CPU build) with Keras 3,
# psutil, and chainrule itself in editable mode with its optional "fast" extra (Numba). Run from anywhere:
#
#     bash benchmarks/setup.sh            # create or update benchmarks/.venv
#     bash benchmarks/setup.sh --fresh    # delete benchmarks/.venv first
#
# Environment variables:
#     PYTHON           interpreter used to create the venv (default: python3, 3.11 expected)
#     TORCH_VERSION    exact PyTorch version (default: 2.13.0)
#     TORCH_INDEX_URL  extra index for the CPU wheel when the default indexes only carry CUDA
#                      builds (for example https://download.pytorch.org/whl/cpu)
#
# The reference frameworks are only ever installed here, never by the test suite.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
venv="$here/.venv"
python="${PYTHON:-python3}"
torch_version="${TORCH_VERSION:-2.13.0}"

if [[ "${1:-}" == "--fresh" ]]; then
    rm -rf "$venv"
fi

start=$(date +%s)
if [[ ! -x "$venv/bin/python" ]]; then
    echo "==> creating $venv with $("$python" --version)"
    "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip)
"${pip[@]}" install --upgrade pip wheel

# PyTorch first, pinned exactly. A CPU wheel carries a "+cpu" local version, which pip ranks above
# the plain release, so "torch==X" picks it whenever an index or find-links offers one. The
# constraints file then stops any later install from replacing it (a CUDA build pulls several GB).
extra=()
if [[ -n "${TORCH_INDEX_URL:-}" ]]; then
    extra=(--extra-index-url "$TORCH_INDEX_URL")
fi
echo "==> installing torch==$torch_version"
"${pip[@]}" install "torch==$torch_version" "${extra[@]}"
installed_torch="$("$venv/bin/python" -c 'import torch; print(torch.__version__)')"
constraints="$(mktemp)"
trap 'rm -f "$constraints"' EXIT
echo "torch==$installed_torch" > "$constraints"

# TensorFlow: the CPU-only build when one exists for this Python, else the full package.
echo "==> installing numpy, tensorflow-cpu, keras, psutil"
if ! "${pip[@]}" install -c "$constraints" numpy tensorflow-cpu keras psutil; then
    echo "==> tensorflow-cpu unavailable for this Python; falling back to tensorflow"
    "${pip[@]}" install -c "$constraints" numpy tensorflow keras psutil
fi

echo "==> installing chainrule (editable, with its 'fast' extra: Numba) from $root"
"${pip[@]}" install -c "$constraints" -e "$root[fast]"

echo "==> checking the environment"
"$venv/bin/python" - <<'PY'
import os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy, psutil, torch, tensorflow as tf, keras
assert keras.__version__.startswith("3"), f"Keras 3 expected, got {keras.__version__}"
assert keras.backend.backend() == "tensorflow", keras.backend.backend()
if torch.version.cuda is not None:
    print(f"warning: torch {torch.__version__} is a CUDA build; the benchmark only uses the CPU")
print(f"python {'.'.join(map(str, __import__('sys').version_info[:3]))}")
print(f"numpy {numpy.__version__}  torch {torch.__version__}  tensorflow {tf.__version__}  "
      f"keras {keras.__version__}  psutil {psutil.__version__}")
try:
    import chainrule
    print(f"chainrule {getattr(chainrule, '__version__', '(no __version__)')}")
except Exception as exc:  # the package is under construction; the venv is still usable
    print(f"warning: chainrule does not import yet: {exc!r}")
PY
echo "==> done in $(( $(date +%s) - start )) s; activate with: source benchmarks/.venv/bin/activate"
