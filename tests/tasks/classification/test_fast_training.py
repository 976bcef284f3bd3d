"""The fast training pipeline: tensor batches, batched augmentation, bf16 + channels-last, validation hold-out."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader, TensorDataset

from evosynth_lib import EvolutionConfig
from evosynth_lib.core.masks import full_masks
from evosynth_lib.run.evolve import evolve
from evosynth_lib.run import store
from evosynth_lib.tasks import make_task, training
from evosynth_lib.tasks.classification.data import TensorBatches, crop_flip, get_datasets


def test_tensor_batches_equal_the_dataloader_batch_for_batch():
    x, y = torch.randn(203, 1, 4, 4), torch.arange(203)
    ds = TensorDataset(x, y)
    g1, g2 = torch.Generator().manual_seed(7), torch.Generator().manual_seed(7)
    ours, theirs = TensorBatches(ds, 16, g1), DataLoader(ds, batch_size=16, shuffle=True, generator=g2)
    assert len(ours) == len(theirs) == 13
    for epoch in range(3):
        for a, b in zip(ours, theirs, strict=True):
            assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert torch.equal(g1.get_state(), g2.get_state())  # the same draws: later epochs stay identical too


def _reference_crop_flip(x, dy, dx, flip, pad=4):
    padded = F.pad(x, (pad,) * 4)
    out = torch.stack([padded[i, :, dy[i]:dy[i] + x.shape[2], dx[i]:dx[i] + x.shape[3]] for i in range(len(x))])
    out[flip] = out[flip].flip(-1)
    return out


def test_batched_crop_flip_is_a_crop_and_flip_fixed_by_the_generator():
    x = torch.randn(32, 3, 8, 8)
    out = crop_flip(x, torch.Generator().manual_seed(3))
    g = torch.Generator().manual_seed(3)  # the same draws, in the same order
    dy, dx = torch.randint(0, 9, (32,), generator=g), torch.randint(0, 9, (32,), generator=g)
    flip = torch.rand(32, generator=g) < 0.5
    assert torch.equal(out, _reference_crop_flip(x, dy.tolist(), dx.tolist(), flip))
    assert torch.equal(out, crop_flip(x, torch.Generator().manual_seed(3)))
    assert not torch.equal(out, crop_flip(x, torch.Generator().manual_seed(4)))
    assert flip.any() and (~flip).any() and (dx != 4).any()


def test_image_folder_tensors_are_what_torchvision_loads(tmp_path):
    """The decoded-once tensors equal torchvision's ImageFolder + ToTensor + Normalize, image for image."""
    from torchvision import transforms
    from torchvision.datasets import ImageFolder

    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        for k in range(3):
            d = tmp_path / "cifar10" / split / f"class{k}"
            d.mkdir(parents=True)
            for i in range(4):
                Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(d / f"{i:05d}.png")
    train, _, _ = get_datasets("cifar10", tmp_path)
    mean, std = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
    tv = ImageFolder(str(tmp_path / "cifar10" / "train"),
                     transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean, std)]))
    assert len(tv) == len(train)
    for i in range(len(tv)):
        assert int(train[i][1]) == tv[i][1]
        torch.testing.assert_close(train[i][0], tv[i][0], rtol=0, atol=1e-6)


def test_real_mnist_tensors_are_what_torchvision_loads(mnist_dir):
    from torchvision import transforms
    from torchvision.datasets import MNIST

    from evosynth_lib.tasks.classification.data import _mnist_root

    train, test, _ = get_datasets("mnist", mnist_dir)
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    tv = MNIST(str(_mnist_root(mnist_dir, False)), train=False, transform=tf)
    for i in (0, 1, 4321, 9999):
        assert int(test[i][1]) == tv[i][1]
        torch.testing.assert_close(test[i][0], tv[i][0], rtol=0, atol=1e-6)


