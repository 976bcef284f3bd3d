"""torch_threads: the one place a block's torch thread count is set; always restored."""
import pytest
import torch

from evosynth_lib.tasks.hardware import torch_threads


@pytest.fixture
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_sets_the_threads_in_the_block_and_restores_them(one_thread):
    with torch_threads(2) as n:
        assert n == 2 and torch.get_num_threads() == 2
    assert torch.get_num_threads() == 1


def test_restores_the_threads_after_an_exception(one_thread):
    with pytest.raises(KeyError):
        with torch_threads(2):
            raise KeyError("inside")
    assert torch.get_num_threads() == 1


def test_none_keeps_the_current_setting(one_thread):
    with torch_threads(None) as n:
        assert n == 1 and torch.get_num_threads() == 1
    assert torch.get_num_threads() == 1


def test_refuses_fewer_than_one_thread(one_thread):
    with pytest.raises(ValueError):
        with torch_threads(0):
            pass
    assert torch.get_num_threads() == 1
