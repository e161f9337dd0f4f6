"""The model's own init, keyed, against the model's own init, in the same run:
timm's ViT-B/16 (``vit_base_patch16_224``, 86.6 M parameters) and
transformers' BERT-base (``BertModel(BertConfig())``, 109.5 M).

* own: the library's constructor as a whole (construction plus its init on
  torch's generator): ``timm.create_model(...)``, ``BertModel(config)``.
* keyed: the same model built on the meta device (no memory, no init),
  ``to_empty(device="cpu")``, then ``reproducible.torch.init_module``, which
  runs the model's own init code (timm's ``init_weights``, transformers'
  ``_init_weights``) with every fill keyed; no rules.
* build: ``reproducible.torch.build(constructor)``: construction on the CPU
  with the constructor's fills recorded and replayed keyed.

Each is timed in this process (best of N, after one warm-up) and in a fresh
process (the first call after the imports, which is what a training script
pays once). Prints the figures and the ratios own / keyed; asserts nothing.

    python python/benchmarks/faithful_init.py [--runs N] [--threads T] [--only vit|bert]
"""

import argparse
import json
import os
import subprocess
import sys
import time

CASES = {
    "vit": ("ViT-B/16 (timm vit_base_patch16_224)", "import timm", "timm.create_model('vit_base_patch16_224', pretrained=False)"),
    # transformers imports a model's module on first use: done before timing,
    # as `import timm` does for timm's.
    "bert": ("BERT-base (transformers BertModel)", "import transformers; transformers.BertModel, transformers.BertConfig",
             "transformers.BertModel(transformers.BertConfig())"),
}

VARIANTS = {
    "own": "def f():\n    return {make}\n",
    "keyed": (
        "def f():\n"
        "    with torch.device('meta'):\n"
        "        m = {make}\n"
        "    m = m.to_empty(device='cpu')\n"
        "    rt.init_module(m, 0)\n"
        "    return m\n"
    ),
    "build": "def f():\n    return rt.build(lambda: {make}, 0)\n",
}


def setup(case, threads):
    return (
        f"import os; os.environ['RAYON_NUM_THREADS'] = '{threads}'; os.environ.setdefault('HF_HUB_OFFLINE', '1')\n"
        "import time, torch\n"
        f"torch.set_num_threads({threads})\n"
        f"{CASES[case][1]}\n"
        "import reproducible.torch as rt\n"
    )


def fresh(case, variant, threads):
    """Seconds of the first call in a new process, after the imports."""
    code = (
        setup(case, threads)
        + VARIANTS[variant].format(make=CASES[case][2])
        + "t = time.perf_counter()\nm = f()\nprint(time.perf_counter() - t)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def in_process(case, variant, threads, runs):
    code = setup(case, threads) + VARIANTS[variant].format(make=CASES[case][2]) + (
        "f()\n"
        "times = []\n"
        f"for _ in range({runs}):\n"
        "    t = time.perf_counter(); m = f(); times.append(time.perf_counter() - t); del m\n"
        "print(min(times))\n"
    )
    # Its own process too, so that one case's memory does not slow the next.
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--only", choices=sorted(CASES))
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    import torch

    print(f"torch {torch.__version__}, {args.threads} threads, in-process best of {args.runs}")
    figures = {}
    for case in [args.only] if args.only else list(CASES):
        row = {}
        for variant in VARIANTS:
            row[variant] = {"in_process": in_process(case, variant, args.threads, args.runs),
                            "fresh": fresh(case, variant, args.threads)}
        figures[case] = row
        print(f"\n{CASES[case][0]}")
        print(f"  {'':24} {'in process':>12} {'fresh process':>14}")
        for variant, t in row.items():
            print(f"  {variant:24} {t['in_process']:>11.3f}s {t['fresh']:>13.3f}s")
        for variant in ("keyed", "build"):
            a = row["own"]["in_process"] / row[variant]["in_process"]
            b = row["own"]["fresh"] / row[variant]["fresh"]
            print(f"  own / {variant:18} {a:>11.2f}x {b:>13.2f}x")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(figures, fh, indent=1)


if __name__ == "__main__":
    main()
