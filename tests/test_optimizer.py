import torch

from circle_survival import optimizer
from circle_survival.trainer import Trainer
from tests.helpers.crash import run_until


def test_tensors_per_trial_on_cpu_per_block_on_gpu(tiny_cfg, gpu_layout):
    assert len(Trainer(tiny_cfg(trials=3)).opt.pieces) == 3 * 7
    assert len(Trainer(tiny_cfg(trials=3, freeze_embedding=True)).opt.pieces) == 3 * 6
    gpu_layout()
    pieces = Trainer(tiny_cfg(trials=3, block_trials=2)).opt.pieces
    assert [(k, s.start, s.stop) for k, s in pieces[:2] + pieces[7:8]] == [
        ("E", 0, 2), ("W1", 0, 2), ("E", 2, 3)]


def test_state_moves_from_per_trial_tensors_to_one_block(tiny_cfg, gpu_layout):
    # A CPU job (blocks of 2, a tensor per trial) requeued onto a GPU (one block, a tensor
    # per parameter) continues as one that ran there from the start.
    cfg = tiny_cfg(trials=3, steps=40, dtype="float64")
    saved = run_until(Trainer(cfg), 13).state_dict()
    gpu_layout()
    gpu_cfg = tiny_cfg(trials=3, steps=40, dtype="float64", block_trials=3)
    straight = Trainer(gpu_cfg)
    straight.run()
    resumed = Trainer(gpu_cfg)
    resumed.load_state_dict(saved)
    assert resumed.opt.state_dict()["step"] == 13
    resumed.run()
    for k in straight.blocks[0]:  # the layouts round differently: close, not equal
        torch.testing.assert_close(resumed.param(k), straight.param(k), rtol=1e-9, atol=1e-12)
    moments = resumed.opt.state_dict(), straight.opt.state_dict()
    for m in optimizer.MOMENTS:
        for k, v in moments[0][m].items():
            torch.testing.assert_close(v, moments[1][m][k], rtol=1e-9, atol=1e-15)


def test_state_before_the_first_update(tiny_cfg):
    state = Trainer(tiny_cfg(trials=2)).opt.state_dict()
    assert state["step"] == 0 and not state["exp_avg"]["W2"].any()
    assert state["exp_avg_sq"]["E"].shape == (2, 11, 8)
