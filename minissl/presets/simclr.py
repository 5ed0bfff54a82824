"""Preset for the chapter *SimCLR: contrastive learning of images* (``notebooks/06_simclr.ipynb``): encoder
and head sizes, the augmentation strength, the pretraining run, the supervised baselines, the short ablation
runs, and the thresholds the check cells assert."""

from dataclasses import dataclass

from minissl.presets._common import H100_TIME, T4_TIME, cpu_time


@dataclass(frozen=True)
class SimCLRPreset:
    name: str
    expected_time: str = cpu_time(900)  # the whole notebook on this machine class
    seed: int = 0
    # data: the first per_file images of each CIFAR-10 batch file (5 train files, 1 test file), so that the
    # offline subset and a full download give the same 5,000 / 1,000 images; None = every image
    per_file: int | None = 1000
    # encoder: a narrow ResNet with the CIFAR stem; projection head thrown away after training
    widths: tuple = (32, 64, 128)
    depths: tuple = (1, 1, 1)
    proj_hidden: int = 256
    proj_dim: int = 128
    # views: random resized crops resampled to view_size pixels (16 on the CPU: 4x fewer pixels than 32)
    view_size: int = 16
    crop_scale: tuple = (0.25, 1.0)  # area fraction of a crop; 0.08 (the paper's) is too harsh for 16-px views
    jitter_strength: float = 0.5
    blur_p: float = 0.0
    # pretraining with NT-Xent through fit
    batch_size: int = 128
    steps: int = 900
    lr: float = 6e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 20
    temperature: float = 0.1
    eval_every: int = 100
    channels_last: bool = False  # channels-last tensors (faster convolutions on a GPU)
    compile: bool = False  # torch.compile the model where minissl.precision.compile_supported (GPU >= sm_80)
    # evaluation
    knn_k: int = 20
    probe_weight_decays: tuple = (1e-3, 1e-2, 1e-1)  # chosen per feature set on a held-out 20% of train
    label_budgets: tuple = (10, 100, None)  # labels per class; None = every training label
    tsne_points: int = 1000  # test images in the t-SNE picture (its cost grows with the square of this)
    # supervised from scratch (same encoder + a linear layer, crop + flip augmentation)
    sup_steps: int = 150  # with 10 or 100 labels per class (many epochs of so few images)
    sup_steps_all: int = 900  # with every label (cpu: as many steps as the SimCLR pre-training)
    sup_batch_size: int = 128
    sup_lr: float = 3e-3
    # AdamW weight decay of the supervised network, chosen like the probe's penalty: trained on 4/5 of every
    # training label, the best of 5e-4, 5e-3, 5e-2 on the held-out fifth (cpu: 53.2%, 53.1%, 54.2%, tested at
    # 16 px like the training crops); within that range it moves the test accuracy by about a point
    sup_weight_decay: float = 5e-2
    # short runs: augmentation ablation, temperature, batch size
    short_steps: int = 60
    ablation_temperatures: tuple = (0.05, 0.1, 0.5)
    ablation_batch_sizes: tuple = (16, 128)
    # checks (accuracies are fractions): SSL features beat raw pixels by these margins on the test set
    min_knn_gain: float = 0.08
    min_probe_gain: float = 0.08
    min_knn_acc: float = 0.0  # an absolute floor for the k-NN accuracy (the h100 run's headline)


PRESETS = {
    "cpu": SimCLRPreset("cpu"),
    # Not yet run on a GPU. All of CIFAR-10, a 4-stage ResNet one block deep (1.2 M parameters) on 32-px
    # views: 0.38 GFLOP per view for forward + backward, ~0.2 TFLOP a step at batch 256, so 3,000 steps
    # (15 epochs) take ~1 minute on a T4 at a quarter of its fp16 peak and every training run of the notebook
    # together ~4 minutes. The thresholds are the cpu ones until measured.
    "gpu": SimCLRPreset(
        "gpu", expected_time=T4_TIME, per_file=None, widths=(32, 64, 128, 256), depths=(1, 1, 1, 1),
        proj_hidden=512, proj_dim=128, view_size=32, crop_scale=(0.2, 1.0), batch_size=256, steps=3000,
        lr=3e-3, warmup_steps=150, temperature=0.2, eval_every=500, channels_last=True, compile=True,
        ablation_temperatures=(0.05, 0.2, 1.0), sup_steps=500, sup_steps_all=3000, sup_batch_size=256,
        sup_lr=3e-3, short_steps=300, ablation_batch_sizes=(32, 256), tsne_points=2000,
    ),
    # Not yet run on a GPU. ResNet-18 with the CIFAR stem on 32-px views, batch 512, bf16 (from fit),
    # channels-last, torch.compile; augmentations run on the GPU. Sized for ~15 minutes of pretraining on
    # full CIFAR-10 on one H100 (~100 epochs of 50,000 images); the k-NN floor is the accuracy it is sized to
    # reach, to be confirmed once measured.
    "h100": SimCLRPreset(
        "h100", expected_time=H100_TIME, per_file=None, min_knn_acc=0.85, tsne_points=2000,
        widths=(64, 128, 256, 512), depths=(2, 2, 2, 2), proj_hidden=2048, proj_dim=128, view_size=32,
        crop_scale=(0.08, 1.0), ablation_temperatures=(0.05, 0.2, 1.0),
        batch_size=512, steps=10_000, lr=2e-3, weight_decay=1e-4, warmup_steps=500, temperature=0.2,
        eval_every=1000, channels_last=True, compile=True, sup_steps=3000, sup_steps_all=5000, sup_batch_size=256,
        sup_lr=2e-3, short_steps=1500, ablation_batch_sizes=(32, 512),
    ),
}
