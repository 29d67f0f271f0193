import hashlib

import pytest

from crossscale import DataIntegrityError, DatasetNotFoundError
from crossscale.datasets import dataset_info, fetch, registry


def test_registry_entries_complete():
    reg = registry()
    assert {"ahba_expression", "adni2_ad_vol_baseline", "lincs_landmark_genes"} <= set(reg)
    assert sum(k.startswith("enigma_") and k.endswith("_thickness") for k in reg) == 33
    for info in reg.values():
        assert len(info.sha256) == 64 and info.licence and info.citation and info.description
        if info.source == "github":
            assert info.url.startswith("https://raw.githubusercontent.com/")


def test_fetch_verifies_checksum(tmp_path, monkeypatch):
    monkeypatch.setenv("CROSSSCALE_DATA", str(tmp_path))
    path = fetch("adni2_ad_vol_baseline")
    assert (
        hashlib.sha256(path.read_bytes()).hexdigest()
        == dataset_info("adni2_ad_vol_baseline").sha256
    )
    # a corrupted cache file is replaced
    path.write_bytes(b"garbage")
    assert (
        hashlib.sha256(fetch("adni2_ad_vol_baseline").read_bytes()).hexdigest()
        == dataset_info("adni2_ad_vol_baseline").sha256
    )


def test_bad_mirror_file_is_an_integrity_error(tmp_path, monkeypatch):
    info = dataset_info("adni2_ad_vol_baseline")
    mirror = tmp_path / "mirror"
    target = mirror / "github" / info.url.removeprefix("https://raw.githubusercontent.com/")
    target.parent.mkdir(parents=True)
    target.write_bytes(b"not the real file")
    monkeypatch.setenv("CROSSSCALE_MIRROR", str(mirror))
    monkeypatch.setenv("CROSSSCALE_DATA", str(tmp_path / "cache"))
    with pytest.raises(DataIntegrityError, match="registry records"):
        fetch("adni2_ad_vol_baseline")
    assert not any((tmp_path / "cache").rglob("AD_vol_baseline.mat"))


def test_unknown_dataset_suggests():
    with pytest.raises(DatasetNotFoundError, match="Did you mean 'adni2_ad_vol_baseline'"):
        dataset_info("adni2_ad_vol_basline")
