import importlib
import os
import sys
import types
from dataclasses import FrozenInstanceError, dataclass

import pytest
import torch

from minissl import presets, utils


def test_same_seed_same_numbers():
    utils.seed_everything(123)
    a = torch.randn(5), torch.nn.Linear(4, 4).weight.clone()
    utils.seed_everything(123)
    b = torch.randn(5), torch.nn.Linear(4, 4).weight.clone()
    torch.testing.assert_close(a, b)
    g1, g2 = utils.seed_everything(7), utils.seed_everything(7)
    assert torch.equal(torch.rand(3, generator=g1), torch.rand(3, generator=g2))


def test_seed_must_be_int():
    with pytest.raises(TypeError, match="seed must be an int"):
        utils.seed_everything("1")


def test_device_choice(monkeypatch):
    monkeypatch.delenv("MINISSL_DEVICE", raising=False)
    assert utils.device().type == ("cuda" if torch.cuda.is_available() else "cpu")
    monkeypatch.setenv("MINISSL_DEVICE", "cpu")
    assert utils.device() == torch.device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA GPU"):
            utils.device("cuda")


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with utils.atomic_path(target) as tmp:
            tmp.write_bytes(b"half-writ")
            raise RuntimeError("interrupted")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.bin"]
    with utils.atomic_path(target) as tmp:
        tmp.write_bytes(b"new")
    assert target.read_bytes() == b"new"


@dataclass(frozen=True)
class _Toy:
    name: str
    steps: int


@pytest.fixture
def toy_chapter(monkeypatch):
    module = types.ModuleType("minissl.presets.toy")
    module.PRESETS = {"cpu": _Toy("cpu", 10), "gpu": _Toy("gpu", 1000)}
    monkeypatch.setitem(sys.modules, "minissl.presets.toy", module)
    monkeypatch.setattr(presets, "chapters", lambda: ["toy"])
    return "toy"


def test_preset_resolution_order(toy_chapter, monkeypatch):
    monkeypatch.delenv("MINISSL_PRESET", raising=False)
    assert presets.get(toy_chapter).name == ("gpu" if torch.cuda.is_available() else "cpu")
    monkeypatch.setenv("MINISSL_PRESET", "gpu")
    assert presets.get(toy_chapter).steps == 1000
    assert presets.get(toy_chapter, "cpu").steps == 10  # the argument wins over the environment


def test_unknown_preset_lists_valid_names(toy_chapter, monkeypatch):
    with pytest.raises(ValueError, match=r"unknown preset 'tpu'.*\['cpu', 'gpu'\]"):
        presets.get(toy_chapter, "tpu")
    monkeypatch.setenv("MINISSL_PRESET", "laptop")
    with pytest.raises(ValueError, match="from the MINISSL_PRESET"):
        presets.get(toy_chapter)


def test_unknown_chapter():
    with pytest.raises(ValueError, match="unknown chapter 'nope'"):
        presets.get("nope")


def test_default_is_cpu_or_gpu_never_h100(monkeypatch):
    monkeypatch.delenv("MINISSL_PRESET", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert presets.default_name() == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert presets.default_name() == "gpu"  # any CUDA GPU: sized for a T4
    monkeypatch.setenv("MINISSL_PRESET", "h100")
    assert presets.default_name() == "h100"


def test_describe_names_preset_device_precision_and_time(capsys):
    P = presets.get("gpt", "cpu")
    line = presets.describe(P, device="cpu")
    assert line in capsys.readouterr().out
    assert "preset 'cpu'" in line and "float32" in line and "torch.compile off" in line and P.expected_time in line


def test_cifar_cpu_presets_read_a_fixed_slice():
    for chapter in ("simclr", "dino"):
        assert presets.get(chapter, "cpu").per_file == 1000  # 5,000 / 1,000 images on any copy of CIFAR-10
        assert presets.get(chapter, "gpu").per_file is None and presets.get(chapter, "h100").per_file is None


def test_every_chapter_has_the_three_presets():
    for chapter in presets.chapters():
        assert set(presets.PRESET_NAMES) <= set(importlib.import_module(f"minissl.presets.{chapter}").PRESETS)
        for name in presets.PRESET_NAMES:
            p = presets.get(chapter, name)
            assert p.name == name and p.expected_time
            with pytest.raises(FrozenInstanceError):  # frozen: a notebook cannot change a threshold by accident
                p.__setattr__(next(iter(vars(p))), None)
