"""Preset for the chapter *CLIP: matching pictures with their names* (``notebooks/08_clip.ipynb``): the image and
text encoders, the captions, the training run, and the thresholds the check cells assert."""

from dataclasses import dataclass

from minissl.presets._common import H100_TIME, T4_TIME, cpu_time


@dataclass(frozen=True)
class CLIPPreset:
    name: str
    expected_time: str = cpu_time(210)  # the whole notebook on this machine class
    seed: int = 0
    # data: train on two styles, test on the third; a fixed fifth of the emoji never seen in any style
    train_styles: tuple = ("noto", "twemoji")
    test_style: str = "openmoji"
    unseen_fraction: float = 0.2
    source_size: int = 32  # pictures cropped to their content at this size, then randomly cropped to image_size
    image_size: int = 16
    # image encoder: a small ResNet whose last map is flattened (keeps where each part is)
    widths: tuple = (16, 32, 64)
    depths: tuple = (1, 1, 1)
    # text encoder: word-level tokens, causal transformer blocks pooled at the end-of-text token
    context: int = 24  # longest caption in tokens (name + keywords + end-of-text)
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 96
    embed_dim: int = 128
    max_keywords: int = 3  # a training caption is the name plus 0..max_keywords of its keywords
    # augmentation (light: a drawing's colours and layout are what names it)
    crop_scale: tuple = (0.8, 1.0)
    jitter: float = 0.3  # brightness, contrast, saturation; no hue (a "blue heart" must stay blue)
    # training
    batch_size: int = 256
    steps: int = 800
    lr: float = 2e-3
    weight_decay: float = 0.1
    warmup_steps: int = 40
    eval_every: int = 100
    # checks (fractions): held-out style, image -> name among all emoji; unseen emoji among themselves
    min_r1: float = 0.12
    min_r5: float = 0.26
    min_unseen_r1_over_chance: float = 15.0
    max_unseen_median_rank: float = 60.0


PRESETS = {
    "cpu": CLIPPreset("cpu"),
    # Not yet run on a GPU. 32-px images, a wider encoder and text tower, more steps; the thresholds stay the
    # cpu ones until measured.
    "gpu": CLIPPreset("gpu", expected_time=T4_TIME, source_size=48, image_size=32, widths=(32, 64, 128, 256),
                      depths=(1, 1, 1, 1), n_layer=4, n_embd=256, embed_dim=256, steps=3000, warmup_steps=150,
                      eval_every=500),
    "h100": CLIPPreset("h100", expected_time=H100_TIME, source_size=64, image_size=48, widths=(64, 128, 256, 512),
                       depths=(2, 2, 2, 2), n_layer=6, n_embd=384, n_head=6, embed_dim=256, steps=6000,
                       warmup_steps=300, eval_every=1000),
}
