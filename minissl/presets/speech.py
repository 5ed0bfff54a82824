"""Preset for the chapter on self-supervised speech features (``notebooks/09_speech.ipynb``): the log-mel front
end, the units, the masked-prediction encoder, the probes, and the thresholds the check cells assert."""

from dataclasses import dataclass

from minissl.presets._common import H100_TIME, T4_TIME, cpu_time


@dataclass(frozen=True)
class SpeechPreset:
    name: str
    expected_time: str = cpu_time(330)  # the whole notebook on this machine class
    seed: int = 0
    test_speaker: str = "george"  # never heard in pretraining, never labelled; the other five are
    # log-mel front end: 32-ms frames every 10 ms at 8 kHz, 40 bands
    n_fft: int = 256
    hop_length: int = 80
    n_mels: int = 40
    # units: k-means over the five speakers' log-mel frames (HuBERT's first iteration)
    n_units: int = 100
    # masked prediction
    mask_prob: float = 0.3
    mask_span: int = 5
    n_embd: int = 128
    n_layer: int = 2
    n_head: int = 4
    batch_size: int = 64
    length_jitter: float = 8.0  # frames of noise on each length before batches of similar length are cut
    steps: int = 1000
    lr: float = 2e-3
    warmup_steps: int = 50
    # evaluation: probes on few labels of the five speakers, tested on the sixth
    pool_bins: int = 8
    label_budgets: tuple = (1, 5, 20)  # labels per digit
    label_draws: int = 3
    sup_steps: int = 200  # the same encoder trained from scratch on the 5-per-digit labels
    # checks (fractions), at 5 labels per digit, mean over the label draws
    min_gain_over_logmel: float = 0.05
    min_gain_over_untrained: float = 0.10


PRESETS = {
    "cpu": SpeechPreset("cpu"),
    # Not yet run on a GPU: a wider, deeper encoder trained longer; the thresholds stay the cpu ones.
    "gpu": SpeechPreset("gpu", expected_time=T4_TIME, n_embd=256, n_layer=4, steps=4000, batch_size=128,
                        warmup_steps=200),
    "h100": SpeechPreset("h100", expected_time=H100_TIME, n_embd=384, n_layer=6, n_head=6, steps=8000,
                         batch_size=256, warmup_steps=400),
}
