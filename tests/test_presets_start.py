"""Every preset can at least start: its models and data pipeline at their real sizes, one optimizer step.

The gpu and h100 presets are meant for GPUs this test never sees; here each one builds its chapter's models
with the preset's real sizes and takes one AdamW step through ``fit`` on the CPU in float32, on a handful of
samples. A preset whose sizes do not fit together (heads that do not divide the width, crops larger than the
images, a head of the wrong width) fails here instead of on a reader's GPU.
"""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from minissl import presets
from minissl.augment import MultiCrop, SimCLRAugment
from minissl.losses import dino_loss, nt_xent
from minissl.masking import mask_tokens
from minissl.models import BERT, CBOW, GPT, DINOHead, PretextModel, SimCLR, SmallCNN, ViT
from minissl.nn import ResNet, TransformerBlock
from minissl.pretext import hide_patch, rotate_batch
from minissl.text import BPETokenizer
from minissl.train import fit
from minissl.utils import seed_everything

NAMES = ("cpu", "gpu", "h100")
FEW = 4  # samples per step: the sizes of the models are real, the batch is not


def one_step(model, loss_fn, batch):
    """One optimizer step through fit on the CPU in float32; returns the loss."""
    history = fit(model, loss_fn, lambda step: batch, steps=1, lr=1e-4, device="cpu", amp=False, progress=False,
                  log_every=1)
    loss = history.last("loss")
    assert loss == loss and abs(loss) < 1e6, f"loss {loss}"
    return loss


@pytest.fixture(autouse=True)
def _seed():
    seed_everything(0)


@pytest.mark.parametrize("name", NAMES)
def test_labels(name):
    P = presets.get("labels", name)
    images = torch.rand(FEW, 1, 8, 8)
    rot = PretextModel(SmallCNN(width=P.width), 4, hidden=P.head_hidden)
    patch = PretextModel(SmallCNN(width=P.width), P.patch_size ** 2, hidden=P.head_hidden)

    def rotation_loss(m, x):
        rotated, k = rotate_batch(x)
        return F.cross_entropy(m(rotated), k)

    def patch_loss(m, x):
        masked, mask = hide_patch(x, P.patch_size)
        return F.mse_loss(m(masked), x[mask].view(len(x), -1))

    one_step(rot, rotation_loss, images)
    one_step(patch, patch_loss, images)


@pytest.mark.parametrize("name", NAMES)
def test_tokens(name):
    P = presets.get("tokens", name)
    text = "First Citizen: before we proceed any further, hear me speak. " * 40
    tok = BPETokenizer.train(text, vocab_size=P.bpe_vocab_size)
    ids = torch.tensor(tok.encode(text))
    bigram = nn.Embedding(P.bpe_vocab_size, P.bpe_vocab_size)  # the chapter's bigram: a table of logits
    x = ids[: FEW * P.bigram_block_size].view(FEW, -1)
    one_step(bigram, lambda m, b: F.cross_entropy(m(b).flatten(0, 1), b.roll(-1, 1).flatten()), x)


@pytest.mark.parametrize("name", NAMES)
def test_attention(name):
    P = presets.get("attention", name)
    block = nn.Sequential(nn.Embedding(65, P.n_embd), TransformerBlock(P.n_embd, P.n_head, causal=True),
                          nn.Linear(P.n_embd, 65))
    x = torch.randint(65, (FEW, P.block_size))
    one_step(block, lambda m, b: F.cross_entropy(m(b).flatten(0, 1), b.flatten()), x)


@pytest.mark.parametrize("name", NAMES)
def test_gpt(name):
    P = presets.get("gpt", name)
    model = GPT(65, P.block_size, P.n_layer, P.n_head, P.n_embd, dropout=P.dropout)
    x = torch.randint(65, (2, P.block_size + 1))
    one_step(model, lambda m, b: m(b[:, :-1], b[:, 1:])[1], x)
    for width in P.scale_widths:  # the scale study's models (4 heads, the chapter's choice)
        GPT(65, P.block_size, P.scale_n_layer, 4, width)


