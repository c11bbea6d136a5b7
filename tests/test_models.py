"""Every registered network: builds by name, output shapes, size_multiple, encode, init, rebuild from spec."""

from __future__ import annotations

import pytest
import torch
from training_data import one_torch_thread  # noqa: F401

from ganctl.errors import OptionError
from ganctl.models import create_model, list_models, model_spec, register_model
from ganctl.models.init import init_weights
from ganctl.models.registry import unregister_model


def _builtin(kind: str) -> list[str]:
    """ganctl's own networks only (a test module that registers throw-away ones outside a fixture would leak them)."""
    from ganctl.models.registry import _REGISTRY

    return [n for n in list_models(kind) if _REGISTRY[n][1].__module__.startswith("ganctl.")]


GENERATORS = _builtin("generator")
DISCRIMINATORS = _builtin("discriminator")
SMALL = {"ngf": 8}


def _test_size(net) -> int:
    return max(16, net.size_multiple)


def test_registry_has_the_published_and_digit_nets():
    assert {"resnet_9blocks", "resnet_6blocks", "unet_128", "unet_256", "digit_resnet"} <= set(GENERATORS)
    assert {"patchgan", "digit_patchgan"} <= set(DISCRIMINATORS)


@pytest.mark.parametrize("name", GENERATORS)
@pytest.mark.parametrize("channels", [(1, 3), (3, 1)])
def test_generator_shapes_and_range(name, channels):
    cin, cout = channels
    net = create_model(name, in_channels=cin, out_channels=cout, **SMALL)
    assert isinstance(net.size_multiple, int) and net.size_multiple >= 1
    s = _test_size(net)
    x = torch.rand(2, cin, s, s) * 2 - 1
    y = net(x)
    assert y.shape == (2, cout, s, s)
    assert y.min() >= -1 and y.max() <= 1
    z = net.encode(x)
    assert z.ndim == 4 and z.shape[0] == 2
    assert z.shape[-1] < s and s % z.shape[-1] == 0  # a downsampled map


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_size_multiple_is_what_it_needs(name):
    net = create_model(name, in_channels=3, out_channels=3, **SMALL)
    m = net.size_multiple
    s = 2 * m if m <= 32 else m
    assert net(torch.zeros(1, 3, s, s)).shape[-1] == s


@pytest.mark.parametrize("name", DISCRIMINATORS)
@pytest.mark.parametrize("cin", [1, 3])
def test_discriminator_scores_patches(name, cin):
    net = create_model(name, in_channels=cin, ndf=8)
    s = 32 if name.startswith("digit") else 64
    out = net(torch.randn(2, cin, s, s))
    if name == "digit_global":
        assert out.shape == (2, 1, 1, 1)  # one score for the whole digit
    else:
        assert out.shape[:2] == (2, 1) and out.shape[-1] > 1  # a map of patch scores, not one number


@pytest.mark.parametrize("size", [28, 32])
def test_global_digit_discriminator_sees_the_whole_digit(size):
    net = create_model("digit_global", in_channels=3, ndf=8, image_size=size)
    x = torch.zeros(1, 3, size, size, requires_grad=True)
    net(x).sum().backward()
    assert (x.grad.abs().sum(1)[0] > 0).all()  # every pixel, corners included, reaches the single score


def test_patchgan_default_is_70x70():
    net = create_model("patchgan", ndf=8, norm="none")  # instance norm would mix in the whole image
    x = torch.randn(1, 3, 128, 128, requires_grad=True)
    out = net(x)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    rows = (x.grad.abs().sum(dim=(0, 1, 3)) > 0).nonzero()
    assert rows.max() - rows.min() + 1 == 70  # one score sees a 70-pixel-high patch


