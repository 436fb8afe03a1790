#!/usr/bin/env python3
"""Training steps of Hugging Face transformers' own BertForTokenClassification on given variable
batch shapes (the reference for bench/conll-throughput.ts).

The model is transformers' class built from a BertConfig of the bench's size (HF defaults
otherwise: exact GELU, dropout 0.1, its default attention implementation), with thread set-up
and the other-load probe from ../shared/bench/benchutil.py; this script only feeds it a sequence
of batches whose shapes and attention masks are those of real, dynamically padded CoNLL-2003
batches, so both sides see the same batches (transformers computes every padding token; ours, as
`tokentune train` does, skips them outside attention unless BENCH_CONLL_KEEP_PADDING=1). Run it
with the transformers 5 / torch 2.x Python (TOKENTUNE_HF_PYTHON; ../shared/bench/hf-env.sh builds
one).

Input (positional SHAPES): a JSON list, one entry per step,
    [batch, seq_len, real_tokens]            -> an all-ones mask is NOT assumed:
                                                 real_tokens must be batch*seq_len
    [batch, seq_len, real_tokens, lengths]   -> lengths = real tokens per row;
                                                 the mask is 1 on the first
                                                 lengths[i] positions of row i
Token ids are random in [1, vocab) on real positions and 0 ([PAD]) on padding;
labels are random in [0, labels) with -100 on padding and on each row's first
and last real position ([CLS]/[SEP]).

One step = forward + cross-entropy (ignore_index -100) + backward
+ clip_grad_norm_(max_grad_norm) (HF Trainer's default 1.0; 0 = off)
+ AdamW step (lr --lr, betas (0.9, 0.999), eps 1e-8, the HF Trainer's) + zero_grad(set_to_none=True).
The first --warmup steps run on the first shape, untimed; then every shape is
timed once, in the order given.

Output: one JSON object on stdout.
"""

import argparse
import contextlib
import json
import os
import resource
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SHARED_BENCH_DIR = os.path.normpath(
    os.path.join(HERE, "..", "..", "shared", "bench"))


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("shapes", help="JSON file with the batch shapes (see above)")
    p.add_argument("--shared-bench-dir", default=DEFAULT_SHARED_BENCH_DIR,
                   help="folder holding benchutil.py")
    p.add_argument("--layers", type=int, default=12)
    p.add_argument("--hidden", type=int, default=768)
    p.add_argument("--heads", type=int, default=12)
    p.add_argument("--intermediate", type=int, default=3072)
    p.add_argument("--vocab", type=int, default=28996)
    p.add_argument("--labels", type=int, default=9)
    p.add_argument("--max-positions", type=int, default=512)
    p.add_argument("--threads", type=int, default=2,
                   help="intra-op + BLAS threads; 0 = library defaults")
    p.add_argument("--dtype", choices=("fp32", "bf16"), default="fp32",
                   help="bf16 = torch.autocast('cpu', torch.bfloat16)")
    p.add_argument("--lr", type=float, default=1.5e-5)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--max-grad-norm", type=float, default=1.0)
    p.add_argument("--warmup", type=int, default=1,
                   help="untimed steps on the first shape")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def _positive_int(x, what, path, i):
    # bool is an int subclass in Python: reject it explicitly.
    if not isinstance(x, int) or isinstance(x, bool) or x < 1:
        raise ValueError(f"{path}: entry {i}: {what} must be a positive "
                         f"integer, got {x!r}")
    return x


def load_shapes(path, max_positions):
    """Validated [(batch, seq, real, lengths-or-None)] from the JSON file."""
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: cannot read shapes: {e}") from None
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{path}: expected a non-empty JSON list of "
                         f"[batch, seq_len, real_tokens(, lengths)]")
    out = []
    for i, e in enumerate(raw):
        if not isinstance(e, list) or len(e) not in (3, 4):
            raise ValueError(f"{path}: entry {i}: expected [batch, seq_len, "
                             f"real_tokens] or [..., lengths], got {e!r}")
        b = _positive_int(e[0], "batch", path, i)
        t = _positive_int(e[1], "seq_len", path, i)
        real = _positive_int(e[2], "real_tokens", path, i)
        if t > max_positions:
            raise ValueError(f"{path}: entry {i}: seq_len {t} exceeds "
                             f"--max-positions {max_positions}")
        lengths = None
        if len(e) == 4:
            lengths = e[3]
            if not isinstance(lengths, list) or len(lengths) != b:
                raise ValueError(f"{path}: entry {i}: lengths must be a list "
                                 f"of {b} integers")
            for n in lengths:
                if not isinstance(n, int) or isinstance(n, bool) \
                        or not 1 <= n <= t:
                    raise ValueError(f"{path}: entry {i}: row length {n!r} "
                                     f"is not in [1, {t}]")
            if sum(lengths) != real:
                raise ValueError(f"{path}: entry {i}: row lengths sum to "
                                 f"{sum(lengths)}, not real_tokens {real}")
        elif real != b * t:
            raise ValueError(f"{path}: entry {i}: real_tokens {real} < "
                             f"{b}*{t} needs the per-row lengths")
        out.append((b, t, real, lengths))
    return out


