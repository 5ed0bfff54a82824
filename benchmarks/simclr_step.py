"""Images per second of a SimCLR training step (two augmented views, forward, backward, AdamW) per preset.

Run on demand: ``python benchmarks/simclr_step.py [cpu|gpu] [--steps 10]``. Uses random images of the
preset's input size and the chapter's step: the preset's crop scale, channels-last tensors and
``torch.compile`` where the preset asks for them, bf16 autocast on CUDA. Reports images/second (each
image = two views) and the share of time spent augmenting.
"""

from __future__ import annotations

import argparse
import time

import torch

from minissl import presets
from minissl.augment import SimCLRAugment
from minissl.losses import nt_xent
from minissl.models import SimCLR
from minissl.nn import ResNet
from minissl.train import adamw
from minissl.utils import device, seed_everything


def sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset", nargs="?", default=None, help="cpu or gpu (default: by machine)")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    P = presets.get("simclr", args.preset)
    dev = device()
    generator = seed_everything(P.seed)
    model = SimCLR(ResNet(P.widths, P.depths), P.proj_hidden, P.proj_dim).to(dev)
    if P.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = adamw(model, P.lr, P.weight_decay)
    trained = torch.compile(model) if P.compile else model  # the first (warm-up) steps pay for compiling
    aug = SimCLRAugment(size=P.view_size, crop_scale=P.crop_scale, jitter_strength=P.jitter_strength,
                        blur_p=P.blur_p)
    images = torch.rand(P.batch_size, 3, 32, 32, device=dev)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=dev.type == "cuda")
    gen = torch.Generator(device=dev).manual_seed(P.seed) if dev.type == "cuda" else generator

    def step() -> tuple[float, float]:
        t0 = time.perf_counter()
        views = torch.cat(aug.two_views(images, gen))
        if P.channels_last:
            views = views.contiguous(memory_format=torch.channels_last)
        sync(dev)
        t1 = time.perf_counter()
        with autocast:
            z1, z2 = trained(views).chunk(2)
            loss = nt_xent(z1, z2, P.temperature)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        sync(dev)
        return t1 - t0, time.perf_counter() - t0

    for _ in range(args.warmup):
        step()
    aug_s = total_s = 0.0
    cpu0 = time.process_time()
    for _ in range(args.steps):
        a, t = step()
        aug_s, total_s = aug_s + a, total_s + t
    cpu_s = time.process_time() - cpu0
    n = P.batch_size * args.steps
    print(f"preset {P.name} on {dev} ({torch.get_num_threads()} CPU threads): ResNet widths {P.widths} "
          f"depths {P.depths}, views {P.view_size} px (crop scale {P.crop_scale}), batch {P.batch_size} images "
          f"(x2 views), channels-last {P.channels_last}, compile {P.compile}")
    print(f"  {n / total_s:,.0f} images/s wall ({total_s / args.steps * 1000:.0f} ms/step, "
          f"augmentation {100 * aug_s / total_s:.0f}% of it); {n / cpu_s:,.0f} images per CPU-second")


if __name__ == "__main__":
    main()