@pytest.mark.parametrize("name", ["digit_resnet_grid", "digit_resnet_global"])
def test_global_digit_generator_starts_as_the_plain_one_and_learns_its_branch(name):
    torch.manual_seed(0)
    plain = create_model("digit_resnet", in_channels=1, out_channels=3, ngf=8, first_kernel=3)
    torch.manual_seed(0)
    net = create_model(name, in_channels=1, out_channels=3, ngf=8)
    x = torch.rand(2, 1, 32, 32) * 2 - 1
    assert torch.allclose(net(x), plain(x), atol=1e-6)  # the branch starts at scale 1, shift 0

    net(x).square().sum().backward()
    assert net.context[-1].weight.grad.abs().sum() > 0  # zero-initialised, yet trained from the first step
    torch.nn.init.normal_(net.context[-1].weight, std=0.5)
    scale, shift = net.modulation(net.encode(x))
    assert scale.shape == shift.shape == (2, 8, 1, 1)
    assert not torch.allclose(scale[0], scale[1])  # one modulation per image


def test_grid_branch_sees_where_the_strokes_are():
    """Two images with the same stroke mass in different places get different modulations from the grid
    branch; the mean-pooled branch of digit_resnet_global cannot tell a shift of the whole map apart."""
    torch.manual_seed(0)
    net = create_model("digit_resnet_grid", in_channels=1, out_channels=3, ngf=8)
    torch.nn.init.normal_(net.context[-1].weight, std=0.5)
    h = torch.zeros(2, 32, 8, 8)
    h[0, :, :4] = 1.0  # strokes in the top half
    h[1, :, 4:] = 1.0  # the same strokes in the bottom half
    scale, _ = net.modulation(h)
    assert not torch.allclose(scale[0], scale[1])
    assert net.context[0].in_features == 32 * 4 * 4


@pytest.mark.parametrize("size", [28, 32, 64])
def test_grid_digit_generator_takes_any_size(size):
    net = create_model("digit_resnet_grid", in_channels=1, out_channels=3, ngf=8)
    assert net(torch.zeros(1, 1, size, size)).shape == (1, 3, size, size)


def test_global_digit_generator_keeps_its_weight_layout():
    """Runs trained with digit_resnet_global (the earlier digit default) still load: same parameter names."""
    net = create_model("digit_resnet_global", in_channels=1, out_channels=3, ngf=8)
    context = {k: tuple(v.shape) for k, v in net.state_dict().items() if k.startswith("context.")}
    assert context == {"context.0.weight": (32, 32), "context.0.bias": (32,),
                       "context.2.weight": (16, 32), "context.2.bias": (16,)}


def test_spec_rebuilds_identical_network():
    spec = model_spec("digit_resnet", in_channels=1, out_channels=3, ngf=8)
    a = create_model(**spec)
    b = create_model(**spec)
    b.load_state_dict(a.state_dict())
    x = torch.randn(1, 1, 32, 32)
    assert torch.equal(a(x), b(x))


def test_init_is_normal_002():
    torch.manual_seed(0)
    net = init_weights(create_model("resnet_9blocks"))
    w = torch.cat([m.weight.flatten() for m in net.modules() if isinstance(m, torch.nn.Conv2d)])
    assert abs(w.std().item() - 0.02) < 0.002 and abs(w.mean().item()) < 0.001


def test_register_twice_is_refused_and_unregister_removes_it():
    def tiny(channels: int = 1) -> torch.nn.Module:
        return torch.nn.Conv2d(channels, channels, 1)

    register_model("models_test_tiny", kind="test")(tiny)
    try:
        assert list_models("test") == ["models_test_tiny"]
        assert isinstance(create_model("models_test_tiny", channels=2), torch.nn.Conv2d)
        with pytest.raises(ValueError, match="registered twice"):
            register_model("models_test_tiny", kind="test")(tiny)
    finally:
        unregister_model("models_test_tiny")
    assert "models_test_tiny" not in list_models()


def test_registry_module_imports_no_network():
    """timm's pattern: the package imports the networks, the registry imports none of them (no import circle)."""
    import ast
    import inspect

    import ganctl.models.registry

    tree = ast.parse(inspect.getsource(ganctl.models.registry))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not {name for name in imported if name and name.startswith("ganctl.models")}


def test_unknown_network_is_an_option_error():
    with pytest.raises(OptionError, match="unknown network"):
        create_model("resnet_99blocks")
