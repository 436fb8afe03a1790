"""The weight spread the parity-fixture scripts apply after transformers' init.

HF's init leaves LayerNorms at 1/0 and biases at 0, and its std-0.02 weights make attention
uniform and logits ~0, so a kernel that ignored any of them would still pass. From the seeded
stream, in module order: LayerNorm weight += N(0, 0.1), bias = N(0, 0.1); Linear weight *= 8,
bias (where there is one) = N(0, 0.02); embedding tables *= `embedding_scale` (pad rows stay 0).
"""
import torch


def perturb(model, embedding_scale):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.LayerNorm):
                m.weight.add_(torch.randn_like(m.weight) * 0.1)
                m.bias.copy_(torch.randn_like(m.bias) * 0.1)
            elif isinstance(m, torch.nn.Linear):
                m.weight.mul_(8.0)
                if m.bias is not None:
                    m.bias.copy_(torch.randn_like(m.bias) * 0.02)
            elif isinstance(m, torch.nn.Embedding):
                m.weight.mul_(embedding_scale)
    return model
