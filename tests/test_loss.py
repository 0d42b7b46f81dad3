import pytest
import torch

from circle_survival.loss import CrossEntropy, cross_entropy


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
