"""atomic_dir on its own: a folder appears whole or not at all, and an old one survives a failure."""

import hashlib
import json
import os
import stat

import pytest

from crossscale._outdir import atomic_dir, read_run_json


def _leftovers(parent, name):
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{name}."))


def test_new_folder_appears_only_at_the_end(tmp_path):
    out = tmp_path / "results"
    with atomic_dir(out) as tmp:
        assert not out.exists()  # nothing at the target while the command runs
        assert tmp.parent == out.parent and tmp.name.startswith(".results.tmp-")  # same disk
        (tmp / "sub").mkdir()
        (tmp / "sub" / "table.csv").write_text("a,b\n1,2\n")
        (tmp / "run.json").write_text(json.dumps({"command": "crossscale fit", "seed": 3}))
    assert (out / "sub" / "table.csv").read_text() == "a,b\n1,2\n"
    assert _leftovers(tmp_path, "results") == []
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~mask  # not mkdtemp's 0700
    run = read_run_json(out)  # stamped: ours, with every file written
    assert run["written_by"] == "crossscale" and run["seed"] == 3
    assert run["files"] == ["run.json", "sub/table.csv"]
    digest = hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    assert run["file_sha256"] == {"sub/table.csv": digest}  # hashes of the files, not a registry


def test_a_folder_without_run_json_is_not_stamped(tmp_path):
    with atomic_dir(tmp_path / "plain") as tmp:
        (tmp / "a.txt").write_text("x")
    assert sorted(p.name for p in (tmp_path / "plain").iterdir()) == ["a.txt"]


@pytest.mark.parametrize("exc", [ValueError, KeyboardInterrupt])
def test_an_error_leaves_no_folder_and_no_temp(tmp_path, exc):
    with pytest.raises(exc), atomic_dir(tmp_path / "results") as tmp:
        (tmp / "half.csv").write_text("half")
        raise exc("stop")
    assert list(tmp_path.iterdir()) == []


def _old_output(tmp_path):
    out = tmp_path / "results"
    with atomic_dir(out) as tmp:
        (tmp / "old.csv").write_text("old\n")
        (tmp / "run.json").write_text(json.dumps({"command": "crossscale fit", "versions": {}}))
    return out


def test_an_error_keeps_the_old_folder_byte_for_byte(tmp_path, snapshot):
    out = _old_output(tmp_path)
    before = snapshot(tmp_path)
    with pytest.raises(RuntimeError, match="boom"), atomic_dir(out, overwrite=True) as tmp:
        (tmp / "new.csv").write_text("new\n")
        assert (out / "old.csv").read_text() == "old\n"  # the old folder is untouched meanwhile
        raise RuntimeError("boom")
    assert snapshot(tmp_path) == before


def test_a_failed_swap_puts_the_old_folder_back(tmp_path, snapshot, monkeypatch):
    """The rename of the new folder into place fails: the old one returns, nothing is left."""
    out = _old_output(tmp_path)
    before = snapshot(tmp_path)
    real = os.replace
    calls = []

    def replace(src, dst):
        names = (os.path.basename(src), os.path.basename(dst))
        calls.append(names)
        if names[1] == "results" and names[0].startswith(".results.tmp-"):
            raise OSError("disk full")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError, match="disk full"), atomic_dir(out, overwrite=True) as tmp:
        (tmp / "new.csv").write_text("new\n")
    monkeypatch.undo()
    swaps = [c for c in calls if "results" in (c[0], c[1]) or c[1].startswith(".results.old-")]
    assert [d for _, d in swaps] == [f".results.old-{os.getpid()}", "results", "results"]
    assert snapshot(tmp_path) == before  # old folder back, no temporary or trash folder
