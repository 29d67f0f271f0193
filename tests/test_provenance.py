"""run_record: versions, commit, and the sha256 of the files actually read and written."""

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

import crossscale
import crossscale.datasets as datasets
from crossscale._files import write_json
from crossscale._outdir import atomic_dir
from crossscale._provenance import file_sha256, git_commit, run_record


def _sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_record_hashes_the_files_read_not_the_registry(tmp_path, monkeypatch):
    key = "lincs_landmark_genes"
    registered = datasets.dataset_info(key).sha256
    assert run_record("x", parameters={}, datasets=[key])["data_checksums"][key] == registered
    # a cache file that differs from the registry: the record says what was read
    fake = tmp_path / "genes.txt"
    fake.write_text("A\nB\n")
    monkeypatch.setattr(datasets, "fetch", lambda k: fake)
    rec = run_record("crossscale fit", parameters={"a": 1}, seed=4, datasets=[key],
                     inputs={"map_file": tmp_path / "genes.txt", "none": None})  # fmt: skip
    assert rec["data_checksums"] == {key: _sha(fake), "map_file": _sha(fake)}
    assert rec["data_checksums"][key] != registered
    assert rec["data_sources"][key]["path"] == str(fake) and rec["data_sources"][key]["origin"]
    assert rec["command"] == "crossscale fit" and rec["parameters"] == {"a": 1} and rec["seed"] == 4
    assert rec["versions"]["crossscale"] == crossscale.__version__ and "numpy" in rec["versions"]


def test_hash_follows_the_file_content(tmp_path):
    f = tmp_path / "m.csv"
    f.write_text("region,value\nL_bankssts,1\n")
    first = file_sha256(f)
    f.write_text("region,value\nL_bankssts,2\n")
    assert file_sha256(f) == _sha(f) != first
    rec = run_record("y", parameters={}, inputs={"dir": tmp_path}, outputs={"t.csv": "abc", "f": f})
    assert rec["data_sources"]["dir"] == {"path": str(tmp_path), "sha256": None, "kind": "folder"}
    assert "dir" not in rec["data_checksums"]
    assert rec["outputs"] == {"t.csv": hashlib.sha256(b"abc").hexdigest(), "f": _sha(f)}


def test_commit_is_git_describe_of_the_source_tree():
    pkg = Path(crossscale.__file__).resolve().parent
    top = subprocess.run(["git", "-C", str(pkg), "rev-parse", "--show-toplevel"],
                         capture_output=True, text=True, check=False)  # fmt: skip
    if top.returncode != 0 or (Path(top.stdout.strip()) / "src" / "crossscale").resolve() != pkg:
        assert git_commit() is None
        return
    want = subprocess.run(["git", "-C", str(pkg), "describe", "--always", "--dirty"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    assert git_commit() == want and run_record("z", parameters={})["commit"] == want


def test_atomic_dir_records_the_sha256_of_every_file_written(tmp_path):
    out = tmp_path / "out"
    with atomic_dir(out) as tmp:
        (tmp / "a.csv").write_text("1,2\n")
        (tmp / "sub").mkdir()
        (tmp / "sub" / "b.bin").write_bytes(b"\x00\x01")
        write_json(tmp / "run.json", run_record("crossscale test", parameters={}))
    run = json.loads((out / "run.json").read_text())
    assert run["files"] == ["a.csv", "run.json", "sub/b.bin"]
    assert run["file_sha256"] == {"a.csv": _sha(out / "a.csv"), "sub/b.bin": _sha(out / "sub/b.bin")}


@pytest.mark.parametrize("bad", ["nope_not_a_dataset"])
def test_unknown_dataset_key_is_an_error(bad):
    with pytest.raises(crossscale.CrossscaleError, match=bad):
        run_record("x", parameters={}, datasets=[bad])
