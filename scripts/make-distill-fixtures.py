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

# --- hidden-state matching (TinyBERT-style): test/fixtures/distill/hidden-loss.json ---------------
# loss = alpha * KL + (1 - alpha) * CE (as above) + w * mean over pairs l of
#        mse_loss((h_s[l] @ W_l.T + b_l)[m], h_t[l][m])   (mean over the soft-target rows' elements)
# with gradients w.r.t. the student logits, the student hidden states and each W_l, b_l.
OUT_H = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'distill', 'hidden-loss.json')
HS, HT, PAIRS = 5, 7, 2
hs0 = torch.randn(PAIRS, N, HS, dtype=torch.float64)
ht0 = torch.randn(PAIRS, N, HT, dtype=torch.float64) * 1.5
W0 = torch.randn(PAIRS, HT, HS, dtype=torch.float64) * 0.3
b0 = torch.randn(PAIRS, HT, dtype=torch.float64) * 0.1
hcases = []
for T, alpha, w in [(2.0, 0.5, 1.0), (1.0, 0.5, 0.25), (3.0, 1.0, 2.0)]:
    s = s0.clone().requires_grad_(True)
    hs = hs0.clone().requires_grad_(True)
    W = W0.clone().requires_grad_(True)
    b = b0.clone().requires_grad_(True)
    loss = loss_fn(s, t0, y, m, T, alpha)
    for l in range(PAIRS):
        proj = F.linear(hs[l], W[l], b[l])
        loss = loss + w / PAIRS * F.mse_loss(proj[m], ht0[l][m])
    loss.backward()
    hcases.append({'temperature': T, 'alpha': alpha, 'hiddenWeight': w, 'loss': loss.item(),
                   'gradLogits': s.grad.flatten().tolist(), 'gradHidden': hs.grad.flatten().tolist(),
                   'gradWeight': W.grad.flatten().tolist(), 'gradBias': b.grad.flatten().tolist()})
hdoc = {
    'about': 'scripts/make-distill-fixtures.py (torch %s): kl_div*T^2/rows*alpha + (1-alpha)*cross_entropy + w * mean_l mse_loss(linear(hs_l, W_l, b_l)[m], ht_l[m])' % torch.__version__,
    'rows': N, 'classes': C, 'studentHidden': HS, 'teacherHidden': HT, 'pairs': PAIRS,
    'student': s0.flatten().tolist(), 'teacher': t0.flatten().tolist(),
    'labels': y.tolist(), 'softMask': [int(v) for v in m.tolist()],
    'studentHiddenStates': hs0.flatten().tolist(), 'teacherHiddenStates': ht0.flatten().tolist(),
    'projectionWeight': W0.flatten().tolist(), 'projectionBias': b0.flatten().tolist(),
    'cases': hcases,
}
with open(OUT_H, 'w') as f:
    json.dump(hdoc, f, indent=1)
    f.write('\n')
print('wrote', OUT_H)
