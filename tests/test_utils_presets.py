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


def test_every_chapter_has_cpu_and_gpu_presets():
    for chapter in presets.chapters():
        for name in ("cpu", "gpu"):
            p = presets.get(chapter, name)
            with pytest.raises(FrozenInstanceError):  # frozen: a notebook cannot change a threshold by accident
                p.__setattr__(next(iter(vars(p))), None)
