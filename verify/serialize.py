"""Self-contained JSON for instances and evidence: arrays exactly, floats exactly.

Python's ``repr`` of a float64 round-trips, so JSON numbers written by ``json`` reproduce
the same bits; non-finite floats are written as strings ("inf", "-inf", "nan").
"""

from __future__ import annotations

import json
import math
import platform
from typing import Any

import numpy as np
import torch


def encode(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        obj = obj.detach().cpu().numpy()
    if isinstance(obj, np.ndarray):
        return {"__ndarray__": [encode(float(v)) for v in obj.astype(np.float64).ravel()], "shape": list(obj.shape)}
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else {"__float__": repr(f)}
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, dict):
        return {str(k): encode(v) for k, v in obj.items()}
    if hasattr(obj, "to_dict") and callable(obj.to_dict):  # typed records (theory.instances, ...)
        return encode(obj.to_dict())
    if isinstance(obj, (list, tuple)):
        return [encode(v) for v in obj]
    if obj is None or isinstance(obj, str):
        return obj
    return repr(obj)


def decode(obj: Any) -> Any:
    if isinstance(obj, dict):
        if "__ndarray__" in obj:
            flat = [decode(v) for v in obj["__ndarray__"]]
            return np.asarray(flat, dtype=np.float64).reshape(obj["shape"])
        if "__float__" in obj:
            return float(obj["__float__"])
        return {k: decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [decode(v) for v in obj]
    return obj


def dumps(obj: Any) -> str:
    return json.dumps(encode(obj), indent=1, allow_nan=False)


def versions() -> dict[str, str]:
    import hypothesis
    import scipy
    import sympy

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "torch": torch.__version__,
        "hypothesis": hypothesis.__version__,
        "sympy": sympy.__version__,
    }
