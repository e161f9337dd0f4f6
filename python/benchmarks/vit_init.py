"""init_module against timm's own init, in the same run: timm's
`vit_base_patch16_224` (86.6 M parameters).

* timm: `timm.create_model("vit_base_patch16_224", pretrained=False)` as a
  whole (construction plus timm's init, on one generator).
* ours: the same model built on the meta device (no memory, no init),
  `to_empty(device="cpu")`, then `reproducible.torch.init_module` with rules
  that give what timm's own init gives (its `init_weights_vit_timm`: every
  Linear weight trunc_normal(std=0.02), Linear biases zero, `pos_embed`
  trunc_normal(std=0.02), `cls_token` normal(std=1e-6); the patch conv and
  the norms keep PyTorch's defaults), so both do the same work.

Prints best-of-N wall times and the ratio; asserts nothing.

    python python/benchmarks/vit_init.py [--runs N] [--threads T]
"""

import argparse
import os
import time

TRUNC = "trunc_normal(0.0, 0.02, -2.0, 2.0)"
RULES = [
    ("cls_token", "normal(0.0, 1e-6)"),
    ("pos_embed", TRUNC),
    ("blocks.*.attn.*.weight", TRUNC),
    ("blocks.*.mlp.*.weight", TRUNC),
    ("head.weight", TRUNC),
    ("blocks.*.attn.*.bias", "zeros()"),
    ("blocks.*.mlp.*.bias", "zeros()"),
    ("head.bias", "zeros()"),
]


def best(runs, f):
    f()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    import torch

    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()
    # Both sides on the same number of threads: torch's and our generator's pool.
    os.environ["RAYON_NUM_THREADS"] = str(args.threads)
    import timm

    import reproducible.torch as rt

    torch.set_num_threads(args.threads)

    def timm_init():
        return timm.create_model("vit_base_patch16_224", pretrained=False)

    def ours():
        with torch.device("meta"):
            m = timm.create_model("vit_base_patch16_224", pretrained=False)
        m = m.to_empty(device="cpu")
        rt.init_module(m, 0, rules=RULES)
        return m

    allocated = ours()

    def ours_init_only():
        rt.init_module(allocated, 0, rules=RULES)

    n = sum(p.numel() for p in allocated.parameters())
    t_timm = best(args.runs, timm_init)
    t_ours = best(args.runs, ours)
    t_init = best(args.runs, ours_init_only)
    print(f"vit_base_patch16_224, {n / 1e6:.1f} M parameters, torch {torch.__version__}, "
          f"timm {timm.__version__}, {args.threads} threads, best of {args.runs}")
    print(f"  timm.create_model(pretrained=False)            {t_timm * 1e3:9.1f} ms")
    print(f"  meta + to_empty + init_module                  {t_ours * 1e3:9.1f} ms   {t_timm / t_ours:5.1f}x faster")
    print(f"  init_module alone (model already allocated)    {t_init * 1e3:9.1f} ms   {t_timm / t_init:5.1f}x faster")


if __name__ == "__main__":
    main()
