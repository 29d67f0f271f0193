"""What the fork server of ``tests/fresh_process.py`` imports before it forks any user code."""

import os

os.environ["OMP_NUM_THREADS"] = "1"  # as the tests' environment: read by OpenBLAS and torch on load

import numpy  # noqa: E402, F401
import pandas  # noqa: E402, F401
import scipy.stats  # noqa: E402, F401
import sklearn.base  # noqa: E402, F401
import torch  # noqa: E402, F401
import torch._dynamo  # noqa: E402, F401  (torch.optim imports it on the first optimiser: ~1.5 s)
