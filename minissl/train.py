"""One training loop for every chapter: ``fit``.

Introduced in chapter 1, section *Training on rotations*. What it does each step:

1. get a batch (``batches(step)`` or the next item of an iterable), move it to the device;
2. ``loss = loss_fn(model, batch)`` under the device's autocast (:mod:`minissl.precision`: bf16 on GPUs
   that have it, fp16 with a gradient scaler on older ones such as the T4, float32 on the CPU);
3. stop with :class:`TrainingDiverged` if the loss is NaN or infinite (naming the step);
4. backward, clip the gradient norm, AdamW step, learning-rate schedule (linear warm-up, then cosine);
5. ``after_step(model, step)`` for what happens outside the gradient (an EMA teacher, a centre);
6. log the loss every ``log_every`` steps; every ``eval_every`` steps ``eval_fn(model)`` -> metrics in the
   history; every ``checkpoint_every`` steps a checkpoint if asked.

Checkpoints are written to a temporary file and moved into place, and read with
``torch.load(weights_only=True)``: no code runs when a checkpoint is loaded. ``resume=True`` continues the
same run from the last checkpoint: weights, optimizer, schedule, gradient scaler, the random generators (the
CPU's and every CUDA device's) and what ``state=`` names beside the model (a DINO teacher and centre, an EMA).

Which batches a resumed run sees:

* ``batches(step)``: the same as the run without the interruption, if the batch depends on the step and the
  random generators only (a ``torch.Generator`` of its own must be named in ``state=``).
* a re-iterable (a list, a DataLoader): the batches already trained on are skipped, epoch after epoch; exact
  for a list, and for a DataLoader without shuffle or worker processes. A DataLoader draws each epoch's shuffle
  order and its workers' seeds from the RNG as the epoch starts: resumed at an epoch boundary
  (``checkpoint_every`` a multiple of its length) that is exact too; resumed mid-epoch, the rest of that epoch
  is drawn anew. A DataLoader with its own ``generator=`` (which the checkpoint does not hold) is not exact.
* a one-shot iterator (a generator, ``iter(x)``): refused, since the batches already read are gone.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sized
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from minissl.precision import Precision, choose_precision
from minissl.utils import atomic_path

with warnings.catch_warnings():  # tqdm.auto warns when ipywidgets is missing; the text bar is what we want
    warnings.simplefilter("ignore")
    from tqdm.auto import tqdm


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite."""


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used for this model."""


@dataclass
class History:
    """What a run logged: for each metric name, the steps it was logged at and its values.

    ``history.plot()`` draws every metric; ``history["loss"]`` is the list of values.
    """

    steps: dict[str, list[int]] = field(default_factory=dict)
    values: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0  # wall time spent in fit() over the whole run (resumes included)
    precision: str = ""  # how the steps computed, e.g. "bf16 autocast" (minissl.precision)

    def log(self, step: int, **metrics: float) -> None:
        for name, value in metrics.items():
            self.steps.setdefault(name, []).append(int(step))
            self.values.setdefault(name, []).append(float(value))

    def __getitem__(self, name: str) -> list[float]:
        if name not in self.values:
            raise KeyError(f"History: no metric {name!r}; logged metrics are {sorted(self.values)}")
        return self.values[name]

    def last(self, name: str) -> float:
        return self[name][-1]

    def state_dict(self) -> dict:
        return {"steps": self.steps, "values": self.values, "seconds": self.seconds}

    @classmethod
    def from_state_dict(cls, state: dict) -> History:
        return cls(dict(state["steps"]), dict(state["values"]), float(state["seconds"]))

    def plot(self, names=None, ax=None, **kwargs):
        from minissl.plots import plot_history

        return plot_history(self, names=names, ax=ax, **kwargs)


def warmup_cosine(step: int, total_steps: int, warmup_steps: int, min_ratio: float = 0.1) -> float:
    """Learning-rate multiplier: linear from ~0 to 1 over ``warmup_steps``, then cosine down to ``min_ratio``."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def adamw(model: nn.Module, lr: float, weight_decay: float = 0.0, betas=(0.9, 0.95)) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices only (weights of linear and conv layers, embeddings), never on
    biases and normalisation gains: shrinking those towards zero helps nothing."""
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=betas)


def to_device(batch, device: torch.device):
    """Move a tensor, or a tuple/list/dict of tensors, to ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, (tuple, list)):
        return type(batch)(to_device(b, device) for b in batch)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    return batch


def _model_signature(model: nn.Module) -> dict:
    return {"class": type(model).__name__, "shapes": {k: list(v.shape) for k, v in model.state_dict().items()}}


def rng_state() -> dict:
    """The random generators' states: the CPU's, and every CUDA device's when there is one."""
    return {"cpu": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}


