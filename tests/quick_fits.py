"""Shorter GraphVAE training for the tests that run user code in a fresh interpreter.

``tests/test_readme.py`` and ``tests/test_examples.py`` run every README block and gallery script
as written, in a new Python process. What they test is that the code runs and prints and saves
what its text says, not the numbers of a full fit (those are the benchmarks' business:
``benchmarks/results/fit.md``); so before the user's code, :data:`PREAMBLE` lowers GraphVAE's
default number of epochs from 100 to :data:`EPOCHS`, its ensemble from 3 networks to 1 and the
inner cross-validation of the default blend (``shrinkage="stack"``) from 10 to
:data:`STACK_FOLDS` folds (the inner CV still runs and chooses the blend). Every other default,
every call and every code path (stacked null refits, shrinkage blend, reports) is the user's. Without it the README
blocks alone took ~10 minutes of ``make test`` (the Schaefer-200 block fits GraphVAE 50 x 10
times for its spin null refits).
"""

EPOCHS = 5
STACK_FOLDS = 3

PREAMBLE = f"""\
from crossscale.models.graphvae import GraphVAE as _GraphVAE  # tests/quick_fits.py
_GraphVAE.__init__.__kwdefaults__["max_epochs"] = {EPOCHS}
_GraphVAE.__init__.__kwdefaults__["n_ensemble"] = 1
import crossscale.models.graphvae._shrink as _shrink
_shrink.STACK_FOLDS = {STACK_FOLDS}
del _GraphVAE, _shrink
"""
