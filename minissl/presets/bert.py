"""Preset for the chapter *Predicting missing words* (``notebooks/05_masked_words.ipynb``): the corpus and
tokenizer, the encoder, masked-word pre-training, the sentiment transfer study, the small GPT it is compared
with, and the thresholds the check cells assert."""

from dataclasses import dataclass

from minissl.presets._common import H100_TIME, T4_TIME


@dataclass(frozen=True)
class BERTPreset:
    name: str
    expected_time: str = "not yet timed (a draft chapter)"  # the whole notebook on this machine class
    seed: int = 0
    # corpus: WikiText-2 splits joined, cut into sentences, packed into rows [CLS] ... [SEP] [PAD]...
    corpus_splits: tuple = ("valid", "test")  # the mirror has these two; "train" downloads on Colab
    lowercase: bool = True
    vocab_size: int = 2048  # BPE, special tokens included
    block_size: int = 64  # tokens per pre-training row
    val_rows: int = 500  # held-out rows for the masked-word loss/accuracy
    mask_prob: float = 0.15
    # encoder
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    # masked-word pre-training (AdamW, warm-up + cosine)
    batch_size: int = 64
    steps: int = 600
    lr: float = 3e-3
    weight_decay: float = 0.01
    warmup_steps: int = 50
    eval_every: int = 100
    # transfer to sentiment (3,000 sentences): label budgets per class, seeds, fine-tuning
    test_fraction: float = 0.3
    sent_len: int = 48  # tokens per sentence, [CLS] and [SEP] included (longer ones are cut)
    budgets: tuple = (25, 100, 1050)  # labels per class; the last one is every training label
    seeds: tuple = (0, 1, 2)
    ft_steps: int = 50  # fine-tuning / from-scratch steps for the small budgets
    ft_steps_all: int = 150  # ... and for the largest budget
    ft_batch_size: int = 32
    ft_lr: float = 3e-4  # fine-tuning the pretrained encoder
    scratch_lr: float = 1e-3  # training the same encoder from a random start
    probe_weight_decay: float = 1e-2
    # the GPT compared with (same tokenizer, corpus and width; next-token task)
    gpt_steps: int = 200
    gpt_lr: float = 2e-3
    # checks
    min_mlm_acc: float = 0.10  # masked-token accuracy on held-out rows
    min_gain_over_unigram: float = 0.05  # masked-token accuracy minus the unigram baseline's
    min_transfer_gain: float = 0.05  # best pretrained minus from-scratch accuracy at the smallest budget


PRESETS = {
    "cpu": BERTPreset("cpu"),
    # Not yet run on a GPU. WikiText-2 train (downloaded), a 4-layer 256-wide encoder: ~0.5 TFLOP a step at
    # batch 128 x 128 tokens, 3,000 steps ~2 minutes on a T4 at a quarter of its fp16 peak.
    "gpu": BERTPreset(
        "gpu", expected_time=T4_TIME, corpus_splits=("train",), vocab_size=8192, block_size=128, val_rows=2000,
        n_layer=4, n_head=4, n_embd=256, dropout=0.1, batch_size=128, steps=3000, lr=1e-3, warmup_steps=200,
        eval_every=500, ft_steps=100, ft_steps_all=300, ft_lr=1e-4, gpt_steps=2000, gpt_lr=1e-3,
    ),
    # Not yet run on a GPU: WikiText-2 train (downloaded), a wider and deeper encoder and more steps; sized
    # for a few minutes on one H100/H200 with bf16.
    "h100": BERTPreset(
        "h100", expected_time=H100_TIME, corpus_splits=("train",), vocab_size=8192, block_size=128, val_rows=2000,
        n_layer=6, n_head=8,
        n_embd=384, dropout=0.1, batch_size=128, steps=5000, lr=5e-4, warmup_steps=300, eval_every=500,
        seeds=(0, 1, 2, 3, 4), ft_steps=100, ft_steps_all=400, ft_lr=1e-4, gpt_steps=3000, gpt_lr=6e-4,
        min_mlm_acc=0.25, min_gain_over_unigram=0.15, min_transfer_gain=0.05,
    ),
}
