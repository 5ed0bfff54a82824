"""Preset for the chapter *Text as tokens* (``notebooks/02_text_as_tokens.ipynb``): tokenizers + bigram."""

from dataclasses import dataclass, replace

from minissl.presets._common import H100_TIME, T4_TIME, cpu_time


@dataclass(frozen=True)
class TokensPreset:
    name: str
    expected_time: str = cpu_time(28)  # the whole notebook on this machine class
    seed: int = 1337
    val_fraction: float = 0.1  # the last 10% of Tiny Shakespeare is held out
    bpe_vocab_size: int = 512  # 256 bytes + 256 learned merges
    scratch_chars: int = 100_000  # the from-scratch BPE (slow, readable) trains on this prefix
    scratch_merges: int = 30
    bigram_steps: int = 300  # neural bigram, trained with fit
    bigram_batch_size: int = 128
    bigram_block_size: int = 64
    bigram_lr: float = 0.1
    # checks
    max_init_gap: float = 0.05  # |initial loss - ln(vocab)| of the neural bigram
    max_bigram_val_loss: float = 2.52  # count bigram on characters (measured 2.48 nats)
    max_neural_count_gap: float = 0.02  # neural bigram vs counts, val loss in nats (measured 0.005)
    min_bpe_compression: float = 1.8  # characters per BPE token at 512 tokens (measured 1.88)


_GPU = TokensPreset("gpu", expected_time=T4_TIME, bpe_vocab_size=1024, bigram_steps=1000,
                    min_bpe_compression=2.15)
PRESETS = {
    "cpu": TokensPreset("cpu"),
    # Not yet run on a GPU. Tokenizer training runs on the CPU whatever the machine; the h100 run is the same.
    "gpu": _GPU,
    "h100": replace(_GPU, name="h100", expected_time=H100_TIME),
}
