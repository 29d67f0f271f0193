"""The volume workflows as Python: checks before work, no silent defaults, models never edited."""

import json

import pytest

from crossscale import ParameterError
from crossscale.pipeline.volume import (
    EvaluateConfig,
    TrainConfig,
    check_model_folder,
    check_output,
    run,
    train_parameters,
)
from crossscale.pipeline.volume_generate import GenerateConfig


def _model_folder(root, run_json=True, params=None):
    (root / "model").mkdir(parents=True)
    if run_json:
        (root / "run.json").write_text(json.dumps({
            "written_by": "crossscale", "files": [], "command": "crossscale volume train",
            "parameters": params if params is not None else {"bin_px": 16, "downsample": 8}}))  # fmt: skip
    return root


def test_configs_check_every_option_with_the_command_lines_messages():
    for config, match in [
        (TrainConfig(preset="huge"), "--preset must be 'smoke' or 'default'"),
        (TrainConfig(objective="gan"), "--objective must be"),
        (TrainConfig(bin_px=0), "--bin-px must be an integer from 1 to 4096; got 0"),
        (TrainConfig(downsample=3), "--downsample must be '1', '2', '4', '8' or '16'; got '3'"),
        (TrainConfig(holdout=1.5), r"--holdout must be in \(0, 1\); got 1.5"),
        (TrainConfig(threads=0), "--threads must be an integer from 1 to 4096; got 0"),
        (TrainConfig(steps=0), "--steps must be an integer from 1 to 1000; got 0"),
        (TrainConfig(seed=-1), "--seed must be an integer seed"),
        (GenerateConfig("m", scheme="tiles"), "--scheme must be"),
        (GenerateConfig("m", batch_size=0), "--batch-size must be an integer from 1"),
        (GenerateConfig("m", size="12x"), "--size must be ROWSxCOLS"),
        (GenerateConfig("m", scheduler="nowhere"), "--scheduler must be 'local' or a Dask"),
        (EvaluateConfig("m", max_rows=0), "--max-rows must be an integer from 1 to 1000000"),
    ]:
        with pytest.raises(ParameterError, match=match):
            config.check()
    TrainConfig().check()
    GenerateConfig("m", size="48x640").check()


def test_a_model_folder_without_its_run_json_is_refused_not_guessed(tmp_path):
    """`volume generate` used to assume bin_px 16 / downsample 8 when run.json was missing."""
    model = _model_folder(tmp_path / "m", run_json=False)
    with pytest.raises(ParameterError, match="has no run.json.*bin_px, downsample"):
        train_parameters(model)
    other = _model_folder(tmp_path / "o", params={"bin_px": 8, "downsample": 4})
    assert train_parameters(other) == {"bin_px": 8, "downsample": 4}
    (other / "run.json").write_text(json.dumps({"parameters": {"bin_px": 8}}))
    with pytest.raises(ParameterError, match="changed or replaced"):
        train_parameters(other)


def test_model_folders_and_outputs_are_checked_before_any_work(tmp_path):
    with pytest.raises(ParameterError, match="does not exist"):
        check_model_folder(tmp_path / "nope")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ParameterError, match="is a file"):
        check_model_folder(tmp_path / "file")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ParameterError, match="not a 'crossscale volume train' output folder"):
        check_model_folder(tmp_path / "empty")
    model = _model_folder(tmp_path / "m")
    for config in (GenerateConfig(str(model)), EvaluateConfig(str(model))):
        with pytest.raises(ParameterError, match="is inside the model folder"):
            check_output(config, model / "gen", overwrite=False)
        with pytest.raises(ParameterError, match="is the input"):
            check_output(config, model, overwrite=True)
    # the evaluation refuses the folder before loading anything
    with pytest.raises(ParameterError, match="not a 'crossscale volume train' output folder"):
        run(EvaluateConfig(str(tmp_path / "empty")))
    with pytest.raises(ParameterError, match="generate_canvas"):
        run(GenerateConfig(str(model)))


def test_train_leaves_the_ddim_steps_to_the_model_unless_given(monkeypatch):
    """`volume train` passed a hard-coded 10 DDIM steps, whatever the model's default was."""
    import crossscale.pipeline.volume as pv
    from crossscale.models.volume import VolumeDiffusion

    class Stop(Exception):
        pass

    seen = []

    def fake_fit(self, sample):
        seen.append(self.resolved_params()["num_inference_steps"])
        raise Stop

    monkeypatch.setattr(pv, "_sample", lambda *a: None)
    monkeypatch.setattr(VolumeDiffusion, "fit", fake_fit)
    monkeypatch.setitem(VolumeDiffusion.__init__.__kwdefaults__, "num_inference_steps", 7)
    for config in (TrainConfig(), TrainConfig(steps=3)):
        with pytest.raises(Stop):
            run(config)
    assert seen == [7, 3]