def set_rng_state(state) -> None:
    """Restore what :func:`rng_state` returned (or, from older checkpoints, the CPU state alone).

    The states are ``torch.ByteTensor`` s on the CPU. A checkpoint loaded with ``map_location="cuda"`` hands
    them back on the GPU, where ``torch.set_rng_state`` refuses them, so they are moved back first. CUDA
    states are restored only when the machine has as many CUDA devices as the checkpoint saved.
    """
    if isinstance(state, torch.Tensor):
        state = {"cpu": state, "cuda": []}
    torch.set_rng_state(state["cpu"].to("cpu", torch.uint8))
    cuda_states = [s.to("cpu", torch.uint8) for s in state.get("cuda", [])]
    if cuda_states and torch.cuda.is_available() and torch.cuda.device_count() == len(cuda_states):
        torch.cuda.set_rng_state_all(cuda_states)


def save_checkpoint(path, model: nn.Module, optimizer=None, scheduler=None, step: int = 0,
                    history: History | None = None, extra: dict | None = None, scaler=None) -> Path:
    """Write model (+ optimizer, schedule, gradient scaler, step, history, RNG states) atomically to ``path``."""
    state = {
        "model": model.state_dict(),
        "signature": _model_signature(model),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "step": int(step),
        "history": history.state_dict() if history is not None else None,
        "rng": rng_state(),
        "scaler": scaler.state_dict() if scaler is not None else None,
        "extra": extra or {},
    }
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return Path(path)


def load_checkpoint(path, model: nn.Module, optimizer=None, scheduler=None, map_location="cpu",
                    scaler=None) -> dict:
    """Load a checkpoint written by :func:`save_checkpoint` into ``model`` (and optimizer, scheduler, scaler).

    Read with ``weights_only=True``. A checkpoint of another model is refused with the first mismatch.
    Returns the whole state (``step``, ``history``, ``extra``...).
    """
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"load_checkpoint: no checkpoint at {path}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # truncated file, or a pickle that wants more than tensors
        raise CheckpointError(f"load_checkpoint: {path} is not a readable minissl checkpoint ({err})") from err
    if not isinstance(state, dict) or "model" not in state or "signature" not in state:
        raise CheckpointError(f"load_checkpoint: {path} is not a minissl checkpoint (no model/signature)")
    mine, theirs = _model_signature(model), state["signature"]
    if mine != theirs:
        detail = f"it holds a {theirs['class']}, this is a {mine['class']}"
        if theirs["class"] == mine["class"]:
            diff = sorted(k for k in set(mine["shapes"]) | set(theirs["shapes"])
                          if mine["shapes"].get(k) != theirs["shapes"].get(k))
            detail = f"same class ({mine['class']}) but other sizes; first differing tensor: {diff[0]} " \
                     f"(checkpoint {theirs['shapes'].get(diff[0])}, model {mine['shapes'].get(diff[0])})"
        raise CheckpointError(
            f"load_checkpoint: {path} was saved from another model: {detail}. Build the model with the "
            "preset it was trained with, or delete the checkpoint to train from scratch."
        )
    model.load_state_dict(state["model"])
    if optimizer is not None and state["optimizer"] is not None:
        optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None and state["scheduler"] is not None:
        scheduler.load_state_dict(state["scheduler"])
    if scaler is not None and state.get("scaler") is not None:
        scaler.load_state_dict(state["scaler"])
    return state


def _cycle(batches, start: int):
    """Yield the batches of a re-iterable epoch after epoch, from the ``start``-th batch of the run on."""
    skip = start % len(batches) if start else 0  # resumed mid-epoch: the batches of this epoch already done
    while True:
        # Iterating a DataLoader draws from the RNG (its shuffle order, its workers' seeds). Resumed mid-epoch,
        # the run drew this epoch's before the checkpoint: draw it (and load the skipped batches) aside, leaving
        # the RNG as the checkpoint saved it.
        with torch.random.fork_rng(devices=[], enabled=skip > 0):
            epoch = iter(batches)
            for _ in range(skip):
                next(epoch)
        yielded, skip = skip > 0, 0
        for batch in epoch:
            yielded = True
            yield batch
        if not yielded:
            raise ValueError("fit: batches is empty")


