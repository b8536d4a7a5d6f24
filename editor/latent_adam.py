"""Adam for the inversion's one latent tensor, without torch.optim.

torch.optim's optimisers import torch._dynamo (and with it torch._inductor and triton) when
they are built and stepped: about 160 MB resident in a server that never compiles anything
(README "The server under load"), and about 0.3 ms of Python per step, a tenth of an
inversion step. `LatentAdam` is torch.optim.Adam's single-tensor update (the one it runs on
the CPU; no weight decay, no AMSGrad) in the same order of operations, so a fit is bit for
bit the one torch's Adam gives (tests/test_invert.py checks that)."""

from __future__ import annotations

import torch


class LatentAdam:
    """Adam (Kingma & Ba 2015) over one tensor that requires grad; `lr` may be changed
    between steps (invert.py's ramp)."""

    def __init__(self, param: torch.Tensor, *, lr: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        if not param.requires_grad:
            raise ValueError("LatentAdam needs a tensor that requires grad")
        self.param, self.lr, self.eps = param, lr, eps
        self.beta1, self.beta2 = betas
        self.steps = 0
        self.exp_avg = torch.zeros_like(param, memory_format=torch.preserve_format)
        self.exp_avg_sq = torch.zeros_like(param, memory_format=torch.preserve_format)

    def zero_grad(self) -> None:
        self.param.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """One update from `param.grad` (none yet: nothing, as torch's Adam skips it)."""
        grad = self.param.grad
        if grad is None:
            return
        self.steps += 1
        self.exp_avg.lerp_(grad, 1 - self.beta1)
        self.exp_avg_sq.mul_(self.beta2).addcmul_(grad, grad, value=1 - self.beta2)
        # torch counts steps in a float32 tensor and reads it back as a Python float: the same
        # powers for any count an inversion reaches (below 2 ** 24).
        step = float(self.steps)
        bias_correction1 = 1 - self.beta1 ** step
        bias_correction2 = 1 - self.beta2 ** step
        denom = (self.exp_avg_sq.sqrt() / bias_correction2 ** 0.5).add_(self.eps)
        self.param.addcdiv_(self.exp_avg, denom, value=-(self.lr / bias_correction1))
