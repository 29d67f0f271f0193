import numpy as np
import pytest
import torch

from crossscale import ParameterError
from crossscale.atlas import RegionGraph
from crossscale.models.spread import (
    conserved_weights,
    graph_laplacian,
    network_diffusion,
    seed_vector,
    solve_scipy,
)
from crossscale.models.spread.dynamics import fisher_kpp_torch, solve_torch


@pytest.fixture(scope="module")
def connectome():
    return RegionGraph.from_connectome()


@pytest.mark.parametrize("kind", ["combinatorial", "normalized"])
def test_network_diffusion_conserves_mass(connectome, kind):
    lap = graph_laplacian(connectome, kind)
    x0 = seed_vector(68, [connectome.regions.get_loc("L_entorhinal")], 1.0)
    x = network_diffusion(lap, x0, np.linspace(0, 30, 7), rho=0.5)
    w = conserved_weights(connectome, kind)
    np.testing.assert_allclose(x @ w, w @ x0, rtol=1e-10)
    # and it spreads: the seed loses pathology, every region ends up positive
    assert x[-1, 0] > 0 and x[-1].min() > 0
    assert x[-1].max() < x0.max()


def test_combinatorial_laplacian_annihilates_constants(connectome):
    lap = graph_laplacian(connectome)
    np.testing.assert_allclose(lap @ np.ones(68), 0.0, atol=1e-12)
    np.testing.assert_allclose(np.mean(np.diag(lap)), 1.0)


def test_two_node_analytic_solution():
    # dx/dt = -rho L x on two nodes joined by weight 1: the difference decays as exp(-2 rho t)
    lap = np.array([[1.0, -1.0], [-1.0, 1.0]])
    t = np.array([0.0, 0.3, 1.0, 2.5])
    rho = 0.7
    a, b = 0.9, 0.1
    mean, diff = (a + b) / 2, (a - b) / 2 * np.exp(-2 * rho * t)
    expected = np.column_stack([mean + diff, mean - diff])
    np.testing.assert_allclose(
        network_diffusion(lap, np.array([a, b]), t, rho), expected, atol=1e-12
    )
    np.testing.assert_allclose(solve_scipy(lap, np.array([a, b]), t, rho=rho), expected, atol=1e-8)
    ev, evec = torch.linalg.eigh(torch.tensor(lap))
    out = solve_torch("diffusion", torch.tensor(lap), torch.tensor([[a, b]], dtype=torch.float64), torch.tensor(t)[None],
                      torch.tensor([rho], dtype=torch.float64), eig=(ev, evec))  # fmt: skip
    np.testing.assert_allclose(out[0].numpy(), expected, atol=1e-12)


def test_logistic_growth_without_coupling():
    # with no edges Fisher-KPP is logistic growth in each region: x = x0 e^{at} / (1 + x0 (e^{at}-1))
    lap = torch.zeros(2, 2, dtype=torch.float64)
    x0 = torch.tensor([[0.01, 0.2]], dtype=torch.float64)
    t = torch.tensor([[0.0, 1.0, 4.7, 9.0]], dtype=torch.float64)
    a = 0.8
    out = fisher_kpp_torch(lap, x0, t, torch.tensor([0.3], dtype=torch.float64),
                           torch.tensor([a], dtype=torch.float64), n_steps=200)  # fmt: skip
    e = np.exp(a * t[0].numpy())[:, None]
    exact = x0.numpy() * e / (1 + x0.numpy() * (e - 1))
    np.testing.assert_allclose(out[0].numpy(), exact, rtol=1e-6)


@pytest.mark.parametrize(("rho", "alpha"), [(0.1, 0.5), (0.4, 0.2), (1.0, 0.8)])
def test_torch_rk4_matches_scipy(connectome, rho, alpha):
    lap = graph_laplacian(connectome)
    regions = list(connectome.regions)
    times = np.array([0.0, 1.7, 6.0, 12.5, 20.0])
    prod = np.linspace(0.5, 1.5, 68)
    seeds = ["L_entorhinal", "R_precuneus"]
    ref = np.stack([
        solve_scipy(lap, seed_vector(68, regions.index(s), 0.05), times, rho=rho, alpha=alpha,
                    production=prod)
        for s in seeds
    ])  # fmt: skip
    x0 = torch.tensor(np.stack([seed_vector(68, regions.index(s), 0.05) for s in seeds]))
    out = fisher_kpp_torch(
        torch.tensor(lap), x0, torch.tensor(times).repeat(2, 1),
        torch.full((2,), rho, dtype=torch.float64), torch.full((2,), alpha, dtype=torch.float64),
        production=torch.tensor(prod), n_steps=100,
    )  # fmt: skip
    np.testing.assert_allclose(out.numpy(), ref, atol=2e-5)
    # Fisher-KPP stays in [0, 1] and saturates
    assert ref.min() > -1e-9 and ref.max() <= 1 + 1e-9


