"""Preset for the chapter *DINO: self-distillation without labels* (``notebooks/07_dino.ipynb``): the ViT and
head sizes, multi-crop, the temperatures and momenta of the loss and the teacher, the main run, the short
collapse runs, and the thresholds the check cells assert."""

from dataclasses import dataclass

from minissl.presets._common import H100_TIME, T4_TIME


@dataclass(frozen=True)
class DINOPreset:
    name: str
    expected_time: str = "not yet timed (a draft chapter)"  # the whole notebook on this machine class
    seed: int = 0
    # data: the first per_file images of each CIFAR-10 batch file (5,000 / 1,000 images); None = every image
    per_file: int | None = 1000
    # ViT: global crops of image_size pixels cut into patch_size patches (16 px / 4 = a 4 x 4 grid on the CPU)
    image_size: int = 16
    patch_size: int = 4
    n_embd: int = 96
    depth: int = 4
    n_head: int = 3
    # DINO head: MLP -> L2-normalised bottleneck -> K weight-normalised prototypes
    out_dim: int = 256
    head_hidden: int = 256
    bottleneck: int = 64
    # multi-crop: 2 global crops (teacher and student) + n_local small crops (student only)
    n_local: int = 2
    local_size: int = 8
    global_scale: tuple = (0.3, 1.0)
    local_scale: tuple = (0.05, 0.3)
    jitter_strength: float = 0.5
    # loss and teacher
    student_temp: float = 0.1
    teacher_temp: float = 0.04
    center_momentum: float = 0.9
    ema_momentum: float = 0.99  # start of the cosine schedule towards 1
    freeze_last_layer_steps: int = 100  # the prototypes stay fixed at first (DINO: one epoch)
    # main run through fit
    batch_size: int = 128
    steps: int = 300
    lr: float = 1e-3
    weight_decay: float = 0.04
    warmup_steps: int = 30
    log_every: int = 10
    eval_every: int = 100
    # short runs of "What goes wrong": no centring, no sharpening
    collapse_steps: int = 60
    no_sharpen_teacher_temp: float = 0.1  # = the student's: the teacher is not sharper
    # evaluation
    knn_k: int = 20
    probe_weight_decay: float = 1e-2
    # checks (accuracies are fractions; chance is 0.10). Measured on the cpu preset while writing: teacher
    # entropy 0.74 ln K with 14 distinct argmax dimensions; teacher k-NN 0.277, probe 0.319 (raw pixels 0.377 /
    # 0.366, random ViT 0.299 / 0.324): the goal "raw pixels + 5 points" is NOT reached on the CPU, and
    # the result check (min_knn_gain, and above the random ViT) fails, on purpose, until a recipe reaches it.
    # No-centring run: entropy 0.25 nats, 4 distinct; no-sharpening run: entropy 0.97 ln K.
    max_entropy_ratio: float = 0.85  # teacher entropy / ln K at the end of the main run (1 = uniform collapse)
    min_distinct: int = 8  # distinct teacher argmax dimensions in the last logged batch
    min_knn_gain: float = 0.05  # the goal: teacher k-NN >= raw-pixel k-NN + 5 points (and > random ViT)
    max_no_centring_entropy_ratio: float = 0.2  # the no-centring run ends below this fraction of ln K ...
    max_no_centring_distinct: int = 6  # ... with at most this many argmax dimensions (one dimension wins)
    min_no_sharpening_entropy_ratio: float = 0.93  # the no-sharpening run ends above this fraction of ln K


PRESETS = {
    "cpu": DINOPreset("cpu"),
    # Not yet run on a GPU. A ViT-Tiny-wide, 6-block ViT on 32-px global crops with 4-px patches (64 tokens),
    # 4 local crops of 16 px, K = 4096, batch 256: ~1 TFLOP a step, so 2,000 steps (10 epochs of full
    # CIFAR-10) take ~2 minutes on a T4 at a quarter of its fp16 peak. Thresholds: the cpu ones until measured.
    "gpu": DINOPreset(
        "gpu", expected_time=T4_TIME, per_file=None, image_size=32, patch_size=4, n_embd=192, depth=6, n_head=3,
        out_dim=4096, head_hidden=1024, bottleneck=256, n_local=4, local_size=16, global_scale=(0.25, 1.0),
        local_scale=(0.05, 0.25), freeze_last_layer_steps=100, batch_size=256, steps=2000, lr=1e-3,
        warmup_steps=200, log_every=50, eval_every=500, collapse_steps=300,
    ),
    # Not yet run on a GPU. ViT-Tiny (192 wide, 12 blocks, 3 heads) on 32-px global crops with 4-px patches
    # (64 tokens), 6 local crops of 16 px, K = 4096, batch 256, bf16 from fit: 10,000 steps are ~51 epochs of
    # full CIFAR-10, estimated at ~15 minutes on one H100. Thresholds: the cpu ones until measured.
    "h100": DINOPreset(
        "h100", expected_time=H100_TIME, per_file=None, image_size=32, patch_size=4, n_embd=192,
        depth=12, n_head=3, out_dim=4096, head_hidden=1024,
        bottleneck=256, n_local=6, local_size=16, global_scale=(0.25, 1.0), local_scale=(0.05, 0.25),
        ema_momentum=0.996, freeze_last_layer_steps=200, batch_size=256, steps=10_000, lr=1e-3,
        warmup_steps=1000, log_every=50, eval_every=1000, collapse_steps=500,
    ),
}
