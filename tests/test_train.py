import math

import pytest
import torch
import torch.nn.functional as F

from minissl import train, utils
from minissl.ema import EMA, cosine_momentum


def _problem():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(256, 8, generator=g)
    y = (X[:, 0] + X[:, 1] > 0).long()
    return X, y


def _model():
    return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))


def _batches(X, y):
    def batch(step):  # a function of the step: deterministic and resumable
        idx = torch.randint(0, len(X), (32,), generator=torch.Generator().manual_seed(step))
        return X[idx], y[idx]

    return batch


def _loss(model, batch):
    x, y = batch
    return F.cross_entropy(model(x), y)


def _run(steps=30, **kw):
    utils.seed_everything(0)
    X, y = _problem()
    model = _model()
    history = train.fit(model, _loss, _batches(X, y), steps=steps, lr=1e-2, warmup_steps=5, progress=False, **kw)
    return model, history


def test_fit_learns_and_logs():
    model, history = _run(steps=60, log_every=10)
    assert history.steps["loss"] == [10, 20, 30, 40, 50, 60]
    assert history["loss"][-1] < history["loss"][0]
    assert len(history["lr"]) == 6 and history.seconds > 0


def test_same_seed_same_run_on_cpu():
    m1, h1 = _run()
    m2, h2 = _run()
    assert h1["loss"] == h2["loss"]
    for p, q in zip(m1.parameters(), m2.parameters()):
        assert torch.equal(p, q)


def test_iterable_batches_are_cycled():
    X, y = _problem()
    loader = [(X[i:i + 64], y[i:i + 64]) for i in range(0, 256, 64)]  # 4 batches, 10 steps
    history = train.fit(_model(), _loss, loader, steps=10, progress=False, log_every=5)
    assert history.steps["loss"] == [5, 10]


def test_nan_loss_stops_and_names_the_step():
    X, y = _problem()

    def loss_fn(model, batch):
        loss = _loss(model, batch)
        return loss * float("nan") if loss_fn.calls == 3 else loss

    def counting(model, batch):
        out = loss_fn(model, batch)
        loss_fn.calls += 1
        return out

    loss_fn.calls = 0
    model = _model()
    with pytest.raises(train.TrainingDiverged, match="became nan at step 3"):
        train.fit(model, counting, _batches(X, y), steps=10, progress=False)
    assert all(torch.isfinite(p).all() for p in model.parameters())  # the bad step was never applied


def test_eval_and_after_step_hooks():
    seen = []
    model, history = _run(steps=20, eval_every=10, log_every=10,
                          eval_fn=lambda m: {"acc": 0.5 + 0.0 * m.training},
                          after_step=lambda m, s: seen.append(s))
    assert history.steps["acc"] == [10, 20] and history["acc"] == [0.5, 0.5]
    assert seen == list(range(20))


def test_warmup_cosine_schedule():
    values = [train.warmup_cosine(s, 100, 10, 0.1) for s in range(100)]
    assert values[0] == pytest.approx(0.1) and values[9] == pytest.approx(1.0)
    assert values[10] == pytest.approx(1.0)
    assert values[-1] == pytest.approx(0.1, abs=1e-3)
    assert all(a >= b for a, b in zip(values[10:], values[11:]))
    assert train.warmup_cosine(55, 100, 10, 0.0) == pytest.approx(0.5)


def test_weight_decay_only_on_matrices():
    opt = train.adamw(_model(), lr=1e-3, weight_decay=0.1)
    decay, no_decay = opt.param_groups
    assert all(p.dim() == 2 for p in decay["params"]) and decay["weight_decay"] == 0.1
    assert all(p.dim() == 1 for p in no_decay["params"]) and no_decay["weight_decay"] == 0.0


def test_checkpoint_round_trip(tmp_path):
    model, history = _run()
    path = train.save_checkpoint(tmp_path / "ck.pt", model, step=30, history=history, extra={"note": "x"})
    fresh = _model()
    state = train.load_checkpoint(path, fresh)
    for p, q in zip(model.parameters(), fresh.parameters()):
        assert torch.equal(p, q)
    assert state["step"] == 30 and state["extra"] == {"note": "x"}
    assert train.History.from_state_dict(state["history"])["loss"] == history["loss"]


