"""The preamble of the README and gallery tests shortens GraphVAE training (epochs, one network, inner folds) and nothing else."""

import subprocess
import sys

import pytest
from quick_fits import EPOCHS, PREAMBLE, STACK_FOLDS


@pytest.mark.slow  # a fresh interpreter importing torch: ~3 s
def test_preamble_changes_only_the_default_epochs_ensemble_and_inner_folds():
    code = PREAMBLE + (
        "import inspect\n"
        "from crossscale.models.graphvae import GraphVAE\n"
        "from crossscale.models import registry\n"
        "print(GraphVAE().max_epochs, GraphVAE(max_epochs=7).max_epochs,"
        " registry.get('graphvae').create().max_epochs, GraphVAE().n_ensemble, GraphVAE().shrinkage)\n"
        "print(sorted(GraphVAE().get_params().items()) == sorted("
        "(k, p.default) for k, p in inspect.signature(GraphVAE).parameters.items()))\n"
        "import crossscale.models.graphvae._shrink as s\n"
        "print(s.STACK_FOLDS, s.INNER_FOLDS)\n"
        "print(sorted(globals()))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.splitlines()  # fmt: skip
    assert out[0] == f"{EPOCHS} 7 {EPOCHS} 1 stack"
    assert out[1] == "True"
    assert out[2] == f"{STACK_FOLDS} 5"  # the "auto"/"scaled" blocks keep their default
    assert "_GraphVAE" not in out[3] and "_shrink" not in out[3]  # the user's namespace is left clean
