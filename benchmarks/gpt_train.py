"""Training speed of minissl's GPT: tokens/second, ms/step, peak memory (and MFU on CUDA).

Default sizes: the nanoGPT CPU recipe (4 layers, 4 heads, width 128, context 64, batch 12) on Tiny
Shakespeare characters. Run on demand, e.g.

    python benchmarks/gpt_train.py                      # CPU, default sizes
    python benchmarks/gpt_train.py --n-layer 6 --n-embd 384 --block-size 256 --batch-size 64 --compile

Not collected by pytest: speed depends on the machine.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import torch

from minissl.data import tiny_shakespeare
from minissl.models import GPT
from minissl.text import CharTokenizer, next_token_batches
from minissl.train import adamw
from minissl.utils import count_parameters, device, seed_everything

PEAK_BF16_FLOPS = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L4": 121e12, "T4": 65e12}


def peak_flops(dev: torch.device) -> float | None:
    if dev.type != "cuda":
        return None
    name = torch.cuda.get_device_name(dev)
    return next((f for key, f in PEAK_BF16_FLOPS.items() if key in name), None)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n-layer", type=int, default=4)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--n-embd", type=int, default=128)
    p.add_argument("--block-size", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=12)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--warmup", type=int, default=10, help="untimed steps first (compilation, allocator)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--device", default=None)
    p.add_argument("--compile", action="store_true", help="torch.compile the model")
    args = p.parse_args(argv)

    if args.threads:
        torch.set_num_threads(args.threads)
    dev = device(args.device)
    seed_everything(0)
    text = tiny_shakespeare()
    tok = CharTokenizer.train(text)
    data = torch.tensor(tok.encode(text), dtype=torch.long)
    batches = next_token_batches(data, args.block_size, args.batch_size, seed=0)
    model = GPT(tok.vocab_size, args.block_size, args.n_layer, args.n_head, args.n_embd).to(dev)
    opt = adamw(model, 1e-3, 0.1)
    step_model = torch.compile(model) if args.compile else model
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=dev.type == "cuda")

    def train_step(step: int) -> float:
        x, y = (t.to(dev, non_blocking=True) for t in batches(step))
        with autocast:
            _, loss = step_model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss

    for s in range(args.warmup):
        train_step(s)
    if dev.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t0, c0 = time.perf_counter(), time.process_time()
    for s in range(args.warmup, args.warmup + args.steps):
        loss = train_step(s)
    loss = loss.item()  # waits for the GPU
    if dev.type == "cuda":
        torch.cuda.synchronize()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    tokens = args.steps * args.batch_size * args.block_size
    where = torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"{torch.get_num_threads()} threads"
    print(f"device {dev} ({where}), torch {torch.__version__}, python {sys.version.split()[0]}")
    print(f"model: {count_parameters(model) / 1e6:.2f} M parameters, n_layer={args.n_layer} "
          f"n_head={args.n_head} "
          f"n_embd={args.n_embd} block_size={args.block_size} batch_size={args.batch_size}"
          f"{' compiled' if args.compile else ''}")
    print(f"{args.steps} steps: {1000 * wall / args.steps:.1f} ms/step, {tokens / wall:,.0f} tokens/s "
          f"(process_time {cpu:.1f} s for {wall:.1f} s wall), last loss {loss:.3f}")
    if dev.type == "cuda":
        print(f"peak memory: {torch.cuda.max_memory_allocated(dev) / 2**20:.0f} MiB (CUDA allocated)")
        peak = peak_flops(dev)
        achieved = model.flops_per_token(args.block_size) * tokens / wall
        mfu = (f"MFU {100 * achieved / peak:.1f}% of {peak / 1e12:.0f} TFLOP/s bf16" if peak
               else "MFU: unknown GPU")
        print(f"model FLOPs: {achieved / 1e12:.1f} TFLOP/s, {mfu}")
    else:
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory: {rss:.0f} MiB (process max RSS)")


if __name__ == "__main__":
    main()
