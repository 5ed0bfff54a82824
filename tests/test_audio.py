"""Sound as numbers: the STFT against torch.stft, the mel filterbank against librosa's (reference values), the
spoken-digits loader (contents, a corrupt WAV refused, the download path)."""

import hashlib
import io
import shutil
import tarfile
import wave

import numpy as np
import pytest
import torch

from minissl.audio import hann_window, hz_to_mel, log_mel, mel_filterbank, mel_to_hz, stft
from minissl.data import DatasetError
from minissl.data import fsdd as sd


@pytest.mark.parametrize("n_fft, hop, length", [(256, 80, 1000), (64, 16, 333), (32, 32, 17)])
def test_stft_equals_torch_stft(n_fft, hop, length):
    x = torch.randn(2, length, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    ours = stft(x, n_fft, hop)
    ref = torch.stft(x, n_fft, hop, window=torch.hann_window(n_fft, dtype=torch.float64), center=True,
                     pad_mode="reflect", return_complex=True)
    assert ours.shape == ref.shape == (2, n_fft // 2 + 1, 1 + length // hop)
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(hann_window(n_fft, torch.float64), torch.hann_window(n_fft, dtype=torch.float64))


def test_stft_of_a_pure_tone_peaks_at_its_frequency():
    sr, n_fft = 8000, 256
    t = torch.arange(4000) / sr
    x = torch.sin(2 * torch.pi * 1000 * t)  # 1 kHz = bin 1000 / (8000 / 256) = 32
    power = stft(x, n_fft, 80).abs() ** 2
    assert (power[:, 5:-5].argmax(dim=0) == 32).all()


def test_short_signal_is_a_clear_error():
    with pytest.raises(ValueError, match="needs more than"):
        stft(torch.zeros(100), n_fft=256)


def test_mel_scale_round_trip_and_known_points():
    f = torch.tensor([0.0, 500.0, 1000.0, 2000.0, 4000.0])
    torch.testing.assert_close(mel_to_hz(hz_to_mel(f)), f.double())
    assert float(hz_to_mel(1000.0)) == pytest.approx(15.0)  # Slaney: linear to 1 kHz (15 mel), log above


# librosa 0.11.0, librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=f_min, fmax=f_max), float32;
# (n_mels, n_fft, sr, f_min, f_max): {(row, column): weight} for every non-zero weight
LIBROSA_REFERENCE = {
    (4, 32, 8000, 0.0, None): {
        (0, 1): 1.13729178e-03, (0, 2): 1.99117186e-03, (0, 3): 8.53879901e-04, (1, 2): 1.26310231e-04, (1, 3):
        1.14004046e-03, (1, 4): 1.69804262e-03, (1, 5): 8.83000088e-04, (1, 6): 6.79575096e-05, (2, 4):
        1.39766591e-04, (2, 5): 7.00630189e-04, (2, 6): 1.26149377e-03, (2, 7): 9.91218840e-04, (2, 8):
        6.45340595e-04, (2, 9): 2.99462350e-04, (3, 7): 1.95499582e-04, (3, 8): 4.08782536e-04, (3, 9):
        6.22065447e-04, (3, 10): 7.89077778e-04, (3, 11): 6.57564786e-04, (3, 12): 5.26051852e-04, (3, 13):
        3.94538889e-04, (3, 14): 2.63025926e-04, (3, 15): 1.31512963e-04
    },
    (6, 64, 16000, 100.0, 5000.0): {
        (0, 1): 1.21393625e-03, (0, 2): 2.45244429e-03, (0, 3): 4.29217151e-04, (1, 2): 3.82437953e-04, (1, 3):
        2.35450361e-03, (1, 4): 1.29580393e-03, (2, 4): 1.20763911e-03, (2, 5): 1.92550779e-03, (2, 6):
        8.19473004e-04, (3, 5): 2.41304224e-04, (3, 6): 1.02266099e-03, (3, 7): 1.46069250e-03, (3, 8):
        9.16926248e-04, (3, 9): 3.73160059e-04, (4, 7): 9.80448167e-05, (4, 8): 4.76465706e-04, (4, 9):
        8.54886603e-04, (4, 10): 1.03195151e-03, (4, 11): 7.68598751e-04, (4, 12): 5.05245931e-04, (4, 13):
        2.41893096e-04, (5, 10): 5.75020531e-05, (5, 11): 2.40776033e-04, (5, 12): 4.24050028e-04, (5, 13):
        6.07324007e-04, (5, 14): 7.65270379e-04, (5, 15): 6.37725345e-04, (5, 16): 5.10180253e-04, (5, 17):
        3.82635189e-04, (5, 18): 2.55090126e-04, (5, 19): 1.27545063e-04
    },
}
LIBROSA_40_256_8000 = (1.2792624304493074, 0.0109592073990705)  # sum and sum of squares of all weights


def test_mel_filterbank_equals_librosa():
    for (n_mels, n_fft, sr, f_min, f_max), weights in LIBROSA_REFERENCE.items():
        expected = np.zeros((n_mels, n_fft // 2 + 1))
        for (i, j), w in weights.items():
            expected[i, j] = w
        ours = mel_filterbank(n_mels, n_fft, sr, f_min, f_max).double().numpy()
        np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-9)
    ours = mel_filterbank(40, 256, 8000).double()
    total, squares = LIBROSA_40_256_8000
    assert float(ours.sum()) == pytest.approx(total, rel=1e-5)
    assert float((ours ** 2).sum()) == pytest.approx(squares, rel=1e-5)


def test_mel_filters_are_triangles_of_unit_area():
    fb = mel_filterbank(40, 256, 8000).double()
    hz_per_bin = 8000 / 256
    areas = fb.sum(dim=1) * hz_per_bin  # the discrete area of each triangle, in Hz
    assert fb.shape == (40, 129) and (fb >= 0).all()
    torch.testing.assert_close(areas, torch.full((40,), 1.0, dtype=torch.float64), atol=0.06, rtol=0)
    peaks = fb.argmax(dim=1)
    assert (peaks[1:] >= peaks[:-1]).all()  # the filters go up in frequency


def test_log_mel_shape_and_scale():
    x = torch.randn(2, 800, generator=torch.Generator().manual_seed(0))
    out = log_mel(x)
    assert out.shape == (2, 40, 11)
    louder = log_mel(10 * x)
    torch.testing.assert_close(louder - out, torch.full_like(out, 2 * np.log(10)), atol=1e-3, rtol=0)


# ---- the loader -------------------------------------------------------------------------------------------------

def test_mirror_spoken_digits(mirror):
    data = sd.spoken_digits(mirror)
    assert len(data) == 3000 and data.sample_rate == 8000
    assert data.speaker_names == ("george", "jackson", "lucas", "nicolas", "theo", "yweweler")
    assert (torch.bincount(data.digits) == 300).all() and (torch.bincount(data.speakers) == 500).all()
    assert data.takes.min() == 0 and data.takes.max() == 49
    assert all(w.dtype == torch.float32 and w.dim() == 1 and w.abs().max() <= 1 for w in data.waveforms)
    lengths = torch.tensor([len(w) for w in data.waveforms])
    assert 1000 < lengths.min() and lengths.max() < 20000


def _wav(samples, rate=8000, width=2, channels=1) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels), w.setsampwidth(width), w.setframerate(rate)
        w.writeframes(np.asarray(samples, dtype="<i2").tobytes())
    return buf.getvalue()


def test_read_wav_scales_and_refuses_other_formats():
    x = sd.read_wav(_wav([0, 16384, -32768]))
    torch.testing.assert_close(x, torch.tensor([0.0, 0.5, -1.0]))
    with pytest.raises(DatasetError, match="16000 Hz"):
        sd.read_wav(_wav([0, 1], rate=16000))
    with pytest.raises(DatasetError, match="not a readable WAV"):
        sd.read_wav(b"RIFF....not a wav")


def test_corrupt_wav_is_refused(mirror, tmp_path):
    shutil.copytree(mirror / sd.FOLDER, tmp_path / sd.FOLDER)
    path = tmp_path / sd.FOLDER / "recordings" / "3_theo_7.wav"
    raw = bytearray(path.read_bytes())
    raw[200] ^= 1
    path.write_bytes(bytes(raw))
    with pytest.raises(DatasetError, match="3_theo_7.wav is corrupt"):
        sd.spoken_digits(tmp_path)


def test_download_keeps_only_verified_recordings(mirror, tmp_path, monkeypatch):
    """The real download path, with the release archive rebuilt from the mirror's recordings and served locally."""
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz", compresslevel=1) as tar:
        for path in sorted((mirror / sd.FOLDER / "recordings").iterdir()):
            tar.add(path, arcname=f"free-spoken-digit-dataset-1.0.10/recordings/{path.name}")
        extra = b"not part of the data"
        info = tarfile.TarInfo("free-spoken-digit-dataset-1.0.10/README.md")
        info.size = len(extra)
        tar.addfile(info, io.BytesIO(extra))
    payload = archive.getvalue()
    seen = []

    def fake_retrieve(url, tmp, dataset, where, timeout=60.0):
        seen.append(url)
        tmp.write_bytes(payload)

    monkeypatch.setattr(sd, "retrieve", fake_retrieve)
    data = sd.spoken_digits(tmp_path)
    assert seen == [sd.ARCHIVE_URL] and len(data) == 3000
    text = (tmp_path / sd.FOLDER / "SHA256SUMS").read_text()
    assert hashlib.sha256(text.encode()).hexdigest() == sd.SHA256SUMS_DIGEST
    assert not (tmp_path / sd.FOLDER / "README.md").exists()

    # an archive whose recordings differ is refused, and nothing is left behind
    shutil.rmtree(tmp_path / sd.FOLDER)
    with tarfile.open(fileobj=io.BytesIO(payload)) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar if m.isfile()]
    bad = io.BytesIO()
    with tarfile.open(fileobj=bad, mode="w:gz", compresslevel=1) as tar:
        for m, data_bytes in members[:-2]:  # two recordings missing
            tar.addfile(m, io.BytesIO(data_bytes))
    payload = bad.getvalue()
    with pytest.raises(DatasetError, match="not the expected"):
        sd.spoken_digits(tmp_path)
    assert not (tmp_path / sd.FOLDER).exists()
    assert [p.name for p in tmp_path.iterdir()] == []