def test_each_row_takes_its_own_steps_whatever_the_batch(connectome):
    """A row's RK4 solution does not depend on its batch mates (so a batch costs the sum of
    its rows' own step counts): a mild row solved next to a very stiff one, or alone, is the
    same; rows in one `group` share the stiffest member's step count."""
    lap = torch.tensor(graph_laplacian(connectome), dtype=torch.float64)
    f64 = dict(dtype=torch.float64)
    x0 = torch.tensor(np.stack([seed_vector(68, i, 0.05) for i in (0, 5, 9, 30)]))
    times = torch.tensor([[8.0, 10.0], [8.0, 12.0], [60.0, 70.0], [3.0, 5.0]], **f64)
    rho = torch.tensor([0.1, 0.12, 1.5, 0.05], **f64)  # row 2: stiff (rho * t large)
    alpha = torch.tensor([0.5, 0.4, 1.0, 0.3], **f64)
    both = fisher_kpp_torch(lap, x0, times, rho, alpha, n_steps=30)
    for i in range(4):
        alone = fisher_kpp_torch(lap, x0[i : i + 1], times[i : i + 1], rho[i : i + 1],
                                 alpha[i : i + 1], n_steps=30)  # fmt: skip
        torch.testing.assert_close(both[i], alone[0], rtol=1e-12, atol=1e-14)
    # the stiff row keeps the accuracy of its own steps
    ref = solve_scipy(lap.numpy(), x0[2].numpy(), times[2].numpy(), rho=1.5, alpha=1.0)
    np.testing.assert_allclose(both[2].numpy(), ref, atol=1e-4)
    # group=2: rows 0-1 and 2-3 pair up; row 3 takes the stiff row 2's steps, row 0 does not
    grouped = fisher_kpp_torch(lap, x0, times, rho, alpha, n_steps=30, group=2)
    torch.testing.assert_close(grouped[:2], both[:2], rtol=1e-12, atol=1e-14)
    assert not torch.allclose(grouped[3], both[3], rtol=0, atol=1e-12)
    pair = fisher_kpp_torch(lap, x0[2:], times[2:], rho[2:], alpha[2:], n_steps=30, group=2)
    torch.testing.assert_close(grouped[2:], pair, rtol=1e-12, atol=1e-14)


def test_torch_solver_is_differentiable(connectome):
    lap = torch.tensor(graph_laplacian(connectome), dtype=torch.float64)
    x0 = torch.zeros(1, 68, dtype=torch.float64)
    x0[0, 0] = 0.05
    rho = torch.tensor([0.2], dtype=torch.float64, requires_grad=True)
    alpha = torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
    times = torch.tensor([[5.0, 8.0]], dtype=torch.float64)
    out = fisher_kpp_torch(lap, x0, times, rho, alpha)
    out.sum().backward()
    assert alpha.grad.item() > 0  # faster growth, more pathology

    def total(r, a):  # the same solver, no gradient
        with torch.no_grad():
            return fisher_kpp_torch(lap, x0, times, torch.tensor([r], dtype=torch.float64),
                                    torch.tensor([a], dtype=torch.float64)).sum().item()  # fmt: skip

    # autograd equals central finite differences of the solver
    h = 1e-5
    fd_rho = (total(0.2 + h, 0.5) - total(0.2 - h, 0.5)) / (2 * h)
    fd_alpha = (total(0.2, 0.5 + h) - total(0.2, 0.5 - h)) / (2 * h)
    assert rho.grad.item() == pytest.approx(fd_rho, rel=1e-5)
    assert alpha.grad.item() == pytest.approx(fd_alpha, rel=1e-5)
    assert abs(rho.grad.item()) > 1e-3  # spread matters at these times


def test_bad_inputs_raise(connectome):
    with pytest.raises(ParameterError, match="laplacian must be"):
        graph_laplacian(connectome, "random-walk")
    with pytest.raises(ParameterError, match="epicentres must be region indices"):
        seed_vector(68, [70])
    with pytest.raises(ParameterError, match="model must be one of"):
        solve_torch("sir", torch.eye(2), torch.zeros(1, 2), torch.zeros(1, 1), torch.ones(1))


def test_seed_vector_batches_one_epicentre_per_row():
    rows = seed_vector(5, [0, 3, 3], 0.2, per_row=True)
    assert rows.shape == (3, 5) and np.allclose(rows.sum(1), 0.2) and rows[1, 3] == 0.2
    t = seed_vector(5, torch.tensor([4, 1]), 0.5, per_row=True, dtype=torch.float64)
    assert t.dtype == torch.float64 and t[0, 4] == 0.5 and t[1, 1] == 0.5 and t.sum() == 1.0
    np.testing.assert_array_equal(seed_vector(5, [0, 2], 1.0), [0.5, 0, 0.5, 0, 0])


def test_module_log_likelihood_is_the_gaussian_of_the_residuals():
    import math

    from crossscale.models.spread.dynamics import graph_laplacian
    from crossscale.models.spread.module import SpreadMixtureModule

    lap = torch.as_tensor(graph_laplacian(RegionGraph.from_connectome()), dtype=torch.float64)
    m = SpreadMixtureModule(lap.float(), 2, prior_loc=(math.log(0.1), math.log(0.5), 2.3),
                            prior_scale=(0.5, 0.5, 0.5)).double()  # fmt: skip
    gen = torch.Generator().manual_seed(0)
    y = torch.randn(3, 2, 68, generator=gen, dtype=torch.float64)
    mask = torch.tensor([[1.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    pred = torch.randn(3, 4, 2, 68, generator=gen, dtype=torch.float64)  # 4 draws per subject
    ll = m.log_likelihood(y, mask, pred, sigma=0.3)
    rss = (((y[:, None] - pred) ** 2) * mask[:, None, :, None]).sum((-1, -2))
    expect = m.gaussian_log_likelihood(rss, mask.sum(1, keepdim=True) * 68, 0.3)
    torch.testing.assert_close(ll, expect)
    assert ll.shape == (3, 4)
    y2 = y.clone()
    y2[1, 1] += 100.0  # the padded visit of subject 1 does not count
    torch.testing.assert_close(m.log_likelihood(y2, mask, pred, sigma=0.3)[1], ll[1])
    assert not torch.allclose(m.log_likelihood(y2 * 0, mask, pred, sigma=0.3)[1], ll[1])
