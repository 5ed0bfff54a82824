"""Preset for the chapter *GPT from the blocks* (``notebooks/04_gpt.ipynb``): the main run, sampling, the
small scale study, and the validation-loss threshold the check cell asserts."""

from dataclasses import dataclass

from minissl.presets._common import H100_TIME, T4_TIME, cpu_time


@dataclass(frozen=True)
class GPTPreset:
    name: str
    expected_time: str = cpu_time(200)  # the whole notebook on this machine class
    seed: int = 1337
    val_fraction: float = 0.1
    # model
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    block_size: int = 64
    dropout: float = 0.0
    # optimisation: AdamW (decay on matrices only), linear warm-up then cosine to min_lr_ratio * lr
    batch_size: int = 32
    steps: int = 1000
    lr: float = 6e-3  # high for a small model: warm-up and clipping keep it stable
    weight_decay: float = 0.1
    warmup_steps: int = 50
    min_lr_ratio: float = 0.1
    grad_clip: float = 1.0
    compile: bool = False  # torch.compile the model where minissl.precision.compile_supported (GPU >= sm_80)
    eval_every: int = 200
    eval_windows: int = 1024  # fixed validation windows of block_size characters (65k characters)
    # sampling
    sample_tokens: int = 300
    # scale study: a few short runs of growing width (same depth, steps, data)
    scale_widths: tuple = (32, 64, 96)
    scale_n_layer: int = 2
    scale_steps: int = 120
    scale_batch_size: int = 16
    # check: validation loss at most 1.75 after the cpu run. Measured 1.707 (256 windows) / 1.722 (1024
    # windows) after 1000 steps, 180 s of single-thread CPU time; later, 1024 windows, 2 threads: 1.742 in the
    # executed notebook (78 s wall), 1.727-1.736 for lr 8e-3, min_lr_ratio 0.02 or 3 x 160 wide (other inits).
    # A thin margin: the recipe is at its limit at this wall time. nanoGPT's CPU recipe measured here: see the
    # chapter.
    max_val_loss: float = 1.75


PRESETS = {
    "cpu": GPTPreset("cpu"),
    # Not yet run on a GPU. nanoGPT's "baby GPT" for Shakespeare characters (6 layers, 6 heads, 384 wide,
    # context 256, dropout 0.2): 10.7 M parameters, about 1.2 TFLOP a step at batch 64, so ~75 ms a step on a
    # T4 at a quarter of its fp16 peak: 2,500 steps ~3 minutes. nanoGPT reports 1.47 after 5,000 steps; the
    # threshold is a safe bound for half as many, to be tightened once measured.
    "gpu": GPTPreset(
        "gpu", expected_time=T4_TIME, n_layer=6, n_head=6, n_embd=384, block_size=256, dropout=0.2,
        batch_size=64, steps=2500, lr=1e-3, warmup_steps=100, compile=True, eval_every=500, eval_windows=512,
        sample_tokens=500, scale_widths=(64, 128, 256), scale_n_layer=4, scale_steps=500, scale_batch_size=64,
        max_val_loss=1.60,
    ),
    # Not yet run on a GPU: sized for ~3 minutes on one H100/H200 with bf16, flash attention and
    # torch.compile; the threshold is the loss it is sized to reach, to be confirmed once measured.
    "h100": GPTPreset(
        "h100", expected_time=H100_TIME, n_layer=8, n_head=8, n_embd=512, block_size=256, dropout=0.25,
        batch_size=64, steps=5000,
        lr=6e-4, warmup_steps=200, compile=True, eval_every=500, eval_windows=512, sample_tokens=500,
        scale_widths=(64, 128, 256, 384), scale_n_layer=6, scale_steps=1000, scale_batch_size=64,
        max_val_loss=1.45,
    ),
}
