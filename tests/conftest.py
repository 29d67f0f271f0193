import os
from pathlib import Path

import pytest

_MIRROR = Path(__file__).resolve().parents[1].parent / "shared" / "data"
if "CROSSSCALE_MIRROR" not in os.environ and (_MIRROR / "SOURCES.md").exists():
    os.environ["CROSSSCALE_MIRROR"] = str(_MIRROR)


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
