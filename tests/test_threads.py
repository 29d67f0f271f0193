"""crossscale._threads: the one helper that pins torch's (and BLAS's) threads, and restores them."""

import pytest

torch = pytest.importorskip("torch")

from crossscale._threads import single_thread, torch_threads  # noqa: E402


def test_torch_threads_sets_and_restores():
    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with torch_threads(None):  # None leaves the setting alone
        assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), torch_threads(1):
        raise RuntimeError("an error inside still restores")
    assert torch.get_num_threads() == before


def test_single_thread_pins_blas_and_torch():
    from threadpoolctl import threadpool_info

    before = torch.get_num_threads()
    with single_thread():
        assert torch.get_num_threads() == 1
        assert all(p["num_threads"] == 1 for p in threadpool_info())
    assert torch.get_num_threads() == before


def test_set_torch_threads_sets_the_process_count_and_none_changes_nothing():
    import torch

    from crossscale._threads import set_torch_threads

    old = torch.get_num_threads()
    try:
        set_torch_threads(1)
        assert torch.get_num_threads() == 1
        set_torch_threads(None)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(old)
