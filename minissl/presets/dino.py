"""Preset for the chapter *DINO: self-distillation without labels* (``notebooks/07_dino.ipynb``): the crops, the
DINO head, the temperatures and momenta of the loss and the teacher, the main run on the SimCLR chapter's
ResNet, the race with SimCLR, the short Vision Transformer run, the collapse runs, and the thresholds the
check cells assert."""

from dataclasses import dataclass

from minissl.presets._common import H100_TIME, T4_TIME, cpu_time


@dataclass(frozen=True)
class DINOPreset:
    name: str
    expected_time: str = cpu_time(720)  # the whole notebook on this machine class
    seed: int = 0
    # data: the first per_file images of each CIFAR-10 batch file (5,000 / 1,000 images); None = every image
    per_file: int | None = 1000
    # backbone of the main run: the SimCLR chapter's ResNet. It reads any image size, so it trains on small
    # crops (more steps a minute) and is evaluated on whole 32-px images
    widths: tuple = (32, 64, 128)
    depths: tuple = (1, 1, 1)
    # multi-crop: 2 global crops (teacher and student) + n_local small crops (student only)
    global_size: int = 16
    local_size: int = 8
    n_local: int = 4
    global_scale: tuple = (0.4, 1.0)  # DINO's defaults (area fractions of the image)
    local_scale: tuple = (0.05, 0.4)
    jitter_strength: float = 0.5
    # DINO head: MLP with BatchNorm -> L2-normalised bottleneck -> K weight-normalised prototypes
    out_dim: int = 2048
    head_hidden: int = 512
    bottleneck: int = 128
    head_batch_norm: bool = True
    # loss and teacher
    student_temp: float = 0.1
    teacher_temp: float = 0.04
    center_momentum: float = 0.9
    ema_momentum: float = 0.96  # start of the cosine schedule towards 1
    freeze_last_layer_steps: int = 0  # the paper freezes the prototypes for its first epoch; not in a short run
    # main run through fit (AdamW)
    batch_size: int = 64
    steps: int = 1600
    lr: float = 2e-3
    weight_decay: float = 0.04
    warmup_steps: int = 100
    log_every: int = 20
    eval_every: int = 200  # k-NN of the teacher along training: DINO's curve of the race
    # the race: SimCLR (the SimCLR chapter's recipe) with the same ResNet and batch, for as many steps as take
    # about as long as DINO's main run on this machine class (a SimCLR step reads 2 views, a DINO step 2 + n_local
    # and the teacher's 2)
    race_simclr_steps: int = 4200
    race_eval_every: int = 600
    # the Vision Transformer: global crops cut into patch_size patches (16 px / 4 = a 4 x 4 grid on the CPU),
    # trained with the same DINO recipe for vit_steps
    patch_size: int = 4
    n_embd: int = 96
    depth: int = 4
    n_head: int = 3
    vit_steps: int = 400
    # short runs of "What goes wrong": no centring, no sharpening
    collapse_steps: int = 60
    no_sharpen_teacher_temp: float = 0.1  # = the student's: the teacher is not sharper
    # evaluation
    knn_k: int = 20
    probe_weight_decays: tuple = (1e-3, 1e-2, 1e-1)  # chosen per feature set on a held-out 20% of train
    # checks (accuracies are fractions; chance is 0.10)
    max_entropy_ratio: float = 0.85  # teacher entropy / ln K at the end of the main run (1 = uniform collapse)
    min_distinct: int = 8  # distinct teacher argmax dimensions in the last logged batch
    min_probe_gain: float = 0.05  # the teacher's linear probe >= the raw pixels' probe + this
    min_knn_gain: float = 0.0  # the teacher's k-NN >= the raw pixels' k-NN + this
    min_gain_over_random: float = 0.05  # both >= the untrained ResNet's + this
    max_no_centring_entropy_ratio: float = 0.2  # the no-centring run ends below this fraction of ln K ...
    max_no_centring_distinct: int = 6  # ... with at most this many argmax dimensions (one dimension wins)
    min_no_sharpening_entropy_ratio: float = 0.93  # the no-sharpening run ends above this fraction of ln K


PRESETS = {
    "cpu": DINOPreset("cpu"),
    # Not yet run on a GPU. All of CIFAR-10; the ResNet of the SimCLR chapter's gpu preset on 32-px global
    # crops and 4 local crops of 16 px, K = 4096, batch 256: 4,000 steps are 20 epochs. The ViT is ViT-Tiny
    # wide (192), 6 blocks, 4-px patches of 32-px crops (64 tokens). Thresholds: the cpu ones until measured.
    "gpu": DINOPreset(
        "gpu", expected_time=T4_TIME, per_file=None, widths=(32, 64, 128, 256), depths=(1, 1, 1, 1),
        global_size=32, local_size=16, n_local=4,
        out_dim=4096, head_hidden=1024, bottleneck=256, batch_size=256, steps=4000, lr=2e-3, warmup_steps=200,
        log_every=50, eval_every=500, race_simclr_steps=8000, race_eval_every=1000,
        n_embd=192, depth=6, n_head=3, vit_steps=2000, collapse_steps=200,
    ),
    # Not yet run on a GPU. ResNet-18 with the CIFAR stem and ViT-Tiny (192 wide, 12 blocks, 3 heads) on
    # 32-px global crops, 6 local crops of 16 px, K = 4096, batch 256, bf16 from fit: 10,000 steps are ~51
    # epochs of full CIFAR-10, sized at ~15 minutes each on one H100. Thresholds: the cpu ones until measured;
    # k-NN >= 80% is the aim of this preset.
    "h100": DINOPreset(
        "h100", expected_time=H100_TIME, per_file=None, widths=(64, 128, 256, 512), depths=(2, 2, 2, 2),
        global_size=32, local_size=16, n_local=6,
        out_dim=4096, head_hidden=2048, bottleneck=256, ema_momentum=0.996, batch_size=256, steps=10_000,
        lr=2e-3, warmup_steps=1000, log_every=50, eval_every=1000, race_simclr_steps=20_000,
        race_eval_every=2000, n_embd=192, depth=12, n_head=3, vit_steps=10_000,
        collapse_steps=500,
    ),
}