def _batch_source(batches, start: int = 0) -> Callable[[int], object]:
    """Turn ``batches`` into ``f(step)`` for a run that starts (or resumes) at step ``start``.

    * a function ``batches(step)``: used as it is;
    * a re-iterable (list, tuple, DataLoader: anything with a length that ``iter()`` reads afresh): cycled
      epoch after epoch; a resumed run skips the ``start`` batches the run already trained on;
    * a one-shot iterator (a generator, ``iter(x)``): read once; a resumed run cannot get its batches back.
    """
    if callable(batches):
        return batches
    if not isinstance(batches, Iterable):
        raise TypeError(f"fit: batches must be a function step -> batch or an iterable, got {type(batches)}")
    if start and (isinstance(batches, Iterator) or not isinstance(batches, Sized)):
        raise ValueError(
            f"fit: cannot resume at step {start} from a {type(batches).__name__}: the batches of the steps already "
            "done cannot be skipped (an iterator is read once; skipping needs a length), so the resumed run would "
            "train on other batches. Pass batches as a function batches(step), or as a list or DataLoader."
        )
    stream = batches if isinstance(batches, Iterator) else _cycle(batches, start)

    def next_batch(step: int):
        try:
            return next(stream)
        except StopIteration:  # only a one-shot iterator runs out
            raise ValueError(f"fit: batches ran out at step {step}; pass a list or DataLoader (cycled), "
                             "or a function batches(step)") from None

    return next_batch


def _named(state) -> dict:
    """``fit(state=...)`` as a dict name -> object (one object is named ``"state"``), checked."""
    named = {} if state is None else dict(state) if isinstance(state, dict) else {"state": state}
    for name, obj in named.items():
        if not isinstance(obj, (torch.Tensor, torch.Generator)) and not hasattr(obj, "load_state_dict"):
            raise TypeError(f"fit: state[{name!r}] is a {type(obj).__name__}; give a tensor (updated in place), "
                            "a torch.Generator, or an object with state_dict() and load_state_dict() (a module, "
                            "an EMA...)")
    return named


def _state_dicts(named: dict) -> dict:
    """What a checkpoint holds of ``fit(state=...)``: tensors as they are, generators' and objects' states."""
    return {name: obj if isinstance(obj, torch.Tensor) else obj.get_state() if isinstance(obj, torch.Generator)
            else obj.state_dict() for name, obj in named.items()}


@torch.no_grad()
def _load_state_dicts(named: dict, saved: dict, path) -> None:
    """Restore ``fit(state=...)`` from a checkpoint's ``extra``: tensors in place, generators, objects."""
    if saved.keys() != named.keys():
        raise CheckpointError(
            f"fit: cannot resume from {path}: it holds state {sorted(saved)} beside the model, but fit was given "
            f"state {sorted(named)}. Pass state= with the names the run that wrote it used (a teacher, a centre...), "
            "or delete the checkpoint to train from scratch."
        )
    for name, obj in named.items():
        if isinstance(obj, torch.Tensor):
            obj.copy_(saved[name])
        elif isinstance(obj, torch.Generator):
            obj.set_state(saved[name])
        else:
            obj.load_state_dict(saved[name])


def _resume(path, model, optimizer, scheduler, scaler, named: dict) -> tuple[int, History]:
    """Load the checkpoint at ``path`` into everything the run holds; return its step and its history.

    Read onto the CPU: ``load_state_dict`` copies weights and optimizer state onto the model's device, and the
    RNG states must be CPU ByteTensors anyway.
    """
    saved = load_checkpoint(path, model, optimizer, scheduler, map_location="cpu", scaler=scaler)
    _load_state_dicts(named, saved.get("extra") or {}, path)
    set_rng_state(saved["rng"])
    return saved["step"], History.from_state_dict(saved["history"])


def _optimizer_step(loss, model, optimizer, scaler, grad_clip) -> None:
    """Backward, clip the global gradient norm, AdamW step."""
    optimizer.zero_grad(set_to_none=True)
    if scaler is None:
        loss.backward()
        if grad_clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
    else:  # fp16: backward through the scaled loss, unscale before clipping; a step with inf grads is skipped
        scaler.scale(loss).backward()
        if grad_clip is not None:
            scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        scaler.step(optimizer)
        scaler.update()


def _evaluate(model, eval_fn, precision) -> dict:
    """``eval_fn(model)`` in eval mode, without gradients, under the run's autocast."""
    model.eval()
    with torch.no_grad(), precision.autocast():
        metrics = eval_fn(model)
    model.train()
    return metrics


def _due(every: int | None, done: int, steps: int) -> bool:
    """True every ``every`` steps (never if None) and at the last step."""
    return bool(every and done % every == 0) or done == steps


