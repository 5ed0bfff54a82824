"""Training speed of minissl's GPT against the GPT of commit dab5c72, side by side: tokens/second, ms/step.

Default sizes: the nanoGPT CPU recipe (4 layers, 4 heads, width 128, context 64, batch 12) on Tiny
Shakespeare characters, float32 on the CPU (bf16 autocast on CUDA, where MFU and peak memory are printed
too). Both models start from the same seed and see the same batches; their timed repeats alternate (A B, B A,
...), so a load change on a shared machine hits both, and the ratio is the median of per-repeat ratios.
The baseline is a frozen copy of the dab5c72 code (``benchmarks/gpt_dab5c72.py``). Run on demand, e.g.

    python benchmarks/gpt_train.py                      # CPU, default sizes
    python benchmarks/gpt_train.py --n-layer 6 --n-embd 384 --block-size 256 --batch-size 64 --compile

Not collected by pytest: speed depends on the machine.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

import torch

from minissl.data import tiny_shakespeare
from minissl.models import GPT
from minissl.text import CharTokenizer, next_token_batches
from minissl.train import adamw
from minissl.utils import count_parameters, device, seed_everything

sys.path.insert(0, str(Path(__file__).parent))
import gpt_dab5c72  # noqa: E402  (the frozen baseline, beside this file)

PEAK_BF16_FLOPS = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L4": 121e12, "T4": 65e12}


def peak_flops(dev: torch.device) -> float | None:
    if dev.type != "cuda":
        return None
    name = torch.cuda.get_device_name(dev)
    return next((f for key, f in PEAK_BF16_FLOPS.items() if key in name), None)


def sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize()


class Run:
    """One model, its optimizer and its own step counter over the shared batches."""

    def __init__(self, name, gpt_class, make_optimizer, args, vocab_size, batches, dev):
        seed_everything(0)
        self.name, self.batches, self.dev, self.step = name, batches, dev, 0
        self.model = gpt_class(vocab_size, args.block_size, args.n_layer, args.n_head, args.n_embd).to(dev)
        self.opt = make_optimizer(self.model, 1e-3, 0.1)
        self.step_model = torch.compile(self.model) if args.compile else self.model
        self.autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=dev.type == "cuda")
        self.rates, self.loss = [], float("nan")

    def train(self, steps: int) -> float:
        """``steps`` training steps; returns their wall time in seconds."""
        sync(self.dev)
        t0 = time.perf_counter()
        for _ in range(steps):
            x, y = (t.to(self.dev, non_blocking=True) for t in self.batches(self.step))
            with self.autocast:
                _, loss = self.step_model(x, y)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
            self.opt.step()
            self.step += 1
        self.loss = loss.item()  # waits for the GPU
        return time.perf_counter() - t0


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n-layer", type=int, default=4)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--n-embd", type=int, default=128)
    p.add_argument("--block-size", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=12)
    p.add_argument("--steps", type=int, default=10, help="timed steps per repeat and model")
    p.add_argument("--repeats", type=int, default=15, help="timed repeats per model, alternating the models")
    p.add_argument("--warmup", type=int, default=10, help="untimed steps first (compilation, allocator)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--device", default=None)
    p.add_argument("--compile", action="store_true", help="torch.compile the models")
    args = p.parse_args(argv)

    if args.threads:
        torch.set_num_threads(args.threads)
    dev = device(args.device)
    text = tiny_shakespeare()
    tok = CharTokenizer.train(text)
    data = torch.tensor(tok.encode(text), dtype=torch.long)
    batches = next_token_batches(data, args.block_size, args.batch_size, seed=0)
    runs = [Run("minissl", GPT, adamw, args, tok.vocab_size, batches, dev),
            Run("dab5c72", gpt_dab5c72.GPT, gpt_dab5c72.adamw, args, tok.vocab_size, batches, dev)]
    for run in runs:
        run.train(args.warmup)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    tokens = args.steps * args.batch_size * args.block_size
    c0 = time.process_time()
    for r in range(args.repeats):
        for run in runs if r % 2 == 0 else runs[::-1]:
            run.rates.append(tokens / run.train(args.steps))
    cpu = time.process_time() - c0

    model = runs[0].model
    where = torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"{torch.get_num_threads()} threads"
    print(f"device {dev} ({where}), torch {torch.__version__}, python {sys.version.split()[0]}")
    print(f"model: {count_parameters(model) / 1e6:.2f} M parameters, n_layer={args.n_layer} n_head={args.n_head} "
          f"n_embd={args.n_embd} block_size={args.block_size} batch_size={args.batch_size}"
          f"{' compiled' if args.compile else ''}; {args.repeats} repeats x {args.steps} steps per model, "
          f"alternating (process_time {cpu:.1f} s)")
    for run in runs:
        rate = statistics.median(run.rates)
        print(f"{run.name}: median {rate:,.0f} tokens/s ({1000 * args.batch_size * args.block_size / rate:.1f} "
              f"ms/step; repeats {', '.join(f'{r:,.0f}' for r in run.rates)}), last loss {run.loss:.4f}")
    ratios = [a / b for a, b in zip(runs[0].rates, runs[1].rates)]
    print(f"ratio minissl / dab5c72: median {statistics.median(ratios):.3f} "
          f"(per repeat {', '.join(f'{r:.2f}' for r in ratios)})")
    if dev.type == "cuda":
        print(f"peak memory: {torch.cuda.max_memory_allocated(dev) / 2**20:.0f} MiB (CUDA allocated, both models)")
        peak = peak_flops(dev)
        achieved = model.flops_per_token(args.block_size) * statistics.median(runs[0].rates)
        mfu = (f"MFU {100 * achieved / peak:.1f}% of {peak / 1e12:.0f} TFLOP/s bf16" if peak
               else "MFU: unknown GPU")
        print(f"minissl model FLOPs: {achieved / 1e12:.1f} TFLOP/s, {mfu}")
    else:
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory: {rss:.0f} MiB (process max RSS, both models)")


if __name__ == "__main__":
    main()
