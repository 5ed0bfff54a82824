"""Precision and compilation by device capability (minissl.precision), and fit's use of them.

No GPU is needed: the compute capability is injected, and the chosen autocast dtype is run on the CPU.
"""

import pytest
import torch
import torch.nn.functional as F

from minissl import precision, train, utils
from minissl.precision import Precision, choose_precision, compile_supported, maybe_compile


@pytest.mark.parametrize("cap, dtype, scaler", [((7, 5), torch.float16, True), ((7, 0), torch.float16, True),
                                                ((8, 0), torch.bfloat16, False), ((9, 0), torch.bfloat16, False)])
def test_choice_by_capability(cap, dtype, scaler):
    p = choose_precision("cuda", capability=cap)
    assert p.dtype == dtype and p.uses_scaler == scaler and p.device_type == "cuda"
    assert (Precision("cpu", p.dtype).grad_scaler() is not None) == scaler  # a CUDA scaler needs a GPU


def test_cpu_and_amp_off_are_float32():
    assert choose_precision("cpu").dtype == torch.float32
    assert choose_precision("cuda", amp=False, capability=(9, 0)).dtype == torch.float32
    assert str(choose_precision("cpu")) == "float32"
    assert choose_precision("cpu").grad_scaler() is None


def test_compile_only_where_known_to_work():
    assert not compile_supported("cpu")
    assert not compile_supported("cuda", capability=(7, 5))  # the T4: Triton's bf16 fails below sm_80
    model = torch.nn.Linear(2, 2)
    assert maybe_compile(model, enabled=True) is model  # on the CPU: never compiled
    assert maybe_compile(model, enabled=False, device="cuda", capability=(9, 0)) is model


def _fit_with_capability(monkeypatch, cap):
    """fit on the CPU, with the precision a CUDA device of capability ``cap`` would get (autocast on the CPU)."""
    chosen = {}

    def as_if_on_that_gpu(device, amp=True, capability=None):
        chosen["gpu"] = choose_precision("cuda", amp, capability=cap)
        return Precision("cpu", chosen["gpu"].dtype)

    monkeypatch.setattr(train, "choose_precision", as_if_on_that_gpu)
    utils.seed_everything(0)
    g = torch.Generator().manual_seed(0)
    X = torch.randn(256, 8, generator=g)
    y = (X[:, 0] > 0).long()
    model = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.ReLU(), torch.nn.Linear(32, 2))
    history = train.fit(model, lambda m, b: F.cross_entropy(m(b[0]).float(), b[1]),
                        lambda step: (X, y), steps=40, lr=1e-2, progress=False, log_every=10)
    return chosen["gpu"], history


def test_fit_uses_fp16_and_a_gradient_scaler_on_a_t4(monkeypatch):
    chosen, history = _fit_with_capability(monkeypatch, (7, 5))
    assert chosen.dtype == torch.float16 and chosen.uses_scaler
    assert history.precision == "fp16 autocast + gradient scaler"
    assert history["loss"][-1] < history["loss"][0]


def test_fit_uses_bf16_without_a_scaler_from_sm80(monkeypatch):
    chosen, history = _fit_with_capability(monkeypatch, (8, 0))
    assert chosen.dtype == torch.bfloat16 and not chosen.uses_scaler
    assert history.precision == "bf16 autocast"
    assert history["loss"][-1] < history["loss"][0]


def test_fp16_run_resumes_with_its_scaler(tmp_path):
    """The gradient scaler's state is part of the checkpoint: a resumed fp16 run equals the straight one."""
    fp16 = Precision("cpu", torch.float16)
    g = torch.Generator().manual_seed(0)
    X = torch.randn(64, 8, generator=g)
    y = (X[:, 0] > 0).long()

    def run(steps, **kw):
        utils.seed_everything(0)
        model = torch.nn.Linear(8, 2)
        h = train.fit(model, lambda m, b: F.cross_entropy(m(b[0]).float(), b[1]), lambda step: (X, y),
                      steps=steps, lr=1e-2, progress=False, log_every=5, precision=fp16, **kw)
        return model, h

    straight, _ = run(10)
    ck = tmp_path / "fp16.pt"

    def stop_at_5(model, step):  # dies during step 6, after the checkpoint of step 5
        if step == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(10, checkpoint=ck, checkpoint_every=5, after_step=stop_at_5)
    state = torch.load(ck, weights_only=True)
    assert state["scaler"] is not None and state["scaler"]["scale"] == 65536.0
    utils.seed_everything(0)
    resumed = torch.nn.Linear(8, 2)
    train.fit(resumed, lambda m, b: F.cross_entropy(m(b[0]).float(), b[1]), lambda step: (X, y), steps=10,
              lr=1e-2, progress=False, log_every=5, precision=fp16, checkpoint=ck, resume=True)
    torch.testing.assert_close(resumed.weight, straight.weight)


def test_cuda_capability_is_none_off_cuda():
    assert precision.cuda_capability("cpu") is None