if __name__ == "__main__":
    _pre = parse_args()
    sys.path.insert(0, _pre.shared_bench_dir)
    try:
        import benchutil  # noqa: E402
    except ImportError:
        sys.exit(f"no benchutil.py in {_pre.shared_bench_dir} "
                 f"(--shared-bench-dir)")
    benchutil.set_thread_env(_pre.threads)  # before torch/BLAS are loaded

import torch  # noqa: E402  (after the thread set-up above)
import transformers  # noqa: E402
from transformers import BertConfig, BertForTokenClassification  # noqa: E402


def make_inputs(shape, vocab, labels, gen):
    b, t, _, lengths = shape
    if lengths is None:
        lengths = [t] * b
    lens = torch.tensor(lengths)
    mask = (torch.arange(t)[None, :] < lens[:, None]).long()
    ids = torch.randint(1, vocab, (b, t), generator=gen) * mask
    y = torch.randint(0, labels, (b, t), generator=gen)
    y[mask == 0] = -100
    y[:, 0] = -100
    y[torch.arange(b), lens - 1] = -100
    return ids, torch.zeros(b, t, dtype=torch.long), mask, y


def main():
    args = parse_args()
    try:
        shapes = load_shapes(args.shapes, args.max_positions)
    except ValueError as e:
        sys.exit(f"hf_varlen.py: {e}")
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    config = BertConfig(
        vocab_size=args.vocab, hidden_size=args.hidden,
        num_hidden_layers=args.layers, num_attention_heads=args.heads,
        intermediate_size=args.intermediate, num_labels=args.labels,
        max_position_embeddings=args.max_positions)
    model = BertForTokenClassification(config)
    model.train()
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8,
        weight_decay=args.weight_decay)
    if args.dtype == "bf16":
        def autocast():
            return torch.autocast(device_type="cpu", dtype=torch.bfloat16)
    else:
        autocast = contextlib.nullcontext

    gen = torch.Generator().manual_seed(args.seed + 1)
    inputs = [make_inputs(s, args.vocab, args.labels, gen) for s in shapes]
    losses = []

    def step(batch):
        ids, types, mask, y = batch
        with autocast():
            loss = model(input_ids=ids, token_type_ids=types,
                         attention_mask=mask, labels=y).loss
        loss.backward()
        if args.max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(),
                                           args.max_grad_norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())

    for _ in range(args.warmup):
        step(inputs[0])
    losses.clear()

    times, other = [], []
    for batch in inputs:
        load = benchutil.OtherLoad()
        t0 = time.perf_counter()
        step(batch)
        times.append(time.perf_counter() - t0)
        other.append(load.value())

    total_s = sum(times)
    padded = sum(b * t for b, t, _, _ in shapes)
    real = sum(r for _, _, r, _ in shapes)
    known = [(o, t) for o, t in zip(other, times) if o is not None]
    result = {
        "benchmark": "hf_varlen",
        "dtype": args.dtype,
        "model": {"layers": args.layers, "hidden": args.hidden,
                  "heads": args.heads, "intermediate": args.intermediate,
                  "vocab": args.vocab, "labels": args.labels},
        "steps": len(times),
        "warmup_steps": args.warmup,
        "max_grad_norm": args.max_grad_norm,
        "padded_tokens": padded,
        "real_tokens": real,
        "step_seconds": [round(x, 4) for x in times],
        "total_s": round(total_s, 4),
        "median_step_s": round(statistics.median(times), 4),
        "mean_step_s": round(statistics.mean(times), 4),
        "padded_tokens_per_s": round(padded / total_s, 1),
        "real_tokens_per_s": round(real / total_s, 1),
        # CPUs kept busy by other processes while timing (weighted by step
        # time); much above 0.1 means the figures are contended.
        "other_load_cpus": round(sum(o * t for o, t in known)
                                 / sum(t for _, t in known), 2)
        if known else None,
        "loss_first_last": [round(losses[0], 4), round(losses[-1], 4)],
        "peak_rss_mib": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "env": {
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "blas": benchutil.blas_info(),
        },
    }
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
