"""The seed story in plain PyTorch: an attention block gains a `gamma`
parameter and a `Linear` that forward never uses.

With `torch.manual_seed` every parameter is drawn from one generator in
construction order, so the additions shift the values of almost everything
built after them. With `reproducible.torch.init_module` each parameter has its
own keyed stream: none of the shared parameters changes.

    python python/examples/seed_story.py
"""

import torch
from torch import nn

import reproducible.torch as rt


class Attention(nn.Module):
    """CCT's attention block (via timm); `tidied=True` is the second version."""

    def __init__(self, dim=64, num_heads=4, tidied=False):
        super().__init__()
        if tidied:
            self.gamma = nn.Parameter(torch.randn(1, num_heads, 1, 1))
            self.extra = nn.Linear(dim, dim)  # never used in forward
        self.qkv = nn.Linear(dim, dim * 3, bias=False)
        self.attn_drop = nn.Dropout(0.1)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(0.1)


class Model(nn.Module):
    def __init__(self, depth=4, tidied=False):
        super().__init__()
        self.blocks = nn.ModuleList([Attention(tidied=tidied) for _ in range(depth)])
        self.head = nn.Linear(64, 10)


def same(a, b):
    return torch.equal(a.detach().view(torch.int32), b.detach().view(torch.int32))


def main():
    # `gamma` is drawn with torch.randn in the constructor, not by init code:
    # a rule gives its scheme. Only the second version has it (a rule that
    # matches no parameter is an error, so a typo is never ignored).
    rules = [("**.gamma", "normal(0.0, 1.0)")]
    torch.manual_seed(0)
    v1_torch = dict(Model().named_parameters())
    torch.manual_seed(0)
    v2_torch = dict(Model(tidied=True).named_parameters())
    v1, v2 = Model(), Model(tidied=True)
    rt.init_module(v1, 0)
    rt.init_module(v2, 0, rules=rules)
    v1_keyed, v2_keyed = dict(v1.named_parameters()), dict(v2.named_parameters())

    print(f"{'parameter':<24} {'torch.manual_seed(0)':>22} {'init_module(seed=0)':>22}")
    changed = {"torch": 0, "keyed": 0}
    for path in v1_torch:
        t = same(v1_torch[path], v2_torch[path])
        k = same(v1_keyed[path], v2_keyed[path])
        changed["torch"] += not t
        changed["keyed"] += not k
        print(f"{path:<24} {'same' if t else 'DIFFERENT':>22} {'bit-identical' if k else 'DIFFERENT':>22}")
    n = len(v1_torch)
    print(f"\nshared parameters that changed: {changed['torch']} of {n} with torch.manual_seed, "
          f"{changed['keyed']} of {n} with init_module")
    assert changed["keyed"] == 0


if __name__ == "__main__":
    main()
