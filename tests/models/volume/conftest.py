import numpy as np
import pandas as pd
import pytest

from crossscale.spatial import Grid, StainStack, bin_transcripts
from crossscale.spatial.vizgen import SpatialSample


def make_sample(hg=16, wg=24, n_genes=5, seed=0, n_planes=2):
    """A small synthetic sample: transcripts at random places, stains that follow them."""
    rng = np.random.default_rng(seed)
    n = 4000
    grid = Grid(0.0, 0.0, 2.0, (hg, wg))
    table = pd.DataFrame({
        "global_x": rng.uniform(0, wg * 2.0, n),
        "global_y": rng.uniform(0, hg * 2.0, n),
        "gene": rng.choice([f"G{i}" for i in range(n_genes)] + ["Blank-1"], n),
        "global_z": rng.integers(0, n_planes, n),
    })
    genes = bin_transcripts(table, grid)
    dens = np.log1p(np.asarray(genes.counts).sum(0)).astype(np.float32)  # (P, hg, wg)
    up = np.kron(dens, np.ones((2, 2), np.float32))
    up = up / up.max() * 2 - 1
    stains = np.stack([up, -up]).astype(np.float32)
    return SpatialSample(genes, StainStack(stains, ("dapi", "polyT"), tuple(range(n_planes)), grid.coarsen(1), 1), 2)


@pytest.fixture(scope="session")
def tiny_sample():
    return make_sample()


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    """Tiny models run fastest on one thread (and do not fight other jobs for cores)."""
    torch = pytest.importorskip("torch")
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="session")
def tiny_model(tiny_sample):
    from crossscale.models.volume import VolumeDiffusion

    return VolumeDiffusion(channels=(4, 8), gene_dim=4, attn_dim=8, window=16, batch_size=4,
                           max_iter=3, num_inference_steps=3, holdout_fraction=0.25,
                           device="cpu").fit(tiny_sample)


@pytest.fixture(scope="session")
def sample_factory():
    return make_sample
