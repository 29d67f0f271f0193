import json

import numpy as np
import pytest
from typer.testing import CliRunner

pytest.importorskip("monai")
pytest.importorskip("ome_zarr")
pytest.importorskip("skimage")

from crossscale.cli.main import app  # noqa: E402

runner = CliRunner()


@pytest.fixture(scope="module")
def one_thread():
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.mark.slow
def test_volume_train_generate_evaluate_on_real_crop(tmp_path, one_thread):
    model = tmp_path / "train"
    res = runner.invoke(app, ["volume", "train", "--out", str(model), "--max-iter", "3",
                              "--steps", "2", "--device", "cpu"])  # fmt: skip
    assert res.exit_code == 0, res.output
    # the default residual model holds its own regression net: one checkpoint
    assert {p.name for p in model.iterdir()} == {"model", "run.json"}
    run = json.loads((model / "run.json").read_text())
    assert run["results"]["genes"] == 450 and len(run["results"]["dropped"]["blank_genes"]) == 109
    assert run["data_checksums"]["vizgen_mini_transcripts"]
    # the training columns stop before the held-out quarter
    assert run["results"]["train_cols_stain_px"] == [0, 430]

    # a canvas larger than the crop: the gene field is tiled (and said so)
    gen = tmp_path / "gen"
    res = runner.invoke(app, ["volume", "generate", "--model", str(model), "--out", str(gen),
                              "--size", "48x640", "--device", "cpu"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "replicated conditioning" in res.output
    g = json.loads((gen / "run.json").read_text())["results"]
    assert g["shape"] == [2, 2, 48, 640] and g["tiled_gene_field"] and g["patches_per_s"] > 0
    assert g["extrapolated_hours_to_1e12_voxels"] > 0
    assert not (gen / "generated.ome.zarr.state").exists()
    # generating again into the same folder is refused, not overwritten
    res = runner.invoke(app, ["volume", "generate", "--model", str(model), "--out", str(gen),
                              "--size", "48x640", "--device", "cpu"])  # fmt: skip
    assert res.exit_code != 0 and "already exists" in str(res.exception)

    ev = tmp_path / "eval"
    res = runner.invoke(app, ["volume", "evaluate", "--model", str(model), "--out", str(ev),
                              "--max-rows", "32", "--device", "cpu"])  # fmt: skip
    assert res.exit_code == 0, res.output
    import pandas as pd

    m = pd.read_csv(ev / "metrics.csv", index_col="method")
    assert {"real", "boundary", "independent", "overlap", "regression", "mean image"} <= set(m.index)
    assert np.isfinite(m.loc["boundary", ["psnr_dapi", "ssim_polyT", "seam_score", "dapi_power_2-4px"]]).all()
    # the real images' PolyT follows transcript density on the held-out region
    assert m.loc["real", "polyt_density_r"] > 0.5
    att = pd.read_csv(ev / "attention_pairs.csv", index_col="pair")
    assert {"Slc17a6-Slc17a7", "Cldn5-Aqp4"} <= set(att.index)
    html = (ev / "report.html").read_text()
    assert "Real vs generated" in html and "Seams" in html and "Gene-gene attention" in html


def test_volume_bad_model_folder(tmp_path):
    res = runner.invoke(app, ["volume", "evaluate", "--model", str(tmp_path), "--out",
                              str(tmp_path / "e")])  # fmt: skip
    assert res.exit_code != 0
    assert "not a 'crossscale volume train' output folder" in str(res.exception)
    assert not (tmp_path / "e").exists()
