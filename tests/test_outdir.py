"""Output folders are sacred: crossscale._outdir.check_output_dir / atomic_dir, with real files."""

import json
import os
from pathlib import Path

import pytest

from crossscale import ParameterError
from crossscale._outdir import atomic_dir, check_output_dir, read_run_json
from crossscale._outfiles import check_output_files


@pytest.fixture
def study(tmp_path, monkeypatch):
    """A user's folder: a map, notes, a sub-folder of subject data; cwd is tmp_path."""
    monkeypatch.chdir(tmp_path)
    s = tmp_path / "study"
    (s / "subjects").mkdir(parents=True)
    (s / "my_map.csv").write_text("region,d\nL_bankssts,0.1\n")
    (s / "notes.txt").write_bytes(b"my notes \xe2\x9c\x93\n")
    (s / "subjects" / "sub-01.csv").write_text("x\n1\n")
    return s


def _crossscale_folder(path: Path, files=("a.csv",)) -> Path:
    with atomic_dir(path) as tmp:
        for f in files:
            (tmp / f).parent.mkdir(parents=True, exist_ok=True)
            (tmp / f).write_text("old\n")
        (tmp / "run.json").write_text(json.dumps({"command": "crossscale fit", "versions": {}}))
    return path


@pytest.mark.parametrize(
    ("out", "inputs", "overwrite", "match"),
    [
        ("study", ["study/my_map.csv"], True, r"'study' contains the input 'study/my_map.csv'"),
        ("study", [], True, r"--overwrite refused: 'study' was not written by crossscale"),
        ("study", [], False, r"already exists.*--overwrite"),
        ("study/my_map.csv", ["study/my_map.csv"], True, r"is the input"),
        ("study/notes.txt", [], True, r"is a file, not a folder"),
        (".", [], True, r"is the current folder"),
        ("..", [], True, r"is the current folder \(or one above it\)"),
        ("study/..", [], True, r"current folder"),
        ("study/notes.txt/res", [], False, r"'.*notes.txt' is not a writable folder"),
    ],
)
def test_refused_outputs_leave_every_byte(study, out, inputs, overwrite, match, snapshot):
    before = snapshot(study.parent)
    with pytest.raises(ParameterError, match=match):
        check_output_dir(out, overwrite=overwrite, inputs=inputs)
    with (
        pytest.raises(ParameterError, match=match),
        atomic_dir(out, overwrite=overwrite, inputs=inputs),
    ):
        pytest.fail("atomic_dir must refuse before yielding")  # pragma: no cover
    assert snapshot(study.parent) == before


def test_overwrite_replaces_a_crossscale_folder_atomically(study):
    out = _crossscale_folder(study.parent / "res", files=("a.csv", "sub/b.csv"))
    run = read_run_json(out)
    assert run["written_by"] == "crossscale" and run["files"] == ["a.csv", "run.json", "sub/b.csv"]
    with atomic_dir(out, overwrite=True) as tmp:
        (tmp / "new.csv").write_text("new\n")
        (tmp / "run.json").write_text(json.dumps({"command": "crossscale fit", "versions": {}}))
        assert (out / "a.csv").read_text() == "old\n"  # untouched until the swap
    assert sorted(p.name for p in out.iterdir()) == ["new.csv", "run.json"]
    assert not [p for p in study.parent.iterdir() if p.name.startswith(".")]


def test_foreign_file_in_a_crossscale_folder_is_refused(study, snapshot):
    out = _crossscale_folder(study.parent / "res")
    (out / "thesis.tex").write_text("\\chapter{Results}\n")
    before = snapshot(out)
    with pytest.raises(
        ParameterError, match=r"1 file\(s\) that crossscale did not write: 'thesis.tex'"
    ):
        check_output_dir(out, overwrite=True)
    assert snapshot(out) == before


def test_subfolder_listed_in_the_parent_manifest_may_be_replaced(study):
    out = _crossscale_folder(study.parent / "res", files=("a.csv", "interpretation/genes.csv"))
    assert check_output_dir(out / "interpretation", overwrite=True) == out / "interpretation"
    (out / "interpretation" / "mine.txt").write_text("x")
    with pytest.raises(ParameterError, match="'mine.txt'"):
        check_output_dir(out / "interpretation", overwrite=True)


