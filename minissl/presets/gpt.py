"""Preset for the chapter *GPT from the blocks* (``notebooks/04_gpt.ipynb``): the main run, sampling, the
small scale study, and the validation-loss threshold the check cell asserts."""

from dataclasses import dataclass


@dataclass(frozen=True)
class GPTPreset:
    name: str
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
    compile: bool = False  # torch.compile the model (worth it on a GPU)
    eval_every: int = 200
    eval_windows: int = 1024  # fixed validation windows of block_size characters (65k characters)
    # sampling
    sample_tokens: int = 300
    # scale study: a few short runs of growing width (same depth, steps, data)
    scale_widths: tuple = (32, 64, 96)
    scale_n_layer: int = 2
    scale_steps: int = 120
    scale_batch_size: int = 16
    # check: the target. Measured 1.707 (256 windows) / 1.722 (1024 windows) after 1000 steps,
    # 180 s of single-thread CPU time; later, 1024 windows, 2 threads: 1.742 in the executed notebook (78 s
    # wall), 1.727-1.736 for lr 8e-3, min_lr_ratio 0.02 or 3 x 160 wide (other inits). A thin margin: the
    # recipe is at its limit at this wall time. nanoGPT's CPU recipe measured here: see the chapter.
    max_val_loss: float = 1.75


PRESETS = {
    "cpu": GPTPreset("cpu"),
    # Untested here (no GPU while writing): sized for ~3 minutes on one H100/H200 with bf16, flash
    # attention and torch.compile.
    "gpu": GPTPreset(
        "gpu", n_layer=8, n_head=8, n_embd=512, block_size=256, dropout=0.25, batch_size=64, steps=5000,
        lr=6e-4, warmup_steps=200, compile=True, eval_every=500, eval_windows=512, sample_tokens=500,
        scale_widths=(64, 128, 256, 384), scale_n_layer=6, scale_steps=1000, scale_batch_size=64,
        max_val_loss=1.45,
    ),
}
