"""Unit tests for minissl.nn.ResNet and the SimCLR model wrapper."""

import pytest
import torch

from minissl.models import ProjectionHead, SimCLR
from minissl.nn import ResNet, resnet18
from minissl.utils import count_parameters


def test_shapes_and_cifar_stem():
    net = ResNet((8, 16, 32), (1, 1, 1))
    x = torch.rand(4, 3, 32, 32)
    assert net(x).shape == (4, 32) and net.out_dim == 32
    assert net.hidden_states(x).shape == (4, 32, 8, 8)  # stride 1 stem, two stride-2 stages: 32 -> 8
    assert net(torch.rand(2, 3, 16, 16)).shape == (2, 32)  # any size works (global pooling)
    stem_conv = net.stem[0]
    assert stem_conv.kernel_size == (3, 3) and stem_conv.stride == (1, 1)
    assert not any(isinstance(m, torch.nn.MaxPool2d) for m in net.modules())
    assert ResNet((8,), (1,), stem="imagenet").hidden_states(torch.rand(1, 3, 64, 64)).shape == (1, 8, 16, 16)


def test_resnet18_size():
    assert count_parameters(resnet18()) == 11_168_832  # torchvision's resnet18 minus fc, with a 3x3 stem


def test_blocks_start_as_identity_and_train():
    net = ResNet((8, 16), (2, 1))
    x = torch.rand(4, 3, 16, 16)
    net(x).sum().backward()
    assert all(p.grad is not None for p in net.parameters())


def test_bad_arguments():
    with pytest.raises(ValueError, match="equal length"):
        ResNet((8, 16), (1,))
    with pytest.raises(ValueError, match="stem"):
        ResNet(stem="vgg")
    with pytest.raises(ValueError, match="B, C, H, W"):
        ResNet((8,), (1,))(torch.rand(3, 32, 32))


def test_simclr_wrapper():
    model = SimCLR(ResNet((8, 16), (1, 1)), hidden_dim=32, proj_dim=12)
    x = torch.rand(5, 3, 32, 32)
    assert model(x).shape == (5, 12) and model.encode(x).shape == (5, 16)
    assert ProjectionHead(16, 32, 8, num_layers=3, last_bn=True)(torch.rand(4, 16)).shape == (4, 8)
    with pytest.raises(TypeError, match="out_dim"):
        SimCLR(torch.nn.Linear(3, 4))
