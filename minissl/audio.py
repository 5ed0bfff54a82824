"""Sound as numbers: the short-time Fourier transform, the mel filterbank and log-mel spectrograms.

Built in the chapter *Speech: features from the sound itself* (``notebooks/09_speech.ipynb``), section
*Sound as numbers*. A waveform ``x`` of T
samples becomes a sequence of frames: every ``hop_length`` samples, a window of ``n_fft`` samples is multiplied
by a Hann window and Fourier-transformed,

    X[f, t] = sum_n  w[n] x[t * hop + n] exp(-2 pi i f n / n_fft),        f = 0 .. n_fft / 2

(the signal is first padded by ``n_fft // 2`` reflected samples on both sides, so frame t is centred on sample
``t * hop``, as ``torch.stft(center=True)`` does). The power ``|X|^2`` is then pooled by triangular filters
spaced evenly on the mel scale, which follows the ear's resolution (fine at low frequencies, coarse at high
ones), and its logarithm taken: the log-mel spectrogram ``(n_mels, frames)`` speech models start from.

The mel scale and the filters are Slaney's (the Auditory Toolbox, 1998), as in librosa's defaults: linear below
1 kHz, logarithmic above, each filter normalised to unit area.
"""

from __future__ import annotations

import math

import torch


def hann_window(n: int, dtype=torch.float32) -> torch.Tensor:
    """The periodic Hann window ``(n,)``: ``0.5 - 0.5 cos(2 pi k / n)``, the one ``torch.stft`` uses for STFTs."""
    k = torch.arange(n, dtype=torch.float64)
    return (0.5 - 0.5 * torch.cos(2 * math.pi * k / n)).to(dtype)


def stft(x: torch.Tensor, n_fft: int = 256, hop_length: int = 80) -> torch.Tensor:
    """Complex STFT, ``(..., T)`` -> ``(..., n_fft // 2 + 1, frames)`` with ``frames = 1 + T // hop_length``.

    Equal to ``torch.stft(x, n_fft, hop_length, window=hann_window(n_fft), center=True, pad_mode="reflect",
    return_complex=True)``.

    Raises:
        ValueError: a signal shorter than ``n_fft // 2 + 1`` samples (reflection padding needs that many).
    """
    if x.size(-1) <= n_fft // 2:
        raise ValueError(f"stft: the signal has {x.size(-1)} samples; it needs more than n_fft // 2 = {n_fft // 2}")
    pad = n_fft // 2
    shape = x.shape[:-1]
    padded = torch.nn.functional.pad(x.reshape(-1, 1, x.size(-1)), (pad, pad), mode="reflect").squeeze(1)
    frames = padded.unfold(-1, n_fft, hop_length)  # (B, frames, n_fft): window t starts at sample t * hop
    spectrum = torch.fft.rfft(frames * hann_window(n_fft, x.dtype).to(x.device), dim=-1)  # (B, frames, n_fft/2+1)
    return spectrum.transpose(-1, -2).reshape(*shape, n_fft // 2 + 1, -1)


def hz_to_mel(f):
    """Slaney's mel scale: ``3 f / 200`` below 1 kHz, then ``15 + 27 ln(f / 1000) / ln 6.4``."""
    f = torch.as_tensor(f, dtype=torch.float64)
    return torch.where(f < 1000, 3 * f / 200, 15 + 27 * torch.log(f.clamp(min=1e-10) / 1000) / math.log(6.4))


def mel_to_hz(m):
    """The inverse of :func:`hz_to_mel`."""
    m = torch.as_tensor(m, dtype=torch.float64)
    return torch.where(m < 15, 200 * m / 3, 1000 * torch.exp((m - 15) * math.log(6.4) / 27))


def mel_filterbank(n_mels: int, n_fft: int, sample_rate: float, f_min: float = 0.0,
                   f_max: float | None = None) -> torch.Tensor:
    """Triangular filters ``(n_mels, n_fft // 2 + 1)`` on the mel scale, each of unit area (Slaney's norm).

    Filter m rises from the (m)-th to the (m+1)-th of ``n_mels + 2`` frequencies evenly spaced in mel between
    ``f_min`` and ``f_max`` (default: half the sample rate) and falls to the (m+2)-th. Equal to
    ``librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=f_min, fmax=f_max)``.
    """
    f_max = sample_rate / 2 if f_max is None else f_max
    if not 0 <= f_min < f_max <= sample_rate / 2:
        raise ValueError(f"mel_filterbank: need 0 <= f_min < f_max <= sample_rate / 2, got f_min={f_min}, "
                         f"f_max={f_max}, sample_rate={sample_rate}")
    bins = torch.linspace(0, sample_rate / 2, n_fft // 2 + 1, dtype=torch.float64)  # (F,) each FFT bin's Hz
    edges = mel_to_hz(torch.linspace(float(hz_to_mel(f_min)), float(hz_to_mel(f_max)), n_mels + 2,
                                     dtype=torch.float64))  # (n_mels + 2,) in Hz
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]  # (n_mels, 1) each
    rising = (bins - lower) / (centre - lower)
    falling = (upper - bins) / (upper - centre)
    weights = torch.clamp(torch.minimum(rising, falling), min=0)  # (n_mels, F) triangles
    return (weights * (2 / (upper - lower))).float()  # unit area: the triangle's height is 2 / its base


def log_mel(x: torch.Tensor, sample_rate: float = 8000, n_fft: int = 256, hop_length: int = 80, n_mels: int = 40,
            eps: float = 1e-6) -> torch.Tensor:
    """Log-mel spectrogram, ``(..., T)`` -> ``(..., n_mels, 1 + T // hop_length)``: ``log(M |X|^2 + eps)``.

    At 8 kHz the defaults are frames of 32 ms every 10 ms with 40 mel bands (the usual speech front end).
    """
    power = stft(x, n_fft, hop_length).abs() ** 2  # (..., F, frames)
    mel = mel_filterbank(n_mels, n_fft, sample_rate).to(x.device, x.dtype) @ power  # (..., n_mels, frames)
    return torch.log(mel + eps)


def normalize_utterance(features: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Per-recording mean and variance normalisation (CMVN) of ``(..., n_mels, frames)``: every band gets mean 0
    and standard deviation 1 over the recording's frames. It removes what is constant over a recording (the
    loudness, the microphone's colouring), which says nothing about the word."""
    mean = features.mean(dim=-1, keepdim=True)
    return (features - mean) / (features.std(dim=-1, keepdim=True) + eps)