def _tiny_config(**kw):
    return EvolutionConfig(dataset="synthetic", model="lenet5", generations=2, epochs=0.5, first_epochs=1.0,
                           batch_size=32, synthetic_size=(256, 64), threads=1, **kw).validate()


def test_bf16_training_keeps_masks_exact_and_is_deterministic(tmp_path, monkeypatch):
    monkeypatch.setenv(training.ARITHMETIC_ENV, "bf16")  # bf16 on any CPU (emulated, slowly, where not native)
    config = _tiny_config(precision="bf16")
    a = evolve(config, runs_dir=tmp_path / "a", progress=False)
    b = evolve(config, runs_dir=tmp_path / "b", progress=False)
    for g in (1, 2):
        ca, cb = store.load_checkpoint(a, g), store.load_checkpoint(b, g)
        for k in ca["model"]:
            assert torch.equal(ca["model"][k], cb["model"][k]), k
        for k, m in ca["masks"].items():
            assert torch.equal(m, cb["masks"][k])
            w = ca["model"][k]
            assert (w[~m] == 0).all() and w.dtype == torch.float32  # dead synapses exactly 0, fp32 master weights
        assert any(not m.all() for m in ca["masks"].values()) or g == 1
    run = store.open_run(a)
    assert run.finished[-1]["generation"] == 2 and run.settings["arithmetic"] == "bf16"


def test_bf16_falls_back_to_fp32_where_the_device_is_slow_and_the_run_records_it(monkeypatch, tmp_path):
    monkeypatch.delenv(training.ARITHMETIC_ENV, raising=False)
    monkeypatch.setattr(training, "_cpu_flags", lambda: {"avx2"})
    fast, why = training.bf16_training_support("cpu")
    assert not fast and "without amx_bf16/avx512_bf16" in why
    assert training.training_arithmetic("bf16", "cpu")[0] == "fp32"
    assert make_task(_tiny_config(precision="bf16"), "cpu").arithmetic == "fp32"
    run = store.open_run(evolve(_tiny_config(precision="bf16").replace(generations=1), runs_dir=tmp_path,
                                progress=False))
    assert run.settings["arithmetic"] == "fp32"
    monkeypatch.setattr(training, "_cpu_flags", lambda: {"avx512_bf16"})
    monkeypatch.setattr(training, "mkldnn_check", lambda name: True)
    assert training.training_arithmetic("bf16", "cpu")[0] == "bf16"  # where it is fast, bf16
    assert training.training_arithmetic("fp32", "cpu")[0] == "fp32"
    monkeypatch.setenv(training.ARITHMETIC_ENV, "bf16")
    assert training.training_arithmetic("fp32", "cpu") == ("bf16", f"forced by {training.ARITHMETIC_ENV}")
    monkeypatch.setenv(training.ARITHMETIC_ENV, "fp64")
    with pytest.raises(ValueError, match="invalid EVOSYNTH_ARITHMETIC='fp64'"):
        training.training_arithmetic("fp32", "cpu")


def test_bf16_step_changes_no_dead_weight(tiny):  # bf16 is emulated where the CPU lacks it: slower, same rule
    masks = full_masks(tiny)
    first = next(iter(masks))
    masks[first][0, 0] = False
    x, y = torch.randn(8, 2, 4, 4), torch.randint(0, 3, (8,))
    training.train_epochs(tiny, masks, [(x, y)], lambda m, b: F.cross_entropy(m(b[0]), b[1]), 3, 0.1,
                          precision="bf16")
    assert (tiny.layers[0].weight[0, 0] == 0).all()


def test_validation_is_held_out_of_training_and_reported():
    task = make_task(_tiny_config(validation=50), "cpu")
    assert len(task.train_set) == 256 - 50 and len(task.val_set) == 50
    train_x = {tuple(x.flatten()[:6].tolist()) for x, _ in task.train_set}
    assert not any(tuple(x.flatten()[:6].tolist()) in train_x for x, _ in task.val_set)
    assert set(task.evaluate(task.build_model())) == {"accuracy", "val_accuracy"}
