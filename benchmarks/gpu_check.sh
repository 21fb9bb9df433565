#!/usr/bin/env bash
# The prepared GPU check (issue: scale): run it as soon as a machine with a CUDA GPU is at hand.
# Budget: under 8 minutes on one H100/H200. Writes at most 8 files under ${OUT:-gpu-check-out}
# (the lent machines return no more): log.txt (everything printed), gpu_bench.json/.md,
# flow_bench.json and each scale run's results.json as <first claim>.json.
#   1. the GPU tests (CPU and GPU agree: equilibrium, Gram, gradient, device-aware claims) and the
#      integrator's and trainer's tests on the GPU machine
#   2. the Gram and equilibrium on the GPU against the CPU and torchdeq, up to n = 1024, m = 65536
#   3. one gradient flow of the training sweep per width, m = 1024..16384 (time, peak memory)
#   4. the scale profile's kernel rate claims: KG-3 and NG-1 over m = 128..65536
#   5. (not by default: about 6 minutes on its own) the scale profile's training sweep, one coupled
#      sweep that TD-3.rate, TD-5 and TD-6 share (14 seeds, m = 1024..16384; one flow there takes
#      3-8 s on an H200)
# Each step is bounded by `timeout`, so a slow step cannot eat the next one's time; STEPS="1 5"
# runs some of them (a second lease need not repeat what the first measured).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-gpu-check-out}"
RUNS="${RUNS:-/tmp/gpu-check-runs}"
mkdir -p "$OUT" "$RUNS"
exec > >(tee "$OUT/log.txt") 2>&1
PY="${PYTHON:-python3}"
# the lent machines' image has torch (CUDA), numpy, scipy, hypothesis, sympy, rich, pytest and
# matplotlib, and no network: the project runs from this checkout, uninstalled (torchdeq, for
# step 2's comparison, travels as a wheel in .whl when present)
if ls .whl/*.whl >/dev/null 2>&1; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export VERIFY_THREADS="${VERIFY_THREADS:-4}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0))"
STEPS="${STEPS:-1 2 3 4}"
step() { echo "== $1 ($(date +%T))"; }
want() { [[ " $STEPS " == *" $1 "* ]]; }
if want 1; then
    step "1. GPU tests"
    timeout 90 "$PY" -m pytest -q -p no:cacheprovider -o addopts="" tests/test_device.py tests/test_integrate.py tests/test_trainer.py 2>&1 | tail -15
fi
if want 2; then
    step "2. Gram / equilibrium benchmark"
    timeout 150 "$PY" benchmarks/gpu_bench.py --device cuda --out "$OUT"
fi
if want 3; then
    step "3. one training flow per width"
    timeout 80 "$PY" benchmarks/flow_bench.py --device cuda --widths 1024 4096 16384 --out "$OUT"
fi
scale() {  # seconds, claims...
    local seconds="$1"; shift
    step "4. scale profile: $*"
    timeout "$seconds" "$PY" -m verify run "$@" --profile scale --device cuda --out "$RUNS/$1" --overwrite
    # cut by its timeout: what it measured comes back (run --resume on it to finish)
    cp "$RUNS/$1/results.json" "$OUT/$1.json" 2>/dev/null || cp "$RUNS/$1/measures.jsonl" "$OUT/$1.measures.jsonl" 2>/dev/null
}
if want 4; then
    scale 150 KG-3
    scale 90 NG-1
fi
if want 5; then
    scale 480 TD-3.rate TD-5 TD-6
fi
step "done: $OUT"