def fit(
    model: nn.Module,
    loss_fn: Callable,
    batches,
    *,
    steps: int,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    warmup_steps: int = 0,
    min_lr_ratio: float = 0.1,
    grad_clip: float | None = 1.0,
    optimizer: torch.optim.Optimizer | None = None,
    after_step: Callable[[nn.Module, int], None] | None = None,
    eval_fn: Callable[[nn.Module], dict] | None = None,
    eval_every: int | None = None,
    log_every: int = 10,
    checkpoint: str | Path | None = None,
    checkpoint_every: int | None = None,
    resume: bool = False,
    state=None,
    device: torch.device | str | None = None,
    amp: bool = True,
    precision: Precision | None = None,
    progress: bool = True,
    desc: str = "train",
) -> History:
    """Train ``model`` for ``steps`` optimizer steps and return the :class:`History`.

    Args:
        model: any ``nn.Module``; moved to ``device`` (default: where its parameters are).
        loss_fn: ``loss_fn(model, batch)`` -> scalar loss, or ``(loss, {"name": value, ...})`` to log more.
        batches: ``batches(step)`` -> batch (deterministic and resumable), a re-iterable such as a list or a
            DataLoader (cycled; resumed by skipping the batches done), or a one-shot iterator (not resumable).
        steps: total optimizer steps of the run (a resumed run counts the steps already done).
        lr, weight_decay, warmup_steps, min_lr_ratio: AdamW on matrices + warm-up/cosine schedule
            (ignored for ``optimizer`` if you pass your own; the schedule still applies).
        grad_clip: max global gradient norm (None: no clipping).
        after_step: called as ``after_step(model, step)`` after each optimizer step (EMA teacher, centre).
        eval_fn: ``eval_fn(model)`` -> dict of metrics, run every ``eval_every`` steps and at the end
            (the model is put in eval mode and no gradients are kept).
        log_every: log the training loss (mean since the last log) every this many steps.
        checkpoint: path of the checkpoint file; written every ``checkpoint_every`` steps and at the end.
        resume: continue from ``checkpoint`` if it exists (same model, same optimizer state, same step).
        state: what the run keeps beside the model, checkpointed and restored with it: an object with
            ``state_dict()`` and ``load_state_dict()`` (a teacher module, an :class:`minissl.ema.EMA`), or a
            dict of such objects, of tensors (restored in place, so update them in place: a centre) and of
            ``torch.Generator`` s (the random stream of augmentations).
        amp: mixed precision on CUDA, chosen by :func:`minissl.precision.choose_precision` (bf16 where the
            GPU has it, else fp16 with a gradient scaler); ignored on the CPU, where float32 is faster and exact.
        precision: a :class:`minissl.precision.Precision` to use instead of the automatic choice.
    """
    if steps <= 0:
        raise ValueError(f"fit: steps must be positive, got {steps}")
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.to(device)
    optimizer = optimizer or adamw(model, lr, weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: warmup_cosine(s, steps, warmup_steps, min_lr_ratio)
    )
    precision = precision or choose_precision(device, amp)
    scaler = precision.grad_scaler()  # fp16 only: scales the loss so that small gradients do not underflow
    named = _named(state)
    start, history = 0, History()
    if resume and checkpoint is not None and Path(checkpoint).exists():
        start, history = _resume(checkpoint, model, optimizer, scheduler, scaler, named)
    history.precision = str(precision)
    get_batch = _batch_source(batches, start)

    model.train()
    running, count, t0 = 0.0, 0, time.perf_counter()
    # At most ~20 redraws per run: a notebook executed by the book build keeps every redraw as a line of
    # its output, so a bar redrawn every second would fill the page.
    bar = tqdm(range(start, steps), desc=desc, disable=not progress, initial=start, total=steps,
               mininterval=1.0, miniters=max(1, (steps - start) // 20), dynamic_ncols=True)
    for step in bar:
        batch = to_device(get_batch(step), device)
        with precision.autocast():
            out = loss_fn(model, batch)
        loss, metrics = out if isinstance(out, tuple) else (out, {})
        if not torch.isfinite(loss):
            raise TrainingDiverged(
                f"fit: the loss became {loss.item()} at step {step} (lr {scheduler.get_last_lr()[0]:.2e}); "
                "training stopped. Lower the learning rate, add warm-up, or check the inputs for NaN."
            )
        _optimizer_step(loss, model, optimizer, scaler, grad_clip)
        scheduler.step()
        if after_step is not None:
            after_step(model, step)
        running, count, done = running + loss.item(), count + 1, step + 1
        if _due(log_every, done, steps):
            history.log(done, loss=running / count, lr=scheduler.get_last_lr()[0],
                        **{k: float(v) for k, v in metrics.items()})
            bar.set_postfix(loss=f"{running / count:.4f}", refresh=False)  # shown at the next redraw
            running, count = 0.0, 0
        if eval_fn is not None and _due(eval_every, done, steps):
            history.log(done, **_evaluate(model, eval_fn, precision))
        if checkpoint is not None and _due(checkpoint_every, done, steps):
            history.seconds, t0 = history.seconds + time.perf_counter() - t0, time.perf_counter()
            save_checkpoint(checkpoint, model, optimizer, scheduler, done, history, _state_dicts(named), scaler)
    bar.close()
    history.seconds += time.perf_counter() - t0
    return history
