"""Edit the facial expression in a photo: faces -> aligned crops -> z -> blended photo."""

import os

# With the default (active) OpenMP wait policy, PyTorch's threads spin while
# idle; on a busy 2-core machine that made inversion 5-27x slower (measured:
# 2.6-12.9 s per face instead of 0.47 s). It must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
