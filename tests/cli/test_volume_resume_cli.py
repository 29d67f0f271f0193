"""`crossscale volume generate` stopped, damaged and resumed, through the command line (issue 24).

A tiny diffusion model on a synthetic sample stands in for a trained one (the data loader of
the command is replaced; everything else is the real command).
"""

import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("zarr")
pytest.importorskip("ome_zarr")

from crossscale.cli.main import main  # noqa: E402


def _make_sample():
    path = Path(__file__).parents[1] / "models" / "volume" / "conftest.py"
    spec = importlib.util.spec_from_file_location("_volume_conftest", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.make_sample()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    import torch

    from crossscale.models.volume import VolumeDiffusion

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    sample = _make_sample()
    model = VolumeDiffusion(channels=(4, 8), gene_dim=4, attn_dim=8, window=16, batch_size=4,
                            max_iter=3, num_inference_steps=3, device="cpu").fit(sample)  # fmt: skip
    torch.set_num_threads(n)
    d = tmp_path_factory.mktemp("vtrain") / "vmodel"
    model.save(d / "model")
    (d / "run.json").write_text(json.dumps({"written_by": "crossscale", "command":
                                            "crossscale volume train", "files": ["model/config.json", "model/model.safetensors"],
                                            "parameters": {"bin_px": 2, "downsample": 1}}))  # fmt: skip
    return d, sample


class Stop(KeyboardInterrupt):
    pass


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


@pytest.mark.slow
def test_generate_resume_and_damaged_state(trained, tmp_path, monkeypatch, capsys, snapshot):
    import sys

    import crossscale.pipeline.volume_generate as vgen

    gen = sys.modules["crossscale.models.volume.generate"]  # the package exports the function
    model, sample = trained
    monkeypatch.setattr(vgen, "_sample", lambda bin_px, downsample: sample)
    monkeypatch.chdir(tmp_path)
    argv = ["volume", "generate", "--model", str(model), "--device", "cpu", "--seed", "7",
            "--threads", "1"]  # fmt: skip
    assert main([*argv, "--out", "ref"]) == 0
    ref = _files(tmp_path / "ref" / "generated.ome.zarr")
    run = json.loads((tmp_path / "ref" / "run.json").read_text())
    assert run["written_by"] == "crossscale" and "generated.ome.zarr/zarr.json" in run["files"]

    mark = gen._mark

    def stop_after_2(state, k, t):
        mark(state, k, t)
        if k == 2:
            raise Stop

    # 1. stopped after step 2 (exit 130), then resumed by the same command: identical bytes
    monkeypatch.setattr(gen, "_mark", stop_after_2)
    assert main([*argv, "--out", "a"]) == 130
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["generated.ome.zarr.state"]
    assert not (tmp_path / ".a.lock").exists()
    monkeypatch.setattr(gen, "_mark", mark)
    assert main([*argv, "--out", "a"]) == 0
    assert _files(tmp_path / "a" / "generated.ome.zarr") == ref

    # 2. stopped, then two chunk files of the state lost: the resume is refused, nothing changes
    monkeypatch.setattr(gen, "_mark", stop_after_2)
    assert main([*argv, "--out", "b"]) == 130
    monkeypatch.setattr(gen, "_mark", mark)
    step = tmp_path / "b" / "generated.ome.zarr.state" / "step_0002.zarr"
    chunks = sorted(p for p in (step / "c").rglob("*") if p.is_file())
    for p in chunks[:2]:
        p.unlink()
    capsys.readouterr()
    before = snapshot(tmp_path)
    assert main([*argv, "--out", "b"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "is damaged: step 2 has 2 chunk file(s) missing" in err and "--overwrite" in err
    assert snapshot(tmp_path) == before
    # 3. --overwrite discards the damaged state and generates again: the same bytes
    assert main([*argv, "--out", "b", "--overwrite"]) == 0
    assert _files(tmp_path / "b" / "generated.ome.zarr") == ref
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["generated.ome.zarr", "run.json"]
    # 4. a finished result is not replaced without --overwrite; another tool's run.json never
    assert main([*argv, "--out", "b"]) == 2
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "run.json").write_text('{"tool": "other"}')
    assert main([*argv, "--out", "c", "--overwrite"]) == 2
    assert (tmp_path / "c" / "run.json").read_text() == '{"tool": "other"}'


@pytest.mark.slow
def test_an_edited_model_config_is_refused(trained, tmp_path, monkeypatch, capsys):
    """A config.json whose gene list was reordered: generation would feed genes to wrong inputs."""
    import shutil

    import crossscale.pipeline.volume_generate as vgen

    src, sample = trained
    model = tmp_path / "vmodel"
    shutil.copytree(src, model)
    cfg = json.loads((model / "model" / "config.json").read_text())
    cfg["genes"] = cfg["genes"][::-1]
    (model / "model" / "config.json").write_text(json.dumps(cfg, indent=2))
    monkeypatch.setattr(vgen, "_sample", lambda bin_px, downsample: sample)
    monkeypatch.chdir(tmp_path)
    assert main(["volume", "generate", "--model", "vmodel", "--out", "g", "--device", "cpu"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "config.json' was edited after the model was saved" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vmodel"]
