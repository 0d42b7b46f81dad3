import pytest
import torch

from circle_survival.config import AddTask, MSEConfig
from circle_survival.loss import (CrossEntropy, CrossEntropyLoss, TargetMSELoss, cross_entropy, n_outputs,
                                  targets)


def dominated_logits(margin: tuple[float, float], n: int = 64, p: int = 59, seed: int = 0):
    """Logits (1, n, p) whose correct class tops the others by `margin` nats, and labels."""
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(1, n, p, generator=gen, dtype=torch.float64)
    y = torch.randint(0, p, (1, n), generator=gen)
    gap = margin[0] + (margin[1] - margin[0]) * torch.rand(1, n, generator=gen, dtype=torch.float64)
    z.scatter_(-1, y.unsqueeze(-1), (z.amax(-1) + gap).unsqueeze(-1))
    return z, y


def float64_reference(z: torch.Tensor, y: torch.Tensor):
    """Loss and gradient the textbook way, in float64 (rounding ~1e-16 absolute)."""
    z = z.double()
    log_p = torch.log_softmax(z, -1)
    return -log_p.gather(-1, y.unsqueeze(-1)).squeeze(-1), log_p.exp() - torch.nn.functional.one_hot(y, z.shape[-1])


@pytest.mark.parametrize("margin", [(16.0, 20.0), (20.0, 24.0)])
def test_float32_loss_and_gradient_at_the_edge_of_precision(margin):
    # Loss ~ 58 * exp(-18) ~ 1e-6 per example: float32's 1 - softmax_c is quantised at 6e-8.
    z64, y = dominated_logits(margin)
    z32 = z64.float()
    loss_ref, grad_ref = float64_reference(z32, y)  # of the float32 logits themselves
    loss, grad = cross_entropy(z32, y)
    assert loss.dtype == grad.dtype == torch.float32
    torch.testing.assert_close(loss.double(), loss_ref, rtol=1e-5, atol=0)
    torch.testing.assert_close(grad.double(), grad_ref, rtol=1e-5, atol=0)
    # The gradient sums to zero over classes, to float32 rounding of the largest entry.
    assert (grad.double().sum(-1).abs() <= 1e-5 * grad.double().abs().amax(-1)).all()


def test_matches_the_textbook_form_in_float64_for_any_margin():
    # Correct class on top, far below the top (exp(z_j - z_c) would overflow), and random.
    for z, y in (dominated_logits((1.0, 30.0)), dominated_logits((-300.0, -100.0), seed=1),
                 (torch.randn(2, 40, 7, dtype=torch.float64), torch.randint(0, 7, (2, 40)))):
        loss_ref, grad_ref = float64_reference(z, y)
        loss, grad = cross_entropy(z, y)
        torch.testing.assert_close(loss, loss_ref, rtol=1e-12, atol=1e-14)
        torch.testing.assert_close(grad, grad_ref, rtol=1e-12, atol=1e-14)
        assert torch.equal(cross_entropy(z, y, grad=False)[0], loss)


def test_autograd_function_gives_the_mean_loss_and_its_gradient():
    z, y = dominated_logits((-5.0, 25.0), n=30, p=11)
    z = z[0].requires_grad_()
    CrossEntropy.apply(z, y[0]).mul(3.0).backward()
    loss_ref, grad_ref = float64_reference(z.detach(), y[0])
    torch.testing.assert_close(CrossEntropy.apply(z, y[0]).detach(), loss_ref.mean(), rtol=1e-12, atol=0)
    torch.testing.assert_close(z.grad, 3.0 * grad_ref / 30, rtol=1e-12, atol=1e-16)


