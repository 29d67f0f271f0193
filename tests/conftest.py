import os
from pathlib import Path

import pytest
from synthetic_data import Synthetic, make_synthetic

_MIRROR = Path(__file__).resolve().parents[1].parent / "shared" / "data"
if "CROSSSCALE_MIRROR" not in os.environ and (_MIRROR / "SOURCES.md").exists():
    os.environ["CROSSSCALE_MIRROR"] = str(_MIRROR)


# The longest tests (fresh interpreters running README blocks, gallery scripts, a wheel install)
# start first, so that with `pytest -n 2` (make test) the other worker takes the short ones
# meanwhile instead of one worker finishing them alone at the end.
_FIRST = ("tests/test_readme.py", "tests/test_examples.py", "tests/test_wheel.py")


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: not item.nodeid.startswith(_FIRST))  # stable: order kept otherwise


@pytest.fixture(scope="session")
def synthetic() -> Synthetic:
    """The 20-region synthetic data set of :func:`make_synthetic` (seed 0)."""
    return make_synthetic(0)


@pytest.fixture(scope="session")
def surface_graph():
    from crossscale.atlas import RegionGraph

    return RegionGraph.from_surface()


@pytest.fixture(scope="session")
def ad_map():
    from crossscale.maps import load_adni_map

    return load_adni_map("AD", "baseline")


@pytest.fixture(scope="session")
def landmark_expression():
    from crossscale.transcriptomics import load_default_expression

    return load_default_expression()[0]


def _snapshot(root):
    """Every file (bytes) and folder (None) under `root`, hidden ones included."""
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for d in dirs:
            out[os.path.relpath(os.path.join(dirpath, d), root)] = None
        for f in files:
            p = os.path.join(dirpath, f)
            # a named pipe or device is recorded, not read (reading a FIFO blocks)
            out[os.path.relpath(p, root)] = Path(p).read_bytes() if os.path.isfile(p) else "special"
    return out


@pytest.fixture
def snapshot():
    """``snapshot(folder)``: all bytes under a folder, to assert nothing was written or deleted."""
    return _snapshot