def test_checkpoint_of_another_model_is_refused(tmp_path):
    path = train.save_checkpoint(tmp_path / "ck.pt", _model())
    expected = r"another model: same class \(Sequential\).*0.bias \(checkpoint \[16\], model \[32\]\)"
    with pytest.raises(train.CheckpointError, match=expected):
        train.load_checkpoint(path, torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.Tanh(),
                                                        torch.nn.Linear(32, 2)))
    with pytest.raises(train.CheckpointError, match="it holds a Sequential, this is a Linear"):
        train.load_checkpoint(path, torch.nn.Linear(8, 2))


def test_bad_checkpoint_files(tmp_path):
    with pytest.raises(train.CheckpointError, match="no checkpoint"):
        train.load_checkpoint(tmp_path / "missing.pt", _model())
    path = train.save_checkpoint(tmp_path / "ck.pt", _model())
    (tmp_path / "cut.pt").write_bytes(path.read_bytes()[:100])
    with pytest.raises(train.CheckpointError, match="not a readable"):
        train.load_checkpoint(tmp_path / "cut.pt", _model())


class _Evil:
    def __reduce__(self):
        return (print, ("code ran",))


def test_checkpoint_loading_runs_no_code(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"model": _Evil(), "signature": {}}, path)
    with pytest.raises(train.CheckpointError, match="not a readable"):
        train.load_checkpoint(path, _model())


def test_failed_save_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    path = train.save_checkpoint(tmp_path / "ck.pt", _model())
    before = path.read_bytes()

    def broken_save(obj, f):
        open(f, "wb").write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(train.torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        train.save_checkpoint(path, _model())
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["ck.pt"]


def test_resume_continues_the_same_run(tmp_path):
    straight, h_straight = _run(steps=20, log_every=5)
    X, y = _problem()
    # a genuinely interrupted run: train 10 of 20 steps, then continue from its checkpoint
    interrupted = tmp_path / "interrupted.pt"
    utils.seed_everything(0)
    m1 = _model()

    def stop_at_10(model, step):
        if step == 9:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train.fit(m1, _loss, _batches(X, y), steps=20, lr=1e-2, warmup_steps=5, progress=False, log_every=5,
                  checkpoint=interrupted, checkpoint_every=5, after_step=stop_at_10)
    m2 = _model()
    h2 = train.fit(m2, _loss, _batches(X, y), steps=20, lr=1e-2, warmup_steps=5, progress=False, log_every=5,
                   checkpoint=interrupted, resume=True)
    assert h2.steps["loss"] == [5, 10, 15, 20]
    assert h2["loss"][2:] == pytest.approx(h_straight["loss"][2:], abs=1e-6)
    for p, q in zip(straight.parameters(), m2.parameters()):
        torch.testing.assert_close(p, q)
    assert not math.isnan(h2.seconds)


def _interrupted_then_resumed(tmp_path, **resume_kw):
    X, y = _problem()
    ck = tmp_path / "ck.pt"
    utils.seed_everything(0)

    def stop_at_10(model, step):
        if step == 9:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train.fit(_model(), _loss, _batches(X, y), steps=20, lr=1e-2, progress=False, checkpoint=ck,
                  checkpoint_every=5, after_step=stop_at_10)
    model = _model()
    train.fit(model, _loss, _batches(X, y), steps=20, lr=1e-2, progress=False, checkpoint=ck, resume=True,
              **resume_kw)
    return ck, model


def test_resume_reads_the_checkpoint_onto_the_cpu_whatever_the_device(tmp_path, monkeypatch):
    """On a GPU, a checkpoint read with map_location=device hands the RNG state back as a CUDA tensor, which
    torch.set_rng_state refuses (the crash of pytorch/ignite#2076). fit reads it onto the CPU (load_state_dict
    then copies weights and optimizer state onto the model's device) and restores CPU ByteTensors."""
    loads, rng_states = [], []
    real_load, real_set = torch.load, torch.set_rng_state

    def spy_load(*args, **kw):
        loads.append(kw.get("map_location"))
        return real_load(*args, **kw)

    def spy_set(state):
        rng_states.append(state)
        return real_set(state)

    monkeypatch.setattr(train.torch, "load", spy_load)
    monkeypatch.setattr(train.torch, "set_rng_state", spy_set)
    _interrupted_then_resumed(tmp_path, device="cpu")
    assert loads == ["cpu"]
    assert len(rng_states) == 1 and rng_states[0].device.type == "cpu" and rng_states[0].dtype == torch.uint8


def test_cuda_generator_states_are_saved_and_restored(tmp_path, monkeypatch):
    """Faked CUDA generators: their states go into the checkpoint and come back on resume (moved to the CPU)."""
    saved = [torch.arange(16, dtype=torch.uint8), torch.arange(16, 32, dtype=torch.uint8)]
    restored = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "get_rng_state_all", lambda: [s.clone() for s in saved])
    monkeypatch.setattr(torch.cuda, "set_rng_state_all", lambda states: restored.append(states))
    ck, _ = _interrupted_then_resumed(tmp_path, device="cpu")
    state = torch.load(ck, weights_only=True)
    assert [torch.equal(a, b) for a, b in zip(state["rng"]["cuda"], saved)] == [True, True]
    assert len(restored) == 1 and all(s.device.type == "cpu" and s.dtype == torch.uint8 for s in restored[0])
    assert [torch.equal(a, b) for a, b in zip(restored[0], saved)] == [True, True]


