"""Preset for the chapter *Predicting missing words* (``notebooks/05_masked_words.ipynb``): the word
vocabulary, CBOW, the encoder and its masked-word pre-training on Pang & Lee's movie reviews, the GPT it is
compared with, the transfer study on SUBJ and MR, and the thresholds the check cells assert."""

from dataclasses import dataclass

from minissl.presets._common import H100_TIME, T4_TIME, cpu_time


@dataclass(frozen=True)
class BERTPreset:
    name: str
    expected_time: str = cpu_time(500)  # the whole notebook on this machine class
    seed: int = 0
    # corpus: the 2,000 movie reviews, a word vocabulary, rows [CLS] sentence sentence ... [SEP] [PAD]...
    extra_text: str = ""  # "imdb": also pre-train on the 50,000 unlabelled IMDb reviews (minissl.data.imdb)
    vocab_size: int = 8000  # words, the five special tokens included
    block_size: int = 64  # tokens per pre-training row
    val_rows: int = 500  # held-out rows for the masked-word loss/accuracy
    # CBOW with negative sampling (word2vec); its vectors are the encoder's starting word embedding
    cbow_window: int = 16  # neighbours on each side: a wide bag catches what a sentence is about
    cbow_negatives: int = 10  # noise words per blank
    cbow_steps: int = 3000
    cbow_batch_size: int = 1024
    cbow_lr: float = 1e-2
    # encoder
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 128  # = the CBOW vector size: the encoder's word embedding starts from the CBOW vectors
    dropout: float = 0.0
    # masked-word pre-training (AdamW, warm-up + cosine); the GPT gets the same rows and schedule, and the
    # number of steps that gives it the same training compute (FLOPs) as BERT's run
    mask_prob: float = 0.3
    batch_size: int = 64
    steps: int = 400
    lr: float = 5e-3
    weight_decay: float = 0.01
    warmup_steps: int = 50
    eval_every: int = 100
    # transfer to SUBJ and MR: a stratified test set, label budgets per class, seeds, fine-tuning
    test_per_class: int = 1000
    sent_len: int = 48  # tokens per sentence, [CLS] and [SEP] included (longer ones are cut)
    budgets: tuple = (10, 25, 100)  # labels per class drawn with every seed; then every training label (probes)
    seeds: tuple = (0, 1, 2, 3, 4)
    ft_steps: int = 40
    ft_batch_size: int = 32
    ft_lr: float = 3e-4  # fine-tuning the pretrained encoder
    scratch_lr: float = 1e-3  # training the same encoder from a random start
    ft_dropout: float = 0.1  # the same dropout for fine-tuning and from scratch
    probe_weight_decay: float = 0.1
    # checks
    min_gain_over_unigram: float = 0.05  # masked-token accuracy minus the unigram baseline's
    min_gain_over_gpt: float = 0.02  # BERT's accuracy on the held-out blanks minus the GPT's
    min_subj_gain: float = 0.05  # SUBJ, 25 labels per class: best pre-trained minus from scratch (mean of seeds)
    min_mr_gain: float = 0.03  # MR, the same


PRESETS = {
    "cpu": BERTPreset("cpu"),
    # Not yet run on a GPU. More in-domain text (the 50,000 unlabelled IMDb reviews, about 11 million words, an
    # 84 MB download) and a 4-layer 256-wide encoder, 3,000 steps at batch 128: about 0.3 PFLOP, a couple of
    # minutes on a T4 at a quarter of its fp16 peak.
    "gpu": BERTPreset(
        "gpu", expected_time=T4_TIME, extra_text="imdb", cbow_steps=4000, cbow_batch_size=1024, n_layer=4,
        n_head=4, n_embd=256, dropout=0.1, batch_size=128, steps=3000, lr=1e-3, warmup_steps=200, eval_every=500,
        ft_steps=100, ft_lr=1e-4,
    ),
    # Not yet run on a GPU: a wider and deeper encoder and more steps; a few minutes on one H100/H200 in bf16.
    "h100": BERTPreset(
        "h100", expected_time=H100_TIME, extra_text="imdb", cbow_steps=8000, cbow_batch_size=2048, n_layer=6,
        n_head=8, n_embd=384, dropout=0.1, batch_size=256, steps=6000, lr=6e-4, warmup_steps=300, eval_every=500,
        ft_steps=100, ft_lr=1e-4,
    ),
}
