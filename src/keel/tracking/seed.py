"""``keel.seed(n)``: one call seeds every random generator a training script uses, and
records the seed on the active run.

It seeds Python's ``random``, NumPy's legacy global generator (``np.random.seed``, which
scikit-learn uses when ``random_state`` is None), and PyTorch (CPU and CUDA) when PyTorch is
imported, and sets ``PYTHONHASHSEED`` for the processes the script starts. The run gets the
tag ``keel.seed``; a run without it is one whose randomness ``keel reproduce`` cannot vouch
for, and its report says so.
"""

from __future__ import annotations

import os
import random
import sys

from keel.core.errors import InvalidInput

SEED_TAG = "keel.seed"


def seed(n: int) -> int:
    """Seed ``random``, NumPy and PyTorch (when imported) with ``n``; record it on the run."""
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n < 2**32:
        raise InvalidInput(f"keel.seed takes a whole number from 0 to 2**32 - 1, not {n!r}.")
    random.seed(n)
    os.environ["PYTHONHASHSEED"] = str(n)
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a dependency
        pass
    else:
        np.random.seed(n)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(n)
    from keel.tracking.fluent import active_run

    run = active_run()
    if run is not None:
        run.set_tag(SEED_TAG, n)
    return n