def test_old_checkpoints_with_a_cpu_rng_state_still_resume():
    before = torch.get_rng_state()
    torch.rand(3)
    train.set_rng_state(before)  # a bare ByteTensor, as checkpoints of minissl 0.1 hold
    assert torch.equal(torch.get_rng_state(), before)


# ---------------------------------------------------------------- resuming from iterables (accelerate#2016)


def _stop_after(n):
    def after_step(model, step):
        if step == n:  # dies during step n + 1, after the checkpoint of step n
            raise KeyboardInterrupt

    return after_step


def _straight_and_resumed(tmp_path, make_batches, steps, stop, model=_model, **kw):
    """The same run straight and interrupted after step ``stop`` then resumed; batches seen, losses, models."""
    runs = []
    for interrupted in (False, True):
        seen, ck = [], tmp_path / f"ck{interrupted}.pt"

        def loss(model, batch, seen=seen):
            seen.append(int(batch[2][0]))
            return _loss(model, batch[:2])

        common = dict(steps=steps, lr=1e-2, progress=False, log_every=1, checkpoint=ck, **kw)
        utils.seed_everything(0)
        m = model()
        if interrupted:
            with pytest.raises(KeyboardInterrupt):
                train.fit(m, loss, make_batches(), checkpoint_every=stop, after_step=_stop_after(stop), **common)
            m = model()
            del seen[stop:]  # the batch of the step that died is trained on again
        h = train.fit(m, loss, make_batches(), resume=True, **common)
        runs.append((seen, h["loss"], m))
    return runs


