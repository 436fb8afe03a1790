#!/usr/bin/env python3
"""Reference values for tokentune's distillation loss (src/train/distill-loss.ts).

    TOKENTUNE_HF_PYTHON=/tmp/hfenv/bin/python; $TOKENTUNE_HF_PYTHON scripts/make-distill-fixtures.py

Writes test/fixtures/distill/kl-loss.json: student and teacher logits, gold labels (-100 =
no gold label), a soft-target row mask, and for several (T, alpha) the loss

    alpha * T^2 * kl_div(log_softmax(s[m] / T), softmax(t[m] / T), reduction='sum', log_target=False) / m.sum()
      + (1 - alpha) * cross_entropy(s, y, ignore_index=-100)            (mean over gold rows)

(rows m: those with a soft target; the KL term is 'batchmean' over them) and its gradient with
respect to the student logits, computed by torch autograd in float64.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(25)
OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'distill', 'kl-loss.json')


def loss_fn(s, t, y, m, T, alpha):
    kl = F.kl_div(F.log_softmax(s[m] / T, dim=-1), F.softmax(t[m] / T, dim=-1), reduction='sum', log_target=False)
    kl = kl * T * T / m.sum()
    if alpha == 1.0 or (y != -100).sum() == 0:
        return alpha * kl
    return alpha * kl + (1 - alpha) * F.cross_entropy(s, y, ignore_index=-100)


cases = []
N, C = 13, 9
s0 = (torch.randn(N, C, dtype=torch.float64) * 3)
t0 = (torch.randn(N, C, dtype=torch.float64) * 4)
t0[3, 2] = 40.0  # a confident teacher row: near-zero target probabilities
y = torch.randint(0, C, (N,))
y[[0, 5, 9]] = -100            # padding / continuation pieces: no gold label
m = torch.ones(N, dtype=torch.bool)
m[[0, 9]] = False             # no soft target either (specials)
m[5] = True                   # an unlabelled-text row: soft target, no gold label
for T, alpha in [(1.0, 0.5), (2.0, 0.5), (4.0, 0.9), (3.0, 1.0), (1.5, 0.0)]:
    s = s0.clone().requires_grad_(True)
    loss = loss_fn(s, t0, y, m, T, alpha)
    loss.backward()
    cases.append({'temperature': T, 'alpha': alpha, 'loss': loss.item(), 'grad': s.grad.flatten().tolist()})

doc = {
    'about': 'scripts/make-distill-fixtures.py (torch %s): kl_div(log_softmax(s/T), softmax(t/T), sum, log_target=False)*T^2/rows mixed with cross_entropy(ignore_index=-100)' % torch.__version__,
    'rows': N, 'classes': C,
    'student': s0.flatten().tolist(), 'teacher': t0.flatten().tolist(),
    'labels': y.tolist(), 'softMask': [int(v) for v in m.tolist()],
    'cases': cases,
}
with open(OUT, 'w') as f:
    json.dump(doc, f, indent=1)
    f.write('\n')
print('wrote', OUT)