@pytest.mark.parametrize("name", NAMES)
def test_simclr(name):
    P = presets.get("simclr", name)
    aug = SimCLRAugment(size=P.view_size, crop_scale=P.crop_scale, jitter_strength=P.jitter_strength,
                        blur_p=P.blur_p)
    model = SimCLR(ResNet(P.widths, P.depths), hidden_dim=P.proj_hidden, proj_dim=P.proj_dim)
    if P.channels_last:
        model = model.to(memory_format=torch.channels_last)
    images = torch.rand(FEW, 3, 32, 32)

    def loss_fn(m, x):
        z1, z2 = m(torch.cat(aug.two_views(x, torch.Generator().manual_seed(0)))).chunk(2)
        return nt_xent(z1, z2, P.temperature)

    one_step(model, loss_fn, images)
    supervised = nn.Sequential(ResNet(P.widths, P.depths), nn.Linear(P.widths[-1], 10))
    one_step(supervised, lambda m, b: F.cross_entropy(m(b), torch.arange(FEW)), images)


@pytest.mark.parametrize("name", NAMES)
def test_dino(name):
    P = presets.get("dino", name)
    crops = MultiCrop(global_size=P.global_size, local_size=P.local_size, n_local=P.n_local,
                      global_scale=P.global_scale, local_scale=P.local_scale, jitter_strength=P.jitter_strength)
    center = torch.zeros(P.out_dim)
    images = torch.rand(FEW, 3, 32, 32)

    def loss_fn(m, x):
        views = crops(x, torch.Generator().manual_seed(0))
        assert len(views) == 2 + P.n_local and views[-1].shape[-1] == P.local_size
        student_out = [m(v) for v in views]
        with torch.no_grad():
            teacher_out = [m(v) for v in views[:2]]
        return dino_loss(student_out, teacher_out, center, student_temp=P.student_temp, teacher_temp=P.teacher_temp)

    # the main run's ResNet and the short run's ViT, each under the same head
    vit = ViT(image_size=P.global_size, patch_size=P.patch_size, n_embd=P.n_embd, depth=P.depth, n_head=P.n_head)
    for backbone, width in ((ResNet(P.widths, P.depths), P.widths[-1]), (vit, P.n_embd)):
        head = DINOHead(width, P.out_dim, P.head_hidden, P.bottleneck, batch_norm=P.head_batch_norm)
        one_step(nn.Sequential(backbone, head), loss_fn, images)
    # the race's SimCLR: the SimCLR chapter's preset of the same name, on the same ResNet and crops
    S = presets.get("simclr", name)
    assert S.view_size == P.global_size, "the race compares SimCLR and DINO on crops of one size"


@pytest.mark.parametrize("name", NAMES)
def test_bert(name):
    P = presets.get("bert", name)
    # the depth is real except for the h100 BERT, cut to 2 layers so that CI stays quick (same code path)
    n_layer = P.n_layer if name != "h100" else 2
    model = BERT(P.vocab_size, P.block_size, n_layer, P.n_head, P.n_embd, dropout=P.dropout, pad_id=0)
    ids = torch.randint(5, P.vocab_size, (2, P.block_size))
    corrupted, labels = mask_tokens(ids, vocab_size=P.vocab_size, mask_id=4, special_ids=(0, 1, 2, 3, 4),
                                    prob=P.mask_prob)
    one_step(model, lambda m, b: m(b[0], b[1])[1], (corrupted, labels))
    GPT(P.vocab_size, P.block_size, P.n_layer, P.n_head, P.n_embd)  # the GPT it is compared with
    # CBOW's vectors become the encoder's token embedding: same width
    context = torch.randint(0, P.vocab_size, (P.cbow_batch_size, 2 * P.cbow_window))
    one_step(CBOW(P.vocab_size, P.n_embd, ignore_ids=[0]), lambda m, b: m.loss(*b),
             (context, torch.randint(5, P.vocab_size, (P.cbow_batch_size,)),
              torch.randint(5, P.vocab_size, (P.cbow_batch_size, P.cbow_negatives))))


@pytest.mark.parametrize("name", NAMES)
def test_clip(name):
    from minissl.losses import clip_loss
    from minissl.models import CLIP, FlatResNet, TextEncoder

    P = presets.get("clip", name)
    assert P.image_size <= P.source_size and P.test_style not in P.train_styles
    vocab, eot = 100, 99
    model = CLIP(FlatResNet(P.image_size, P.widths, P.depths),
                 TextEncoder(vocab, P.context, eot, P.n_layer, P.n_head, P.n_embd), P.embed_dim)
    ids = torch.randint(0, eot, (FEW, P.context))
    ids[:, -1] = eot  # the longest caption the preset allows
    batch = (torch.rand(FEW, 3, P.image_size, P.image_size), ids)
    one_step(model, lambda m, b: clip_loss(*m(*b), m.logit_scale), batch)