def test_resume_from_a_list_continues_with_the_same_batches(tmp_path):
    """8 steps over a list of 4 batches, stopped after step 3 and resumed: the batches, losses and weights of
    the straight run (the list used to be replayed from its start, silently)."""
    X, y = _problem()
    loader = [(X[i:i + 64], y[i:i + 64], torch.full((64,), i // 64)) for i in range(0, 256, 64)]
    (seen1, loss1, m1), (seen2, loss2, m2) = _straight_and_resumed(tmp_path, lambda: loader, steps=8, stop=3)
    assert seen1 == [0, 1, 2, 3, 0, 1, 2, 3] and seen2 == seen1
    assert loss2 == loss1
    for p, q in zip(m1.parameters(), m2.parameters()):
        assert torch.equal(p, q)


@pytest.mark.parametrize("shuffle, stop", [(False, 6), (True, 4)])
def test_resume_from_a_dataloader(tmp_path, shuffle, stop):
    """A DataLoader draws from the RNG when iterated (its workers' seed, its shuffle order); with dropout the
    run draws from it too. Exact: without shuffle, even mid-epoch; with shuffle, at an epoch boundary."""
    X, y = _problem()
    data = torch.utils.data.TensorDataset(X, y, torch.arange(256) // 64)

    def dropout_model():
        return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Dropout(0.5), torch.nn.Linear(16, 2))

    (seen1, loss1, m1), (seen2, loss2, m2) = _straight_and_resumed(
        tmp_path, lambda: torch.utils.data.DataLoader(data, batch_size=64, shuffle=shuffle), steps=10, stop=stop,
        model=dropout_model)
    assert seen2 == seen1 and loss2 == loss1
    for p, q in zip(m1.parameters(), m2.parameters()):
        assert torch.equal(p, q)


def test_a_one_shot_iterator_is_not_resumed(tmp_path):
    X, y = _problem()
    ck = tmp_path / "ck.pt"

    def generator():
        for step in range(100):
            yield _batches(X, y)(step)

    with pytest.raises(KeyboardInterrupt):
        train.fit(_model(), _loss, generator(), steps=10, progress=False, checkpoint=ck, checkpoint_every=3,
                  after_step=_stop_after(3))
    with pytest.raises(ValueError, match=r"cannot resume at step 3 from a generator.*batches\(step\)"):
        train.fit(_model(), _loss, generator(), steps=10, progress=False, checkpoint=ck, resume=True)
    with pytest.raises(ValueError, match="batches ran out at step 2"):
        train.fit(_model(), _loss, iter([_batches(X, y)(0)] * 2), steps=10, progress=False)
    with pytest.raises(ValueError, match="batches is empty"):
        train.fit(_model(), _loss, [], steps=10, progress=False)


# ---------------------------------------------------------------- state beside the model (a DINO teacher, a centre)


def _dino_like(tmp_path, stop=None):
    """A student trained by fit, an EMA teacher moved in after_step, a centre updated (in place) in the loss,
    crops drawn from a generator of their own."""
    X, _ = _problem()
    steps, ck = 12, tmp_path / "dino.pt"
    utils.seed_everything(0)
    student = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 6))
    teacher, center, crops = EMA(student), torch.zeros(1, 6), torch.Generator().manual_seed(0)

    def loss_fn(student, x):
        x = x + 0.1 * torch.randn(x.shape, generator=crops)  # an "augmentation" with a generator of its own
        with torch.no_grad():
            t = teacher.model(x)
            target = F.softmax((t - center) / 0.04, dim=-1)
            center.mul_(0.9).add_(0.1 * t.mean(0, keepdim=True))
        return -(target * F.log_softmax(student(x) / 0.1, dim=-1)).sum(-1).mean()

    def after_step(student, step):
        teacher.update(student, cosine_momentum(step, steps, 0.9))
        if step == stop:
            raise KeyboardInterrupt

    run = dict(steps=steps, lr=1e-2, progress=False, log_every=1, checkpoint=ck, checkpoint_every=stop,
               after_step=after_step,
               state={"teacher": teacher, "center": center, "crops": crops})
    batches = _batches(X, X)
    if stop is not None:
        with pytest.raises(KeyboardInterrupt):
            train.fit(student, loss_fn, lambda s: batches(s)[0], **run)
        # as in a fresh process: another student, teacher, centre and generator, all restored from the checkpoint
        student.apply(lambda m: m.reset_parameters() if hasattr(m, "reset_parameters") else None)
        teacher.model.apply(lambda m: m.reset_parameters() if hasattr(m, "reset_parameters") else None)
        center.zero_()
        crops.manual_seed(123)
        stop = None
    history = train.fit(student, loss_fn, lambda s: batches(s)[0], resume=True, **run)
    return student, teacher, center, history


def test_state_beside_the_model_resumes_exactly(tmp_path):
    s1, t1, c1, h1 = _dino_like(tmp_path / "straight")
    s2, t2, c2, h2 = _dino_like(tmp_path / "resumed", stop=5)
    assert h2["loss"] == h1["loss"] and len(h1["loss"]) == 12
    assert torch.equal(c1, c2) and c1.abs().sum() > 0
    for a, b in zip([*s1.parameters(), *t1.model.parameters()], [*s2.parameters(), *t2.model.parameters()]):
        assert torch.equal(a, b)
    state = torch.load(tmp_path / "resumed" / "dino.pt", weights_only=True)
    assert sorted(state["extra"]) == ["center", "crops", "teacher"]


def test_state_must_match_the_checkpoint(tmp_path):
    X, y = _problem()
    ck = tmp_path / "ck.pt"
    run = dict(steps=4, progress=False, checkpoint=ck)
    train.fit(_model(), _loss, _batches(X, y), **run)  # a checkpoint without state
    with pytest.raises(train.CheckpointError, match=r"holds state \[\] beside the model.*given state \['center'\]"):
        train.fit(_model(), _loss, _batches(X, y), resume=True, state={"center": torch.zeros(2)}, **run)
    teacher = _model()
    train.fit(_model(), _loss, _batches(X, y), state=teacher, **{**run, "checkpoint": tmp_path / "t.pt"})
    with pytest.raises(train.CheckpointError, match=r"holds state \['state'\].*given state \[\]"):
        train.fit(_model(), _loss, _batches(X, y), resume=True, **{**run, "checkpoint": tmp_path / "t.pt"})
    with pytest.raises(TypeError, match=r"state\['n'\] is a int"):
        train.fit(_model(), _loss, _batches(X, y), state={"n": 3}, **run)