def test_nested_crossscale_output_is_not_foreign(study):
    out = _crossscale_folder(study.parent / "res")
    _crossscale_folder(out / "interpretation")  # written later by `crossscale interpret`
    check_output_dir(out, overwrite=True)


def test_only_a_stamped_run_json_or_an_empty_folder_may_be_replaced(study):
    unstamped = study.parent / "old"  # names a crossscale command but lacks written_by
    unstamped.mkdir()
    (unstamped / "run.json").write_text(json.dumps({"command": "crossscale fit", "versions": {}}))
    with pytest.raises(ParameterError, match="not written by crossscale"):
        check_output_dir(unstamped, overwrite=True)
    (study.parent / "empty").mkdir()
    check_output_dir(study.parent / "empty", overwrite=True)
    foreign = study.parent / "other"
    foreign.mkdir()
    (foreign / "run.json").write_text(json.dumps({"command": "snakemake"}))  # not ours
    with pytest.raises(ParameterError, match="not written by crossscale"):
        check_output_dir(foreign, overwrite=True)


@pytest.mark.parametrize("exc", [KeyboardInterrupt, RuntimeError])
def test_interrupted_write_leaves_old_output_and_no_temp(study, exc, snapshot):
    out = _crossscale_folder(study.parent / "res")
    before = snapshot(study.parent)
    with pytest.raises(exc), atomic_dir(out, overwrite=True) as tmp:
        (tmp / "half.csv").write_text("half")
        raise exc
    assert snapshot(study.parent) == before


def test_unwritable_parent_is_refused(tmp_path, monkeypatch):
    ro = tmp_path / "ro"
    ro.mkdir()
    # a read-only folder, simulated: root (CI) may write into a chmod 555 folder, so the
    # permission check itself is told that the folder refuses writes
    real_access = os.access

    def access(path, mode, *args, **kwargs):
        if os.path.realpath(path) == os.path.realpath(ro) and mode & os.W_OK:
            return False
        return real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)
    with pytest.raises(ParameterError, match="is not a writable folder"):
        check_output_dir(ro / "res")
    assert not (ro / "res").exists()
    monkeypatch.undo()
    check_output_dir(ro / "res")  # writable again: accepted


def test_output_files_guard(study, snapshot):
    table = study / "my_map.csv"
    before = snapshot(study)
    with pytest.raises(ParameterError, match="is the input"):
        check_output_files([table], overwrite=True, inputs=[table])
    with pytest.raises(ParameterError, match="not written by crossscale"):
        check_output_files([study / "notes.txt"], overwrite=True, sidecar=study / "notes.run.json")
    with pytest.raises(ParameterError, match="already exist"):
        check_output_files([study / "notes.txt"])
    assert snapshot(study) == before
    (study / "d.csv").write_text("d\n")
    (study / "d.run.json").write_text(json.dumps({"written_by": "crossscale"}))
    check_output_files([study / "d.csv"], overwrite=True, sidecar=study / "d.run.json")


def test_checkpoint_save_refuses_a_foreign_folder(study, snapshot):
    import numpy as np

    from crossscale.train.checkpoint import save_checkpoint

    before = snapshot(study)
    with pytest.raises(ParameterError, match="not written by crossscale"):
        save_checkpoint(study, {"w": np.zeros(2)}, {"a": 1}, overwrite=True)
    assert snapshot(study) == before
    save_checkpoint(study.parent / "ckpt", {"w": np.zeros(2)}, {"a": 1})
    save_checkpoint(study.parent / "ckpt", {"w": np.ones(2)}, {"a": 2}, overwrite=True)


def test_atomic_write_files_is_all_or_nothing(tmp_path, snapshot, monkeypatch):
    from crossscale import _files

    (tmp_path / "a.csv").write_text("old a\n")
    before = snapshot(tmp_path)
    real_replace = os.replace
    calls = []

    def interrupted_replace(src, dst):
        calls.append(dst)
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted_replace)
    with pytest.raises(KeyboardInterrupt):
        _files.atomic_write_files({tmp_path / "a.csv": "new a\n", tmp_path / "b.html": "b"})
    monkeypatch.setattr(os, "replace", real_replace)
    assert calls and snapshot(tmp_path) == before
    _files.atomic_write_files({tmp_path / "a.csv": "new a\n", tmp_path / "b.html": "b"})
    assert (tmp_path / "a.csv").read_text() == "new a\n" and (
        tmp_path / "b.html"
    ).read_text() == "b"
