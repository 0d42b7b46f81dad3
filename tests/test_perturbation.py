import numpy as np
import pyarrow.parquet as pq
import pytest
import torch

from circle_survival.config import ConfigError, validate
from circle_survival.fourier import half, spectrum
from circle_survival.job import run_job
from circle_survival.perturbation import (construct, keep_frequencies, perturb, scale_frequencies,
                                          top_frequencies)
from circle_survival.seeding import generator
from circle_survival.trainer import Trainer

PS = [13, 16]  # odd and even p (16 has the self-mirrored Nyquist frequency k = 8)


def embedding(p, d=6, seed=0):
    return torch.randn(2, p, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize("p", PS)
def test_scale_multiplies_exactly_the_listed_frequencies(p):
    E = embedding(p)
    ks = [2, p // 2]  # p // 2 is the Nyquist frequency when p is even
    out = scale_frequencies(E, ks, 1.3)
    before, after = half(spectrum(E)), half(spectrum(out))  # (2, p//2 + 1)
    factor = torch.ones(p // 2 + 1, dtype=torch.float64)
    factor[ks] = 1.3
    torch.testing.assert_close(after, before * factor, rtol=1e-12, atol=1e-12)
    # the full spectrum too: F_{p-k} follows F_k
    torch.testing.assert_close(spectrum(out)[:, p - 2], 1.3 * spectrum(E)[:, p - 2])


@pytest.mark.parametrize("p", PS)
def test_keep_leaves_only_the_kept_frequencies_and_dc(p):
    E = embedding(p)
    ks = [3, p // 2]
    out = keep_frequencies(E, ks)
    before, after = half(spectrum(E)), half(spectrum(out))
    kept = [0, *ks]
    torch.testing.assert_close(after[:, kept], before[:, kept], rtol=1e-12, atol=1e-12)
    others = [k for k in range(p // 2 + 1) if k not in kept]
    assert after[:, others].max() < 1e-12


@pytest.mark.parametrize("p", PS)
def test_construct_gives_the_requested_signals(p):
    gen = torch.Generator().manual_seed(3)
    E = construct(p, 5, (4, 2), scale=80.0, r=0.25, eps=1e-6, gen=gen)
    assert E.shape == (p, 5) and E.dtype == torch.float64
    expected = torch.full((p // 2 + 1,), 1e-6, dtype=torch.float64)
    expected[0], expected[4], expected[2] = 0.0, 80.0, 20.0
    torch.testing.assert_close(half(spectrum(E)), expected, rtol=1e-9, atol=1e-12)
    # each F_k is a real multiple of a unit direction (no imaginary part)
    F = torch.fft.fft(E, dim=0)
    assert F.imag.abs().max() < 1e-9


def test_random_keep_and_construct_follow_the_seeding_rule(tiny_cfg):
    cfg = tiny_cfg(trials=4, **{"perturbation.kind": "keep", "perturbation.random": 2})
    E = embedding(cfg.p, cfg.d)[:1].expand(4, -1, -1)
    _, applied = perturb(cfg, E, [0, 1, 2, 3])
    assert all(len(ks) == 2 and all(1 <= k <= cfg.p // 2 for k in ks) for ks in applied)
    assert len({tuple(ks) for ks in applied}) > 1  # drawn per trial
    _, part = perturb(cfg, E[:2], [2, 3])  # trial i depends only on (seed, i)
    assert part == applied[2:]
    fixed = tiny_cfg(trials=4, vary=["mlp", "split"],
                     **{"perturbation.kind": "keep", "perturbation.random": 2})
    _, same = perturb(fixed, E, [0, 1, 2, 3])  # a fixed embedding keeps the same set
    assert all(ks == same[0] for ks in same)

    built = tiny_cfg(trials=3, **{"perturbation.kind": "construct", "perturbation.r": 0.5})
    out, pairs = perturb(built, embedding(built.p, built.d)[:1].expand(3, -1, -1), [0, 1, 2])
    for E_t, (k1, k2) in zip(out, pairs):
        s = half(spectrum(E_t))
        assert k1 != k2 and s[k1] == pytest.approx(80) and s[k2] == pytest.approx(40)


def test_perturbation_stream_is_its_own():
    from circle_survival.config import TrainConfig
    draws = set()
    for vary in (["embedding"], []):
        cfg = TrainConfig(vary=vary)
        for trial in range(3):
            for stream in (None, "perturbation"):
                draws.add(torch.randint(0, 2**62, (1,),
                                        generator=generator(cfg, "embedding", trial, stream)).item())
    assert len(draws) == 3 * 2 + 2  # varied: 3 trials x 2 streams; fixed: 1 x 2


def test_trainer_starts_from_the_perturbed_embedding(tiny_cfg):
    plain = Trainer(tiny_cfg(trials=2))
    cfg = tiny_cfg(trials=2, **{"perturbation.kind": "scale", "perturbation.ks": [3],
                                "perturbation.alpha": 1.5})
    result = Trainer(cfg).run()
    factor = np.ones(cfg.p // 2 + 1)
    factor[3] = 1.5
    np.testing.assert_allclose(half(result.init_spectrum), half(plain.init_spectrum) * factor, rtol=1e-12)
    np.testing.assert_allclose(result.signal[0], half(result.init_spectrum), rtol=1e-5)
    assert result.applied == [[3], [3]]


def test_keep_top_reads_the_strongest_survivors_of_a_source_job(tmp_path, tiny_cfg):
    base = tiny_cfg(trials=2, steps=200)
    run_job(base, tmp_path / "base")
    source = pq.read_table(tmp_path / "base" / "trials.parquet").to_pandas()
    cfg = tiny_cfg(trials=2, steps=5, **{"perturbation.kind": "keep", "perturbation.top": 2,
                                         "perturbation.source": str(tmp_path / "base")})
    run_job(cfg, tmp_path / "ablated")
    trials = pq.read_table(tmp_path / "ablated" / "trials.parquet").to_pandas()
    for t in (0, 1):
        final = np.asarray(source.final_signal[t])
        strongest = sorted(int(k) for k in 1 + np.argsort(-final[1:])[:2])
        assert list(trials["perturbation.applied"][t]) == strongest
        assert strongest == sorted(top_frequencies(str(tmp_path / "base"), t, 2, base.p))
        init = np.asarray(trials.init_signal[t])
        assert np.all(init[[k for k in range(1, base.p // 2 + 1) if k not in strongest]] < 1e-9)
    assert (trials["perturbation.kind"] == "keep").all() and (trials["perturbation.top"] == 2).all()
    schema = pq.read_schema(tmp_path / "ablated" / "trials.parquet")
    assert str(schema.field("perturbation.applied").type) == "list<element: int32>"
    assert str(schema.field("perturbation.ks").type) == "list<element: int32>"

    # a one-trial source serves every trial; a missing one is named in one line
    run_job(tiny_cfg(trials=1, steps=50), tmp_path / "one")
    assert len(top_frequencies(str(tmp_path / "one"), 7, 1, base.p)) == 1
    with pytest.raises(ConfigError, match="perturbation.source=.*nowhere.*run that job first") as err:
        Trainer(tiny_cfg(**{"perturbation.kind": "keep", "perturbation.top": 1,
                            "perturbation.source": str(tmp_path / "nowhere")}))
    assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="p=13"):
        Trainer(tiny_cfg(p=13, **{"perturbation.kind": "keep", "perturbation.top": 1,
                                  "perturbation.source": str(tmp_path / "base")}))


BAD = [
    ({"perturbation.kind": "bogus"}, "perturbation.kind="),
    ({"perturbation.kind": "scale"}, "perturbation.ks=[]"),
    ({"perturbation.kind": "scale", "perturbation.ks": [0]}, "perturbation.ks=[0]"),
    ({"perturbation.kind": "scale", "perturbation.ks": [6]}, "1..5"),  # p = 11
    ({"perturbation.kind": "scale", "perturbation.ks": [2, 2]}, "perturbation.ks=[2, 2]"),
    ({"perturbation.kind": "scale", "perturbation.ks": [2], "perturbation.alpha": 0.0},
     "perturbation.alpha=0.0"),
    ({"perturbation.kind": "keep"}, "exactly one of"),
    ({"perturbation.kind": "keep", "perturbation.random": 1, "perturbation.ks": [1]}, "exactly one of"),
    ({"perturbation.kind": "keep", "perturbation.random": 6}, "perturbation.random=6"),
    ({"perturbation.kind": "keep", "perturbation.top": 2}, "perturbation.source=''"),
    ({"perturbation.kind": "construct", "perturbation.r": 1.5}, "perturbation.r=1.5"),
    ({"perturbation.kind": "construct", "p": 3}, "p=3"),
    ({"snapshots.every": -1}, "snapshots.every=-1"),
    ({"snapshots.steps": [5, -2]}, "snapshots.steps="),
    ({"scale": "huge"}, "scale='huge'"),
]


@pytest.mark.parametrize("overrides,named", BAD)
def test_bad_values_name_key_and_range(tiny_cfg, overrides, named):
    with pytest.raises(ConfigError) as err:
        validate(tiny_cfg(**overrides))
    message = str(err.value)
    assert named in message and "allowed" in message and "\n" not in message, message