def test_mse_loss_and_gradient_known_values():
    # Two classes with targets (0, 0) and (1, 2); outputs (1, 1) labelled 1, (3, 0) labelled 0.
    loss = TargetMSELoss(torch.tensor([[0.0, 0.0], [1.0, 2.0]], dtype=torch.float64))
    out = torch.tensor([[[1.0, 1.0], [3.0, 0.0]]], dtype=torch.float64)  # (T=1, n=2, D=2)
    y = torch.tensor([[1, 0]])
    per_example, grad = loss.per_example(out.clone(), y)
    # (0^2 + 1^2) / 2 = 0.5 and (3^2 + 0^2) / 2 = 4.5; gradient 2 (out - Y_y) / D
    torch.testing.assert_close(per_example, torch.tensor([[0.5, 4.5]], dtype=torch.float64))
    torch.testing.assert_close(grad, torch.tensor([[[0.0, -1.0], [3.0, 0.0]]], dtype=torch.float64))
    torch.testing.assert_close(loss.mean(out, y), torch.tensor([2.5], dtype=torch.float64))


def test_mse_mean_and_gradient_equal_torch_mse_loss():
    # The trial's mean loss is PyTorch's MSELoss (reduction 'mean', seed 002's), and the
    # per-example gradients divided by n are its gradient.
    gen = torch.Generator().manual_seed(3)
    targets = torch.randn(19, 30, generator=gen, dtype=torch.float64)
    out = torch.randn(2, 45, 30, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 19, (2, 45), generator=gen)
    loss = TargetMSELoss(targets)
    per_example, grad = loss.per_example(out.clone(), y)
    for t in range(2):
        x = out[t].clone().requires_grad_()
        reference = torch.nn.MSELoss()(x, targets[y[t]])
        reference.backward()
        torch.testing.assert_close(per_example[t].mean(), reference.detach(), rtol=1e-14, atol=0)
        torch.testing.assert_close(grad[t] / 45, x.grad, rtol=1e-12, atol=1e-16)


def test_nearest_target_accuracy_hand_case():
    # Targets at (0, 0), (4, 0), (0, 4); (1, 1) is nearest the first, (3, 1) the second,
    # (1, 3) the third.
    loss = TargetMSELoss(torch.tensor([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]], dtype=torch.float64))
    out = torch.tensor([[[1.0, 1.0], [3.0, 1.0], [1.0, 3.0]]]).float()  # float32 outputs
    assert loss.correct(out, torch.tensor([[0, 1, 2]])).tolist() == [[True, True, True]]
    assert loss.correct(out, torch.tensor([[1, 2, 0]])).tolist() == [[False, False, False]]
    assert loss.correct(out, torch.tensor([[0, 0, 0]])).tolist() == [[True, False, False]]


def test_cross_entropy_scale_divides_loss_and_gradient():
    z, y = dominated_logits((-5.0, 5.0), n=10, p=19)
    loss, grad = cross_entropy(z, y)
    scaled, scaled_grad = CrossEntropyLoss(19.0).per_example(z, y)
    torch.testing.assert_close(scaled, loss / 19, rtol=1e-15, atol=0)
    torch.testing.assert_close(scaled_grad, grad / 19, rtol=1e-15, atol=0)
    one, one_grad = CrossEntropyLoss().per_example(z, y)
    assert torch.equal(one, loss) and torch.equal(one_grad, grad)  # scale 1: today's numbers exactly
    top = z.argmax(-1)
    assert torch.equal(CrossEntropyLoss().correct(z, y), top == y) and (top == y).any() and (top != y).any()


def test_mse_targets_are_shared_and_seeded(tiny_cfg):
    cfg = tiny_cfg(p=10, task=AddTask(), loss=MSEConfig(target_dim=30))
    Y = targets(cfg)
    assert Y.shape == (19, 30) and n_outputs(cfg) == 30
    assert abs(Y.mean().item()) < 0.15 and abs(Y.std().item() - 1) < 0.1  # N(0, 1)
    assert torch.equal(Y, targets(tiny_cfg(p=10, task=AddTask(), loss=MSEConfig(), seed=7)))  # not per seed
    assert not torch.equal(Y, targets(tiny_cfg(p=10, task=AddTask(), loss=MSEConfig(), init_seed=1)))
    assert n_outputs(tiny_cfg(p=10, task=AddTask())) == 19 and n_outputs(tiny_cfg()) == 11
