import pytest

torch = pytest.importorskip("torch")

from crossscale.models.volume.module import GeneGeneAttention, GeneMorphUNet  # noqa: E402


def test_attention_shapes_rows_and_gradients():
    torch.manual_seed(0)
    att = GeneGeneAttention(6, 2, dim=8, pool=2)
    g = torch.rand(3, 6, 2, 8, 8, requires_grad=True)
    out, a = att(g)
    assert out.shape == g.shape and a.shape == (3, 6, 6)
    torch.testing.assert_close(a.sum(-1), torch.ones(3, 6))
    # window-size agnostic tokens: another window size gives the same weight shape
    assert att.weights(torch.rand(3, 6, 2, 12, 12)).shape == (3, 6, 6)
    out.pow(2).sum().backward()
    for name, p in att.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert g.grad.abs().sum() > 0


@pytest.mark.parametrize("n_planes", [1, 2, 3])
def test_unet_keeps_planes_and_gradients_flow(n_planes):
    torch.manual_seed(0)
    net = GeneMorphUNet(5, 2, n_planes, channels=(4, 8, 8), gene_dim=4, attn_dim=8)
    x = torch.randn(2, 2, n_planes, 16, 16)
    g = torch.rand(2, 5, n_planes, 8, 8)
    y, a = net(x, torch.tensor([3, 900]), g, return_attention=True)
    assert y.shape == x.shape and a.shape == (2, 5, 5)
    y.pow(2).mean().backward()
    dead = [n for n, p in net.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
    assert not dead
    # the folded attention path equals explicit mixing of the gene fields
    mixed, _ = net.attention(g)
    feats, _ = net.gene_features(g, (16, 16))
    import torch.nn.functional as F

    base = net.gene_in(mixed)
    ref = F.silu(net.pyramid[0](F.interpolate(base, size=(n_planes, 16, 16), mode="trilinear")))
    torch.testing.assert_close(feats[0], ref, atol=1e-5, rtol=1e-4)


def test_unet_rejects_bad_window():
    net = GeneMorphUNet(5, 2, 2, channels=(4, 8, 8))
    with pytest.raises(ValueError, match="multiple of 4"):
        net(torch.randn(1, 2, 2, 18, 18), torch.tensor([1]), torch.rand(1, 5, 2, 9, 9))


def test_regression_mode_ignores_noisy_input():
    torch.manual_seed(0)
    net = GeneMorphUNet(5, 2, 2, channels=(4, 8), noisy_input=False).eval()
    g = torch.rand(1, 5, 2, 8, 8)
    a = net(torch.randn(1, 2, 2, 16, 16), torch.tensor([500]), g)
    b = net(torch.randn(1, 2, 2, 16, 16), torch.tensor([1]), g)
    torch.testing.assert_close(a, b)


def test_presets_build_and_run():
    from crossscale.models.volume import PRESETS, VolumeDiffusion

    for name in PRESETS:
        est = VolumeDiffusion(preset=name)
        p = est.resolved_params()
        net = est._build(12, 2, 2)
        win = p["window"]
        with torch.no_grad():
            y = net(torch.randn(1, 2, 2, win, win), torch.tensor([10]), torch.rand(1, 12, 2, win // 2, win // 2))
        assert y.shape == (1, 2, 2, win, win)
    with pytest.raises(Exception, match="preset must be one of"):
        VolumeDiffusion(preset="huge").resolved_params()
    with pytest.raises(Exception, match="window .* must be a multiple of 4"):
        VolumeDiffusion(window=30).resolved_params()
