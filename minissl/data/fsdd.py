"""The Free Spoken Digit Dataset: 3,000 recordings of six speakers saying the digits 0-9, fifty times each.

Used in the chapter *Speech: features from the sound itself* (``notebooks/09_speech.ipynb``). Mono, 8 kHz,
16-bit PCM WAV files with the silence before and after trimmed, 0.14 to 2.3 s long (median 0.4 s). File names are
``{digit}_{speaker}_{take}.wav``; upstream's own split puts takes 0-4 in the test set.

The folder ``<root>/free-spoken-digit-dataset/recordings/`` is read after checking every file against its
``SHA256SUMS``, whose own sha256 is pinned here. Where the folder is missing, the upstream release archive
(tag v1.0.10) is downloaded and its recordings are checked the same way: GitHub may regenerate the archive's
bytes, never the recordings'.

Source: Zohar Jackson et al., *Free Spoken Digit Dataset* (github.com/Jakobovski/free-spoken-digit-dataset,
Zenodo DOI 10.5281/zenodo.1342401). Licence CC BY-SA 4.0.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tarfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from minissl.data.store import DatasetError, data_root, retrieve, staging_folder, verified_bytes

FOLDER = "free-spoken-digit-dataset"
ARCHIVE_URL = "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/tags/v1.0.10.tar.gz"
SHA256SUMS_DIGEST = "04e1baae96c6a26e39c623f2b01d0182ddae627ba0ac02a3cdc17ba2af99fd9b"
SAMPLE_RATE = 8000
SPEAKERS = ("george", "jackson", "lucas", "nicolas", "theo", "yweweler")
_NAME = re.compile(r"recordings/([0-9])_([a-z]+)_([0-9]+)\.wav")


@dataclass(frozen=True)
class SpokenDigits:
    """The recordings in memory, in the order of their file names.

    Attributes:
        waveforms: 3,000 float32 tensors ``(T,)`` in [-1, 1), T from 1,148 to 18,262 samples.
        digits: int64 ``(3000,)``, the digit said.
        speakers: int64 ``(3000,)``, an index into ``speaker_names``.
        takes: int64 ``(3000,)``, the take (0-49) of that speaker and digit.
        speaker_names: the six speakers, sorted.
        sample_rate: 8000 (Hz).
    """

    waveforms: list
    digits: torch.Tensor
    speakers: torch.Tensor
    takes: torch.Tensor
    speaker_names: tuple = SPEAKERS
    sample_rate: int = SAMPLE_RATE

    def __len__(self) -> int:
        return len(self.waveforms)


def read_wav(data: bytes, name: str = "recording") -> torch.Tensor:
    """The bytes of a mono 16-bit 8 kHz WAV file -> float32 ``(T,)`` in [-1, 1) (samples / 32768).

    Raises:
        DatasetError: not a WAV file, or not mono 16-bit PCM at 8 kHz.
    """
    try:
        with wave.open(io.BytesIO(data)) as w:
            channels, width, rate, frames = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
            pcm = w.readframes(frames)
    except (wave.Error, EOFError) as err:
        raise DatasetError(f"spoken_digits: {name} is not a readable WAV file ({err})") from err
    if (channels, width, rate) != (1, 2, SAMPLE_RATE):
        raise DatasetError(f"spoken_digits: {name} is {channels} channel(s), {8 * width}-bit, {rate} Hz; expected "
                           f"mono 16-bit at {SAMPLE_RATE} Hz")
    return torch.from_numpy(np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0)


def _sums_text(files: dict[str, bytes]) -> str:
    """``SHA256SUMS`` text for ``{"recordings/<name>.wav": bytes}``, sorted by name."""
    return "".join(f"{hashlib.sha256(files[n]).hexdigest()}  {n}\n" for n in sorted(files))


def _download(folder: Path) -> None:
    """Fetch the release archive, keep its 3,000 recordings, check them, and move the folder into place."""
    with staging_folder("spoken_digits", folder.parent, ARCHIVE_URL) as tmp:
        archive = Path(tmp) / "fsdd.tar.gz"
        retrieve(ARCHIVE_URL, archive, "spoken_digits", folder.parent)
        files = {}
        try:
            with tarfile.open(archive, "r:gz") as tar:
                for member in tar:
                    name = member.name.split("/", 1)[-1]  # drop the archive's top folder
                    if member.isfile() and _NAME.fullmatch(name):
                        files[name] = tar.extractfile(member).read()
        except (tarfile.TarError, OSError, EOFError) as err:
            raise DatasetError(f"spoken_digits: the archive from {ARCHIVE_URL} is not readable ({err})") from err
        text = _sums_text(files)
        if hashlib.sha256(text.encode()).hexdigest() != SHA256SUMS_DIGEST:
            raise DatasetError(f"spoken_digits: the recordings in the archive from {ARCHIVE_URL} are not the expected "
                               f"ones ({len(files)} files; checksum list differs); nothing was kept. Retry later, or "
                               "set MINISSL_DATA to a folder with a verified copy.")
        out = Path(tmp) / FOLDER
        (out / "recordings").mkdir(parents=True)
        for name, data in files.items():
            (out / name).write_bytes(data)
        (out / "SHA256SUMS").write_text(text, encoding="utf-8")
        os.rename(out, folder)


def spoken_digits(root=None) -> SpokenDigits:
    """Load the 3,000 recordings (see :class:`SpokenDigits`).

    Read from ``<root>/free-spoken-digit-dataset/`` (``root``, else ``MINISSL_DATA``, else ``~/.cache/minissl``),
    downloaded from :data:`ARCHIVE_URL` (21 MB) where missing.

    Raises:
        DatasetError: no copy and the download failed, a file whose sha256 is not the pinned one, or a file
        that is not a mono 16-bit 8 kHz WAV; the message says what to do.
    """
    folder = data_root(root) / FOLDER
    if not (folder / "SHA256SUMS").exists():
        _download(folder)
    text = (folder / "SHA256SUMS").read_text(encoding="utf-8")
    if hashlib.sha256(text.encode()).hexdigest() != SHA256SUMS_DIGEST:
        raise DatasetError(f"spoken_digits: {folder / 'SHA256SUMS'} is not the expected list; delete {folder} and "
                           "run again to download a fresh copy")
    waves, digits, speakers, takes = [], [], [], []
    for line in text.splitlines():
        digest, name = line.split(maxsplit=1)
        match = _NAME.fullmatch(name)
        data = verified_bytes(folder / name, digest if match else None, "spoken_digits",
                              f"Delete {folder} and run again to download a fresh copy.")
        waves.append(read_wav(data, str(folder / name)))
        digits.append(int(match[1]))
        speakers.append(SPEAKERS.index(match[2]))
        takes.append(int(match[3]))
    return SpokenDigits(waves, torch.tensor(digits), torch.tensor(speakers), torch.tensor(takes))
