#!/usr/bin/env bash
# The prepared GPU check (issue: scale): run it as soon as a machine with a CUDA GPU is at hand.
# Budget: under 8 minutes on one H100/H200. Writes everything under ${OUT:-gpu-check-out}.
#   1. the GPU tests (CPU and GPU agree: equilibrium, Gram, gradient, device-aware claims)
#   2. the Gram and equilibrium on the GPU against the CPU and torchdeq, up to n = 1024, m = 65536
#   3. the scale profile's slowest rate claims: KG-3 over m = 128..65536, then NG-1 (each bounded)
# Each step is bounded by `timeout`, so a slow step cannot eat the next one's time.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-gpu-check-out}"
mkdir -p "$OUT"
PY="${PYTHON:-python3}"
# the lent machines' image has torch (CUDA), numpy, scipy, hypothesis, sympy, rich, pytest and
# matplotlib, and no network: the project runs from this checkout, uninstalled
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv | tee "$OUT/gpu.txt"
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0))" | tee -a "$OUT/gpu.txt"
export VERIFY_THREADS="${VERIFY_THREADS:-4}"
echo "== 1. GPU tests"
timeout 120 "$PY" -m pytest -q -p no:cacheprovider tests/test_device.py 2>&1 | tail -5 | tee "$OUT/tests.txt"
echo "== 2. Gram / equilibrium benchmark"
timeout 150 "$PY" benchmarks/gpu_bench.py --device cuda --out "$OUT" 2>&1 | tail -8
echo "== 3. scale profile: KG-3 (m = 128..65536), NG-1"
timeout 150 "$PY" -m verify run KG-3 --profile scale --device cuda --out "$OUT/scale-KG-3" --overwrite 2>&1 | grep -E "KG-3|checks in" | tee "$OUT/scale.txt"
timeout 90 "$PY" -m verify run NG-1 --profile scale --device cuda --out "$OUT/scale-NG-1" --overwrite 2>&1 | grep -E "NG-1|checks in" | tee -a "$OUT/scale.txt"
echo "done: $OUT"
