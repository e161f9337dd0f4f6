#!/usr/bin/env python3
"""Independent Python implementation of SPEC.md (spec version 1) producing golden vectors.

What it is
----------
This program re-implements, from SPEC.md alone (no Rust source was consulted), the
bit-exact value streams of `reproducible` spec version 1:

* section 2: stream keys (BLAKE3 derive_key over the key material);
* section 3: coordinate -> Philox counter/lane mapping;
* section 4: Philox4x32-10 (checked against the known-answer vectors first);
* section 5: ln32/ln64, sincos32/sincos64, erfinv32/erfinv64, exp64, erf64;
* section 6: uniform / normal / trunc_normal / constant draws in f32 and f64,
  f16 and bf16 rounding;
* section 7: every scheme (uniform, normal, trunc_normal, constant, zeros, ones, eye,
  dirac, xavier_*, kaiming_*, orthogonal with the deterministic Householder QR, sparse);
* section 8: the canonical text form of schemes.

Arithmetic model: every f32 operation is done on `numpy.float32` scalars (each
operation rounded to binary32); every f64 operation on Python floats (binary64,
no FMA); integer operations on Python ints, masked explicitly to 32/64 bits.
The f32 elementary functions and lane transforms are written once, generic over a
small "arithmetic" object, and are run both with numpy float32 and with an
independent software float32 (`R32`: exact binary64 operation followed by a
single rounding to binary32, which is correctly rounded for + - * / sqrt since
53 >= 2*24 + 2). The self-checks compare the two bit for bit, compare the
functions against `math` with tolerances, run the Philox known answers, and
compare a hand-written f32 -> f16 rounding against numpy.

How to run
----------
    python3 -m venv tools/golden/.venv
    tools/golden/.venv/bin/pip install -r tools/golden/requirements.txt
    tools/golden/.venv/bin/python tools/golden/golden.py            # writes tests/data/golden_v1.json
    tools/golden/.venv/bin/python tools/golden/golden.py --check     # self-checks only
    tools/golden/.venv/bin/python tools/golden/golden.py --out FILE  # write elsewhere

The output is deterministic: running it twice gives the same file.
"""

import argparse
from fractions import Fraction
import itertools
import json
import math
import os
import random
import struct
import sys

import blake3
import numpy as np

SPEC_VERSION = 1
KEY_CONTEXT = "reproducible 2026-11-26 parameter stream key v1"
MASK32 = 0xFFFFFFFF
MASK64 = 0xFFFFFFFFFFFFFFFF

np.seterr(all="raise")

# ---------------------------------------------------------------------------
# bit helpers
# ---------------------------------------------------------------------------


def bits32(x):
    """IEEE binary32 bit pattern of an np.float32 (or exact-f32 Python float)."""
    if isinstance(x, np.float32):
        return int(x.view(np.uint32))
    if isinstance(x, R32):
        x = x.v
    return struct.unpack("<I", struct.pack("<f", x))[0]


def from_bits32(b):
    return np.array([b & MASK32], dtype=np.uint32).view(np.float32)[0]


def bits64(x):
    assert type(x) is float, type(x)
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def from_bits64(b):
    return struct.unpack("<d", struct.pack("<Q", b & MASK64))[0]


def round_to_f32_float(v):
    """Python float -> nearest binary32 value (ties to even), as a Python float."""
    return struct.unpack("<f", struct.pack("<f", v))[0]


# ---------------------------------------------------------------------------
# two float32 arithmetics: numpy float32 (NP32) and a software one (R32)
# ---------------------------------------------------------------------------


class NP32:
    """f32 arithmetic on numpy.float32 scalars."""

    name = "numpy.float32"

    @staticmethod
    def k(b):  # constant from bit pattern
        return from_bits32(b)

    @staticmethod
    def f(n):  # f32(integer), round to nearest even
        assert isinstance(n, int)
        v = np.float32(n)
        assert isinstance(v, np.float32)
        return v

    @staticmethod
    def sqrt(x):
        assert isinstance(x, np.float32), type(x)
        r = np.sqrt(x)
        assert isinstance(r, np.float32)
        return r

    @staticmethod
    def bits(x):
        assert isinstance(x, np.float32), type(x)
        return bits32(x)

    @staticmethod
    def check(x):
        assert isinstance(x, np.float32), type(x)
        return x


class R32:
    """Software binary32: each op exact-ish in binary64 then one rounding to binary32.

    Only R32 operands are accepted (mixing in a Python float raises), which also
    catches any unwrapped constant in the generic code."""

    __slots__ = ("v",)
    name = "software-f32"

    def __init__(self, v):
        assert type(v) is float
        self.v = round_to_f32_float(v)

    def _o(self, o):
        if not isinstance(o, R32):
            raise TypeError("R32 mixed with %r" % type(o))
        return o.v

    def __add__(self, o):
        return R32(self.v + self._o(o))

    def __sub__(self, o):
        return R32(self.v - self._o(o))

    def __mul__(self, o):
        return R32(self.v * self._o(o))

    def __truediv__(self, o):
        return R32(self.v / self._o(o))

    def __neg__(self):
        return R32(-self.v)

    def __lt__(self, o):
        return self.v < self._o(o)

    def __gt__(self, o):
        return self.v > self._o(o)

    def __le__(self, o):
        return self.v <= self._o(o)

    def __ge__(self, o):
        return self.v >= self._o(o)

    def __eq__(self, o):
        return self.v == self._o(o)

    __hash__ = None

    @staticmethod
    def k(b):
        return R32(struct.unpack("<f", struct.pack("<I", b))[0])

    @staticmethod
    def f(n):
        assert isinstance(n, int) and abs(n) < 2**53
        return R32(float(n))

    @staticmethod
    def sqrt(x):
        assert isinstance(x, R32)
        return R32(math.sqrt(x.v))

    @staticmethod
    def bits(x):
        return bits32(x)

    @staticmethod
    def check(x):
        assert isinstance(x, R32)
        return x


def p2_32(T, e):
    """2^e as an f32 constant (normal range)."""
    assert -126 <= e <= 127
    return T.k((e + 127) << 23)


# ---------------------------------------------------------------------------
# section 2: stream keys
# ---------------------------------------------------------------------------


def key_material(seed, path, version):
    pb = path.encode("utf-8")
    assert 0 <= seed <= MASK64 and 0 <= version <= MASK32
    return (
        struct.pack("<I", SPEC_VERSION)
        + struct.pack("<Q", seed)
        + struct.pack("<Q", len(pb))
        + pb
        + struct.pack("<I", version)
    )


def derive_digest(seed, path, version):
    d = blake3.blake3(key_material(seed, path, version), derive_key_context=KEY_CONTEXT).digest()
    assert len(d) == 32
    return d


def stream_keys(seed, path, version):
    d = struct.unpack("<8I", derive_digest(seed, path, version))
    return (d[0], d[1]), (d[2], d[3])


# ---------------------------------------------------------------------------
# section 4: Philox4x32-10
# ---------------------------------------------------------------------------

PH_M0, PH_M1, PH_W0, PH_W1 = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85


def philox(counter, key):
    c0, c1, c2, c3 = counter
    k0, k1 = key
    for c in (c0, c1, c2, c3, k0, k1):
        assert 0 <= c <= MASK32
    for rnd in range(10):
        if rnd > 0:
            k0 = (k0 + PH_W0) & MASK32
            k1 = (k1 + PH_W1) & MASK32
        p = PH_M0 * c0
        q = PH_M1 * c2
        hi0, lo0 = p >> 32, p & MASK32
        hi1, lo1 = q >> 32, q & MASK32
        c0, c1, c2, c3 = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)
    return (c0, c1, c2, c3)


def philox_kat():
    kats = [
        ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
        ((MASK32,) * 4, (MASK32, MASK32), (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
        (
            (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
            (0xA4093822, 0x299F31D0),
            (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
        ),
    ]
    for c, k, want in kats:
        got = philox(c, k)
        assert got == want, (c, k, [hex(g) for g in got])


# ---------------------------------------------------------------------------
# section 3: counters
# ---------------------------------------------------------------------------


def counter_of(shape, idx, L):
    r = len(shape)
    j = idx[-1] if r > 0 else 0
    c3 = j // L
    if r <= 1:
        c012 = (0, 0, 0)
    elif r == 2:
        c012 = (0, 0, idx[0])
    elif r == 3:
        c012 = (0, idx[0], idx[1])
    elif r == 4:
        c012 = (idx[0], idx[1], idx[2])
    else:
        F = 0
        for k in range(2, r - 1):
            F = F * shape[k] + idx[k]
        c012 = (idx[0], idx[1], F)
    c = c012 + (c3,)
    for w in c:
        assert 0 <= w <= MASK32, "counter word out of u32 range"
    return c, j % L


# ---------------------------------------------------------------------------
# section 5: elementary functions, f32 (generic over T) and f64
# ---------------------------------------------------------------------------

LN32_A = (0x3F2AAAAB, 0x3ECCCCCD, 0x3E924925, 0x3E638E39)
LN32_LN2_HI, LN32_LN2_LO = 0x3F317180, 0x3717F7D1


def ln32(T, x):
    T.check(x)
    b = T.bits(x)
    e = ((b >> 23) & 0xFF) - 127
    assert 1 <= ((b >> 23) & 0xFF) <= 254 and not (b >> 31), "ln32 needs a positive normal"
    mant = b & 0x007FFFFF
    if mant > 0x003504F3:
        e = e + 1
        m = T.k(mant | 0x3F000000)
    else:
        m = T.k(mant | 0x3F800000)
    one, two = T.k(0x3F800000), T.k(0x40000000)
    A1, A2, A3, A4 = (T.k(a) for a in LN32_A)
    f = m - one
    s = f / (two + f)
    z = s * s
    r = z * (A1 + z * (A2 + z * (A3 + z * A4)))
    ln_m = (s + s) + s * r
    E = T.f(e)
    return T.check(E * T.k(LN32_LN2_HI) + (E * T.k(LN32_LN2_LO) + ln_m))


SIN32 = (0x3FC90FDB, 0xBF255DE7, 0x3DA335E3, 0xBB996966, 0x39283C1A)
COS32 = (0xBF9DE9E6, 0x3E81E0F8, 0xBCAAE9E4, 0x3A70FA83, 0xB7D368F9)


def quadrant(q, S, C):
    if q == 0:
        return (S, C)
    if q == 1:
        return (C, -S)
    if q == 2:
        return (-S, -C)
    return (-C, S)


def sincos32(T, w):
    assert 0 <= w <= MASK32
    q = w >> 30
    m = (w >> 8) & 0x003FFFFF
    swap = m > 0x00200000
    if swap:
        m = 0x00400000 - m
    r = T.f(m) * p2_32(T, -22)
    z = r * r
    S1, S3, S5, S7, S9 = (T.k(c) for c in SIN32)
    C2, C4, C6, C8, C10 = (T.k(c) for c in COS32)
    S = r * (S1 + z * (S3 + z * (S5 + z * (S7 + z * S9))))
    C = T.k(0x3F800000) + z * (C2 + z * (C4 + z * (C6 + z * (C8 + z * C10))))
    if swap:
        S, C = C, S
    s, c = quadrant(q, S, C)
    return T.check(s), T.check(c)


ERFINV32_P = (0x32F16588, 0x34B84B36, 0xB66C7357, 0xB6935AC1, 0x396532DB,
              0xBAA45408, 0xBB88E4EF, 0x3E7C8F63, 0x3FC02E2F)
ERFINV32_Q = (0xB951F09B, 0x38D3B56B, 0x3AB0DC72, 0xBB70BDE7, 0x3BBC127B,
              0xBBF9C5D7, 0x3C1AA57E, 0x3F8036DB, 0x40354F7E)
ERFINV32_P_DEC = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                  -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
ERFINV32_Q_DEC = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
                  -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)


def erfinv32(T, x):
    T.check(x)
    one = T.k(0x3F800000)
    w = -ln32(T, (one - x) * (one + x))
    if w < T.k(0x40A00000):  # 5.0
        w = w - T.k(0x40200000)  # 2.5
        p = T.k(ERFINV32_P[0])
        for k in range(1, 9):
            p = T.k(ERFINV32_P[k]) + p * w
    else:
        w = T.sqrt(w) - T.k(0x40400000)  # 3.0
        p = T.k(ERFINV32_Q[0])
        for k in range(1, 9):
            p = T.k(ERFINV32_Q[k]) + p * w
    return T.check(p * x)


# ---- f64 ----

LN64_B = (0x3FE5555555555555, 0x3FD999999999999A, 0x3FD2492492492492, 0x3FCC71C71C71C71C,
          0x3FC745D1745D1746, 0x3FC3B13B13B13B14, 0x3FC1111111111111, 0x3FBE1E1E1E1E1E1E,
          0x3FBAF286BCA1AF28, 0x3FB8618618618618, 0x3FB642C8590B2164)
LN64_LN2_HI = from_bits64(0x3FE62E42FEE00000)
LN64_LN2_LO = from_bits64(0x3DEA39EF35793C76)


def ln64(x):
    assert type(x) is float
    b = bits64(x)
    assert 1 <= ((b >> 52) & 0x7FF) <= 0x7FE and not (b >> 63), "ln64 needs a positive normal"
    e = ((b >> 52) & 0x7FF) - 1023
    mant = b & 0x000FFFFFFFFFFFFF
    if mant > 0x0006A09E667F3BCC:
        e = e + 1
        m = from_bits64(mant | 0x3FE0000000000000)
    else:
        m = from_bits64(mant | 0x3FF0000000000000)
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    B = [from_bits64(c) for c in LN64_B]  # B[0] = B1 ... B[10] = B11
    p = B[10]
    for c in reversed(B[:10]):  # B10, B9, ..., B1
        p = c + z * p
    ln_m = (s + s) + s * (z * p)
    E = float(e)
    return E * LN64_LN2_HI + (E * LN64_LN2_LO + ln_m)


SIN64 = (0x3FF921FB54442D18, 0xBFE4ABBCE625BE53, 0x3FB466BC6775AAE2, 0xBF732D2CCE62BD86,
         0x3F250783487EE782, 0xBECE3074FDE8871F, 0x3E6E8F434D018D63, 0xBE06FADB9F155744,
         0x3D9AAEC32AF93359)  # S1, S3, ..., S17
COS64 = (0xBFF3BD3CC9BE45DE, 0x3FD03C1F081B5AC4, 0xBF955D3C7E3CBFFA, 0x3F4E1F506891BABB,
         0xBEFA6D1F2A204A8C, 0x3E9F9D38A3763CC3, 0xBE3B6E24F44B128F, 0x3DD20C62C2F2D7F5,
         0xBD62A0C591AF8314)  # C2, C4, ..., C18


def sincos64(n):
    assert 0 <= n < 2**53
    q = n >> 51
    m = n & (2**51 - 1)
    swap = m > 2**50
    if swap:
        m = 2**51 - m
    r = float(m) * 2.0**-51
    z = r * r
    Sc = [from_bits64(c) for c in SIN64]
    Cc = [from_bits64(c) for c in COS64]
    ps = Sc[8]
    for c in reversed(Sc[:8]):  # S15, S13, ..., S1
        ps = c + z * ps
    pc = Cc[8]
    for c in reversed(Cc[:8]):  # C16, ..., C2
        pc = c + z * pc
    S = r * ps
    C = 1.0 + z * pc
    if swap:
        S, C = C, S
    return quadrant(q, S, C)


ERFINV64_A = (-3.6444120640178196996e-21, -1.685059138182016589e-19, 1.2858480715256400167e-18,
              1.115787767802518096e-17, -1.333171662854620906e-16, 2.0972767875968561637e-17,
              6.6376381343583238325e-15, -4.0545662729752068639e-14, -8.1519341976054721522e-14,
              2.6335093153082322977e-12, -1.2975133253453532498e-11, -5.4154120542946279317e-11,
              1.051212273321532285e-09, -4.1126339803469836976e-09, -2.9070369957882005086e-08,
              4.2347877827932403518e-07, -1.3654692000834678645e-06, -1.3882523362786468719e-05,
              0.0001867342080340571352, -0.00074070253416626697512, -0.0060336708714301490533,
              0.24015818242558961693, 1.6536545626831027356)
ERFINV64_B = (2.2137376921775787049e-09, 9.0756561938885390979e-08, -2.7517406297064545428e-07,
              1.8239629214389227755e-08, 1.5027403968909827627e-06, -4.013867526981545969e-06,
              2.9234449089955446044e-06, 1.2475304481671778723e-05, -4.7318229009055733981e-05,
              6.8284851459573175448e-05, 2.4031110387097893999e-05, -0.0003550375203628474796,
              0.00095328937973738049703, -0.0016882755560235047313, 0.0024914420961078508066,
              -0.0037512085075692412107, 0.005370914553590063617, 1.0052589676941592334,
              3.0838856104922207635)
ERFINV64_C = (-2.7109920616438573243e-11, -2.5556418169965252055e-10, 1.5076572693500548083e-09,
              -3.7894654401267369937e-09, 7.6157012080783393804e-09, -1.4960026627149240478e-08,
              2.9147953450901080826e-08, -6.7711997758452339498e-08, 2.2900482228026654717e-07,
              -9.9298272942317002539e-07, 4.5260625972231537039e-06, -1.9681778105531670567e-05,
              7.5995277030017761139e-05, -0.00021503011930044477347, -0.00013871931833623122026,
              1.0103004648645343977, 4.8499064014085844221)
assert (len(ERFINV64_A), len(ERFINV64_B), len(ERFINV64_C)) == (23, 19, 17)


def horner(K, v):
    p = K[0]
    for k in range(1, len(K)):
        p = K[k] + p * v
    return p


def erfinv64(x):
    assert type(x) is float
    w = -ln64((1.0 - x) * (1.0 + x))
    if w < 6.25:
        p = horner(ERFINV64_A, w - 3.125)
    elif w < 16.0:
        p = horner(ERFINV64_B, math.sqrt(w) - 3.25)
    else:
        p = horner(ERFINV64_C, math.sqrt(w) - 5.0)
    return p * x


INV_LN2 = from_bits64(0x3FF71547652B82FE)
EXP64_E = (0x3FE0000000000000, 0x3FC5555555555555, 0x3FA5555555555555, 0x3F81111111111111,
           0x3F56C16C16C16C17, 0x3F2A01A01A01A01A, 0x3EFA01A01A01A01A, 0x3EC71DE3A556C734,
           0x3E927E4FB7789F5C, 0x3E5AE64567F544E4, 0x3E21EED8EFF8D898, 0x3DE6124613A86D09)  # E2..E13
TWO_OVER_SQRT_PI = from_bits64(0x3FF20DD750429B6D)
SQRT2 = from_bits64(0x3FF6A09E667F3BCD)


def exp64(x):
    assert type(x) is float and -708.0 <= x <= 0.0
    k = math.floor(x * INV_LN2 + 0.5)
    kf = float(k)
    r = (x - kf * LN64_LN2_HI) - kf * LN64_LN2_LO
    E = [from_bits64(c) for c in EXP64_E]
    p = E[11]
    for c in reversed(E[:11]):  # E12, ..., E2
        p = c + r * p
    p = 1.0 + r * (1.0 + r * p)
    return p * from_bits64((1023 + k) << 52)


def erf64(x):
    assert type(x) is float and not math.isnan(x)
    if abs(x) >= 6.0:
        return math.copysign(1.0, x)
    a = abs(x)
    a2 = a * a
    term = a
    total = a
    n = 0.0
    while True:
        n = n + 1.0
        term = (term * (a2 + a2)) / (n + n + 1.0)
        nxt = total + term
        if nxt == total:
            break
        total = nxt
    y = (TWO_OVER_SQRT_PI * exp64(-a2)) * total
    return math.copysign(y, x)


# ---------------------------------------------------------------------------
# section 6: draws
# ---------------------------------------------------------------------------


class Draw32:
    """Per-tensor constants of an f32-family draw (section 6.1), in arithmetic T."""

    def __init__(self, T, kind, params):
        self.T, self.kind = T, kind
        if kind == "uniform":
            a, b = params
            self.lo = to32(T, a)
            self.w = to32(T, b - a)
        elif kind == "normal":
            mean, std = params
            self.mu, self.sd = to32(T, mean), to32(T, std)
        elif kind == "trunc_normal":
            mean, std, a, b = params
            lo = erf64(((a - mean) / std) / SQRT2)
            hi = erf64(((b - mean) / std) / SQRT2)
            assert hi > lo
            self.P0, self.P1 = to32(T, lo), to32(T, hi - lo)
            self.P2, self.P3 = to32(T, std * SQRT2), to32(T, mean)
            self.A, self.B = to32(T, a), to32(T, b)
        elif kind == "constant":
            (val,) = params
            self.c = to32(T, val)
        else:
            raise ValueError(kind)

    def block(self, x):
        """The 4 lane values of block x (x is None for constant)."""
        T = self.T
        if self.kind == "constant":
            return [self.c] * 4
        if self.kind == "uniform":
            s = p2_32(T, -24)
            return [self.lo + self.w * (T.f(xl >> 8) * s) for xl in x]
        if self.kind == "normal":
            z0, z1 = bm32(T, x[0], x[1])
            z2, z3 = bm32(T, x[2], x[3])
            return [self.mu + self.sd * z for z in (z0, z1, z2, z3)]
        if self.kind == "trunc_normal":
            s = p2_32(T, -24)
            lim_hi, lim_lo = T.k(0x3F7FFFFF), T.k(0xBF7FFFFF)  # 1 - 2^-24, -(1 - 2^-24)
            out = []
            for xl in x:
                u = T.f(((xl >> 9) << 1) | 1) * s
                v = clamp(self.P0 + self.P1 * u, lim_lo, lim_hi)
                out.append(clamp(self.P3 + self.P2 * erfinv32(T, v), self.A, self.B))
            return out
        raise ValueError(self.kind)


def to32(T, v):
    """f32(v) for a Python float v (round to nearest even)."""
    assert type(v) is float
    if T is NP32:
        r = np.float32(v)
        assert isinstance(r, np.float32)
        return r
    return R32(v)


def clamp(v, lo, hi):
    if v < lo:
        return lo
    if v > hi:
        return hi
    return v


def bm32(T, xa, xb):
    u1 = T.f(xa >> 1) * p2_32(T, -31) + p2_32(T, -32)
    rad = T.sqrt(T.k(0xC0000000) * ln32(T, u1))  # -2.0 * ln32(u1)
    s, c = sincos32(T, xb)
    return (rad * c, rad * s)


class Draw64:
    """Per-tensor constants of an f64 draw (section 6.2)."""

    def __init__(self, kind, params):
        self.kind, self.params = kind, params
        if kind == "trunc_normal":
            mean, std, a, b = params
            self.lo = erf64(((a - mean) / std) / SQRT2)
            self.hi = erf64(((b - mean) / std) / SQRT2)
            assert self.hi > self.lo

    def block(self, x):
        if self.kind == "constant":
            return [self.params[0]] * 2
        n0 = ((x[0] << 21) | (x[1] >> 11)) & MASK64
        n1 = ((x[2] << 21) | (x[3] >> 11)) & MASK64
        assert n0 < 2**53 and n1 < 2**53
        if self.kind == "uniform":
            a, b = self.params
            return [a + (b - a) * (float(n) * 2.0**-53) for n in (n0, n1)]
        if self.kind == "normal":
            mean, std = self.params
            u1 = float(n0 + 1) * 2.0**-53
            rad = math.sqrt(-2.0 * ln64(u1))
            s, c = sincos64(n1)
            return [mean + std * (rad * c), mean + std * (rad * s)]
        if self.kind == "trunc_normal":
            mean, std, a, b = self.params
            lim = 1.0 - 2.0**-53
            out = []
            for n in (n0, n1):
                u = float(((n >> 1) << 1) | 1) * 2.0**-53
                v = clamp(self.lo + (self.hi - self.lo) * u, -lim, lim)
                out.append(clamp(mean + (std * SQRT2) * erfinv64(v), a, b))
            return out
        raise ValueError(self.kind)


# ---------------------------------------------------------------------------
# section 6.3: f16 / bf16 rounding (from f32 bits, round to nearest even)
# ---------------------------------------------------------------------------


def _rne_shift(v, sh):
    """v >> sh rounded to nearest, ties to even (sh >= 1)."""
    q = v >> sh
    rem = v & ((1 << sh) - 1)
    half = 1 << (sh - 1)
    if rem > half or (rem == half and (q & 1)):
        q += 1
    return q


def f32bits_to_f16bits(b):
    sign = (b >> 16) & 0x8000
    exp = (b >> 23) & 0xFF
    mant = b & 0x7FFFFF
    if exp == 0xFF:
        return sign | 0x7C00 | (0x200 | (mant >> 13) if mant else 0)
    e = exp - 127 + 15
    if e >= 31:
        return sign | 0x7C00
    if e >= 1:
        # normal half: 10 mantissa bits; a carry propagates into the exponent (and to inf)
        return sign | ((e << 10) + _rne_shift(mant, 13))
    # subnormal half (or zero): units of 2^-24
    if exp == 0:
        return sign  # f32 zero/subnormal (< 2^-126) rounds to zero
    full = mant | 0x800000  # value = full * 2^(exp-150); in units of 2^-24: full * 2^(exp-126)
    sh = 126 - exp  # >= 14
    if sh > 25:
        return sign
    return sign | _rne_shift(full, sh)


def f32bits_to_bf16bits(b):
    if (b & 0x7F800000) == 0x7F800000 and (b & 0x7FFFFF):
        return ((b >> 16) | 0x40) & 0xFFFF  # NaN stays a (quiet) NaN
    return ((b + 0x7FFF + ((b >> 16) & 1)) >> 16) & 0xFFFF


# ---------------------------------------------------------------------------
# section 7: schemes
# ---------------------------------------------------------------------------

SCHEME_ARGS = {
    "uniform": ("a", "b"),
    "normal": ("mean", "std"),
    "trunc_normal": ("mean", "std", "a", "b"),
    "constant": ("val",),
    "zeros": (),
    "ones": (),
    "eye": (),
    "dirac": ("groups",),
    "xavier_uniform": ("gain",),
    "xavier_normal": ("gain",),
    "kaiming_uniform": ("a", "mode", "nonlinearity"),
    "kaiming_normal": ("a", "mode", "nonlinearity"),
    "orthogonal": ("gain",),
    "sparse": ("sparsity", "std"),
}


class Scheme:
    def __init__(self, name, **args):
        assert name in SCHEME_ARGS
        assert tuple(args) == SCHEME_ARGS[name], (name, tuple(args))
        for k, v in args.items():
            if k == "groups":
                assert type(v) is int
            elif k in ("mode", "nonlinearity"):
                assert type(v) is str
            else:
                assert type(v) is float, (name, k, v)
        self.name, self.args = name, args

    def text(self):
        parts = []
        for k, v in self.args.items():
            parts.append("%s=%s" % (k, repr(v) if type(v) is float else str(v)))
        return "%s(%s)" % (self.name, ", ".join(parts))


def fans(shape):
    assert len(shape) >= 2
    R = 1
    for d in shape[2:]:
        R *= d
    return shape[1] * R, shape[0] * R


def calculate_gain(nonlinearity, a):
    if nonlinearity in ("linear", "sigmoid") or nonlinearity.startswith("conv"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "selu":
        return 3.0 / 4.0
    if nonlinearity == "leaky_relu":
        return math.sqrt(2.0 / (1.0 + a * a))
    raise ValueError(nonlinearity)


def resolve(scheme, shape):
    """-> ('draw', kind, params) or ('struct', name)."""
    n, g = scheme.name, scheme.args
    if n == "uniform":
        a, b = g["a"], g["b"]
        assert math.isfinite(a) and math.isfinite(b) and a < b
        return ("draw", "uniform", (a, b))
    if n == "normal":
        assert math.isfinite(g["std"]) and g["std"] >= 0.0
        return ("draw", "normal", (g["mean"], g["std"]))
    if n == "trunc_normal":
        assert math.isfinite(g["std"]) and g["std"] > 0.0 and g["a"] < g["b"]
        return ("draw", "trunc_normal", (g["mean"], g["std"], g["a"], g["b"]))
    if n == "constant":
        return ("draw", "constant", (g["val"],))
    if n == "zeros":
        return ("draw", "constant", (0.0,))
    if n == "ones":
        return ("draw", "constant", (1.0,))
    if n in ("xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal"):
        fan_in, fan_out = fans(shape)
        if n.startswith("xavier"):
            std = g["gain"] * math.sqrt(2.0 / float(fan_in + fan_out))
        else:
            fan = {"fan_in": fan_in, "fan_out": fan_out}[g["mode"]]
            std = calculate_gain(g["nonlinearity"], g["a"]) / math.sqrt(float(fan))
        if n.endswith("uniform"):
            bound = math.sqrt(3.0) * std
            if bound == 0.0:
                return ("draw", "constant", (0.0,))
            assert bound > 0.0
            return ("draw", "uniform", (-bound, bound))
        return ("draw", "normal", (0.0, std))
    if n == "eye":
        assert len(shape) == 2
        return ("struct", "eye")
    if n == "dirac":
        assert 3 <= len(shape) <= 5 and shape[0] % g["groups"] == 0
        return ("struct", "dirac")
    if n == "orthogonal":
        assert len(shape) >= 2
        return ("whole", "orthogonal")
    if n == "sparse":
        assert len(shape) == 2
        return ("whole", "sparse")
    raise ValueError(n)


def make_draw(fam, kind, params):
    if fam == "f64":
        return Draw64(kind, params)
    return Draw32(NP32, kind, params)


def elementwise_values(draw, fam, shape, indices, vkey):
    """Values (np.float32 or float) at the given coordinates for an elementwise draw."""
    L = 2 if fam == "f64" else 4
    cache = {}
    out = []
    for idx in indices:
        c, lane = counter_of(shape, idx, L)
        if c not in cache:
            x = None if draw.kind == "constant" else philox(c, vkey)
            cache[c] = draw.block(x)
        out.append(cache[c][lane])
    return out


def one_zero(fam, on):
    if fam == "f64":
        return 1.0 if on else 0.0
    return np.float32(1.0) if on else np.float32(0.0)


def householder_q(M, m, n):
    """Section 7.4 QR; M is m x n (list of rows, mutated). Returns Q (m x n) and d."""
    vs, vvs, ds = [], [], []

    def reflect(v, vv, col, k, Y):
        dot = 0.0
        for i in range(k, m):
            dot = dot + v[i - k] * Y[i][col]
        s = (2.0 * dot) / vv
        for i in range(k, m):
            Y[i][col] = Y[i][col] - v[i - k] * s

    for k in range(n):
        x = [M[i][k] for i in range(k, m)]
        ss = 0.0
        for xi in x:
            ss = ss + xi * xi
        norm = math.sqrt(ss)
        alpha = -norm if x[0] >= 0.0 else norm
        v = list(x)
        v[0] = v[0] - alpha
        vv = 0.0
        for vi in v:
            vv = vv + vi * vi
        ds.append(alpha)
        vs.append(v)
        vvs.append(vv)
        if vv > 0.0:
            for j in range(k, n):
                reflect(v, vv, j, k, M)
    Q = [[1.0 if i == j else 0.0 for j in range(n)] for i in range(m)]
    for k in range(n - 1, -1, -1):
        if vvs[k] > 0.0:
            for j in range(n):
                reflect(vs[k], vvs[k], j, k, Q)
    for j in range(n):
        if ds[j] < 0.0:
            for i in range(m):
                Q[i][j] = -Q[i][j]
    return Q


def orthogonal_full(shape, gain, vkey):
    rows = shape[0]
    cols = 1
    for d in shape[1:]:
        cols *= d
    d64 = Draw64("normal", (0.0, 1.0))
    A = elementwise_values(d64, "f64", (rows, cols), itertools.product(range(rows), range(cols)), vkey)
    A = [A[i * cols:(i + 1) * cols] for i in range(rows)]
    if rows >= cols:
        M, m, n = [list(r) for r in A], rows, cols
    else:
        M, m, n = [[A[i][j] for i in range(rows)] for j in range(cols)], cols, rows
    Q = householder_q(M, m, n)
    W = []
    for i in range(rows):
        for j in range(cols):
            W.append(Q[i][j] * gain if rows >= cols else Q[j][i] * gain)
    return W  # f64, row-major


def generate(seed, path, version, shape, region, dtype, scheme):
    """Return the list of values (np.float32 for the f32 family, float for f64) of the region."""
    shape = tuple(shape)
    for d in shape:
        assert d >= 1
    fam = "f64" if dtype == "f64" else "f32"
    vkey, akey = stream_keys(seed, path, version)
    if region is None:
        region = [(0, d) for d in shape]
    assert len(region) == len(shape)
    for (s, e), d in zip(region, shape):
        assert 0 <= s < e <= d
    indices = list(itertools.product(*[range(s, e) for s, e in region]))
    res = resolve(scheme, shape)
    if res[0] == "draw":
        return elementwise_values(make_draw(fam, res[1], res[2]), fam, shape, indices, vkey)
    if res[0] == "struct":
        out = []
        for idx in indices:
            if res[1] == "eye":
                on = idx[0] == idx[1]
            else:  # dirac
                G = shape[0] // scheme.args["groups"]
                dd = idx[0] % G
                on = dd < min(G, shape[1]) and idx[1] == dd and all(
                    idx[k] == shape[k] // 2 for k in range(2, len(shape)))
            out.append(one_zero(fam, on))
        return out
    # whole-tensor schemes
    strides = [1] * len(shape)
    for k in range(len(shape) - 2, -1, -1):
        strides[k] = strides[k + 1] * shape[k + 1]

    def flat(idx):
        return sum(i * s for i, s in zip(idx, strides))

    if res[1] == "orthogonal":
        W = orthogonal_full(shape, scheme.args["gain"], vkey)
        if fam == "f32":
            W = [np.float32(w) for w in W]
        return [W[flat(idx)] for idx in indices]
    # sparse
    rows, cols = shape
    std = scheme.args["std"]
    assert math.isfinite(std) and std >= 0.0
    vals = elementwise_values(make_draw(fam, "normal", (0.0, std)), fam, shape,
                              list(itertools.product(range(rows), range(cols))), vkey)
    num_zeros = min(rows, math.ceil(scheme.args["sparsity"] * float(rows)))
    assert num_zeros >= 0
    zero = one_zero(fam, False)
    for j in range(cols):
        pairs = sorted((philox((0, 0, i, j // 4), akey)[j % 4], i) for i in range(rows))
        for _, i in pairs[:num_zeros]:
            vals[i * cols + j] = zero
    return [vals[flat(idx)] for idx in indices]


def to_hex(values, dtype):
    out = []
    for v in values:
        if dtype == "f64":
            assert type(v) is float
            out.append("%016x" % bits64(v))
        else:
            assert isinstance(v, np.float32), type(v)
            b = bits32(v)
            if dtype == "f32":
                out.append("%08x" % b)
            elif dtype == "f16":
                out.append("%04x" % f32bits_to_f16bits(b))
            elif dtype == "bf16":
                out.append("%04x" % f32bits_to_bf16bits(b))
            else:
                raise ValueError(dtype)
    return out


# ---------------------------------------------------------------------------
# self-checks
# ---------------------------------------------------------------------------


def self_check(verbose=True):
    philox_kat()

    # constants transcribed from SPEC.md vs their documented origins
    for hx, dec in zip(ERFINV32_P + ERFINV32_Q, ERFINV32_P_DEC + ERFINV32_Q_DEC):
        assert bits32(np.float32(dec)) == hx, (hex(hx), dec)
    for i, hx in enumerate(LN32_A):
        assert bits32(np.float32(2.0 / (2 * i + 3))) == hx
    for i, hx in enumerate(LN64_B):
        assert bits64(2.0 / (2 * i + 3)) == hx
    for k, hx in enumerate(EXP64_E, start=2):
        assert bits64(float(Fraction(1, math.factorial(k)))) == hx
    # the f32 sin/cos tables are the f64 tables rounded to f32
    for i, hx in enumerate(SIN32):
        assert bits32(np.float32(from_bits64(SIN64[i]))) == hx, i
    for i, hx in enumerate(COS32):
        assert bits32(np.float32(from_bits64(COS64[i]))) == hx, i
    assert bits64(math.sqrt(2.0)) == 0x3FF6A09E667F3BCD
    assert abs(LN64_LN2_HI + LN64_LN2_LO - math.log(2.0)) < 1e-16
    assert abs(float(from_bits32(LN32_LN2_HI)) + float(from_bits32(LN32_LN2_LO)) - math.log(2.0)) < 1e-9

    rng = random.Random(12345)

    # f32 functions: numpy float32 vs software float32, bit for bit; and vs math
    n_cmp = 0
    for _ in range(3000):
        b = rng.randrange(0x00800000, 0x7F800000)  # positive normal
        x_np, x_r = from_bits32(b), R32.k(b)
        l_np, l_r = ln32(NP32, x_np), ln32(R32, x_r)
        assert bits32(l_np) == bits32(l_r), hex(b)
        xv = float(x_np)
        assert abs(float(l_np) - math.log(xv)) <= 2e-7 * max(1.0, abs(math.log(xv))), (xv, l_np)
        w = rng.getrandbits(32)
        s_np, c_np = sincos32(NP32, w)
        s_r, c_r = sincos32(R32, w)
        assert bits32(s_np) == bits32(s_r) and bits32(c_np) == bits32(c_r), hex(w)
        t = 2.0 * math.pi * (w >> 8) / 2.0**24
        assert abs(float(s_np) - math.sin(t)) < 3e-7 and abs(float(c_np) - math.cos(t)) < 3e-7, w
        u = rng.uniform(-1.0, 1.0) if rng.random() < 0.7 else math.copysign(1.0 - rng.random() ** 8, rng.random() - 0.5)
        xf = np.float32(u)
        if abs(float(xf)) > 1.0 - 2.0**-24:
            xf = np.float32(math.copysign(1.0 - 2.0**-24, u))
        e_np, e_r = erfinv32(NP32, xf), erfinv32(R32, R32(float(xf)))
        assert bits32(e_np) == bits32(e_r), float(xf)
        assert abs(math.erf(float(e_np)) - float(xf)) <= 2e-6 * max(1e-3, 1.0 - abs(float(xf))) + 1e-6, (xf, e_np)
        # lane transforms
        xs = [rng.getrandbits(32) for _ in range(4)]
        for kind, params in (("uniform", (-0.1, 0.25)), ("normal", (0.5, 2.0)),
                             ("trunc_normal", (0.5, 0.2, 0.0, 3.0))):
            a_ = Draw32(NP32, kind, params).block(xs)
            b_ = Draw32(R32, kind, params).block(xs)
            assert [bits32(v) for v in a_] == [bits32(v) for v in b_], (kind, xs)
            for v in a_:
                assert isinstance(v, np.float32)
        n_cmp += 1
    # exercise extreme lane inputs too
    for xs in ([0, 0, 0, 0], [MASK32] * 4, [1, 2, 0x7FFFFFFF, 0x80000000], [0xFFFFFF00, 0xFF, 0x100, 0x1FF]):
        for kind, params in (("uniform", (-0.1, 0.25)), ("normal", (0.0, 1.0)),
                             ("trunc_normal", (0.0, 1.0, -9.0, 9.0))):
            a_ = Draw32(NP32, kind, params).block(xs)
            b_ = Draw32(R32, kind, params).block(xs)
            assert [bits32(v) for v in a_] == [bits32(v) for v in b_], (kind, xs)
        Draw64("normal", (0.0, 1.0)).block(xs)
        Draw64("trunc_normal", (0.0, 1.0, -9.0, 9.0)).block(xs)

    # f64 functions vs math
    for _ in range(3000):
        x = math.exp(rng.uniform(-700, 700))
        assert abs(ln64(x) - math.log(x)) <= 4e-16 * max(1.0, abs(math.log(x))), x
        n = rng.getrandbits(53)
        s, c = sincos64(n)
        t = 2.0 * math.pi * n / 2.0**53
        assert abs(s - math.sin(t)) < 1e-15 and abs(c - math.cos(t)) < 1e-15, n
        y = -rng.uniform(0, 708)
        assert abs(exp64(y) - math.exp(y)) <= 1e-15 * math.exp(y), y
        z = rng.uniform(-7, 7)
        assert abs(erf64(z) - math.erf(z)) < 2e-15, z
        u = rng.uniform(-1.0, 1.0) if rng.random() < 0.7 else math.copysign(1.0 - rng.random() ** 20, rng.random() - 0.5)
        u = max(-(1.0 - 2.0**-53), min(1.0 - 2.0**-53, u))
        ei = erfinv64(u)
        assert abs(math.erf(ei) - u) <= 1e-14 * max(1e-15, 1.0 - abs(u)) * 10 + 4e-16, (u, ei)
    assert exp64(0.0) == 1.0 and erf64(0.0) == 0.0 and bits64(erf64(-0.0)) == 1 << 63
    assert bits32(sincos32(NP32, 0)[0]) == 0 and sincos32(NP32, 0)[1] == 1.0

    # f16 rounding: hand-written vs numpy's float32 -> float16 cast (ties to even)
    cases = [rng.getrandbits(32) for _ in range(200000)]
    cases += [0, 0x80000000, 0x7F800000, 0xFF800000, 0x477FEFFF, 0x477FF000, 0x477FF001,
              0x33800000, 0x33000000, 0x33000001, 0x387FE000, 0x387FF000, 0x38800000, 0x3F801000,
              0x3F803000, 0x3F800FFF, 0x3F801001, 0x00000001, 0x007FFFFF, 0x33C00000, 0x33A00000]
    cases += [rng.randrange(0x30000000, 0x48000000) | s for s in (0, 0x80000000) for _ in range(100000)]
    arr = np.array(cases, dtype=np.uint32)
    with np.errstate(all="ignore"):
        ref = arr.view(np.float32).astype(np.float16).view(np.uint16)
    for b, r in zip(cases, ref.tolist()):
        if (b & 0x7F800000) == 0x7F800000 and (b & 0x7FFFFF):
            continue  # NaN payloads are irrelevant here
        assert f32bits_to_f16bits(b) == r, (hex(b), hex(r), hex(f32bits_to_f16bits(b)))
    # bf16 known answers
    for b, want in ((0x3F800000, 0x3F80), (0x3F808000, 0x3F80), (0x3F818000, 0x3F82),
                    (0x3F808001, 0x3F81), (0x3F807FFF, 0x3F80), (0x7F7FFFFF, 0x7F80),
                    (0x80000000, 0x8000), (0xBF80C000, 0xBF81)):
        assert f32bits_to_bf16bits(b) == want, hex(b)

    # BLAKE3 derive_key sanity: the official test vector context/length semantics
    d = blake3.blake3(b"", derive_key_context="BLAKE3 2019-12-27 16:29:52 test vectors context").digest()
    assert d.hex() == "2cc39783c223154fea8dfb7c1b1660f2ac2dcbd1c1de8277b0b0dd39b7e50d7d", d.hex()
    if verbose:
        print("self-checks passed: Philox KATs, constants, %d f32 numpy-vs-software comparisons, "
              "f64 functions vs math, f16/bf16 rounding, BLAKE3 derive_key" % n_cmp)


# ---------------------------------------------------------------------------
# cases
# ---------------------------------------------------------------------------

U64MAX = 18446744073709551615
U32MAX = 4294967295
S = Scheme

KEY_CASES = [
    (0, "weight", 0),
    (1, "weight", 1),
    (42, "blocks.3.attn.qkv.weight", 1),
    (U64MAX, "blocks.3.attn.qkv.weight", 2),
    (1234567890123456789, "", 0),
    (42, "", U32MAX),
    (0, "a..b", 1),
    (1, ".leading", 2),
    (42, "trailing.", 1),
    (1234567890123456789, "ünïcødé.层.重み", 4294967295),
    (U64MAX, "emoji.🦀.w", 0),
    (42, "ab.c", 1),
    (42, "a.bc", 1),
    (0, "weight", U32MAX),
]

KAIMING_DEFAULT = dict(a=0.0, mode="fan_in", nonlinearity="leaky_relu")


def build_cases():
    C = []

    def add(name, shape, dtype, scheme, seed=42, path="weight", version=1, region=None):
        C.append(dict(name=name, seed=seed, path=path, version=version, shape=list(shape),
                      region=None if region is None else [list(r) for r in region],
                      dtype=dtype, scheme=scheme))

    # --- every scheme in every dtype ---
    for dt in ("f32", "f64", "f16", "bf16"):
        add("uniform_%s_3x5" % dt, [3, 5], dt, S("uniform", a=-0.1, b=0.25), seed=1, path="fc.bias")
        add("normal_%s_2x3x5" % dt, [2, 3, 5], dt, S("normal", mean=0.0, std=0.02), seed=42, path="embed.weight")
        add("trunc_normal_std1_%s_7" % dt, [7], dt, S("trunc_normal", mean=0.0, std=1.0, a=-2.0, b=2.0), seed=0)
        add("trunc_normal_asym_%s_3x7" % dt, [3, 7], dt, S("trunc_normal", mean=0.5, std=0.2, a=0.0, b=3.0),
            seed=7, path="head.w", version=2)
        add("trunc_normal_vit_%s_2x1x3x6" % dt, [2, 1, 3, 6], dt,
            S("trunc_normal", mean=0.0, std=0.02, a=-2.0, b=2.0), seed=1234567890123456789, path="pos_embed")
        add("constant_%s_2x3" % dt, [2, 3], dt, S("constant", val=0.3), path="ln.bias")
        add("zeros_%s_5" % dt, [5], dt, S("zeros"), path="ln.bias")
        add("ones_%s_2x3" % dt, [2, 3], dt, S("ones"), path="ln.weight")
        add("eye_%s_3x5" % dt, [3, 5], dt, S("eye"))
        add("eye_%s_5x3" % dt, [5, 3], dt, S("eye"))
        add("dirac_g1_%s_4x3x3" % dt, [4, 3, 3], dt, S("dirac", groups=1), path="conv1d.weight")
        add("dirac_g2_%s_4x2x3x3" % dt, [4, 2, 3, 3], dt, S("dirac", groups=2), path="conv.weight")
        add("xavier_uniform_%s_3x5" % dt, [3, 5], dt, S("xavier_uniform", gain=1.0), seed=U64MAX)
        add("xavier_normal_%s_4x3x3x3" % dt, [4, 3, 3, 3], dt, S("xavier_normal", gain=1.0), seed=0,
            path="conv.weight", version=0)
        add("kaiming_uniform_sqrt5_%s_2x1x3x6" % dt, [2, 1, 3, 6], dt,
            S("kaiming_uniform", a=math.sqrt(5.0), mode="fan_in", nonlinearity="leaky_relu"),
            path="blocks.3.attn.qkv.weight")
        add("kaiming_normal_fanout_relu_%s_6x4x3" % dt, [6, 4, 3], dt,
            S("kaiming_normal", a=0.0, mode="fan_out", nonlinearity="relu"), seed=1, version=7)
        add("orthogonal_tall_%s_5x3" % dt, [5, 3], dt, S("orthogonal", gain=1.0), seed=0)
        add("orthogonal_wide_%s_3x7" % dt, [3, 7], dt, S("orthogonal", gain=1.0), seed=1)
        add("sparse_%s_10x7" % dt, [10, 7], dt, S("sparse", sparsity=0.3, std=0.01), seed=42)

    # --- kaiming / xavier variants ---
    shp = [6, 4, 3, 3]
    for i, (mode, nl, a) in enumerate([("fan_in", "relu", 0.0), ("fan_out", "tanh", 0.0),
                                       ("fan_in", "selu", 0.0), ("fan_out", "linear", 0.0),
                                       ("fan_in", "sigmoid", 0.0), ("fan_out", "conv2d", 0.0),
                                       ("fan_in", "leaky_relu", 0.01), ("fan_out", "leaky_relu", 0.2)]):
        dt = ("f32", "f64", "f16", "bf16")[i % 4]
        add("kaiming_uniform_%s_%s_%s_6x4x3x3" % (mode, nl, dt), shp, dt,
            S("kaiming_uniform", a=a, mode=mode, nonlinearity=nl), seed=1 + i, path="features.%d.weight" % i)
        dt2 = ("f64", "f32", "bf16", "f16")[i % 4]
        add("kaiming_normal_%s_%s_%s_5x7" % (mode, nl, dt2), [5, 7], dt2,
            S("kaiming_normal", a=a, mode=mode, nonlinearity=nl), seed=100 + i, path="mlp.%d.w" % i)
    add("kaiming_uniform_default_f32_3x5", [3, 5], "f32", S("kaiming_uniform", **KAIMING_DEFAULT))
    add("kaiming_normal_default_f64_3x5", [3, 5], "f64", S("kaiming_normal", **KAIMING_DEFAULT))
    add("xavier_uniform_gain_relu_f32_2x2x2x3x5", [2, 2, 2, 3, 5], "f32",
        S("xavier_uniform", gain=math.sqrt(2.0)), path="conv3d.weight")
    add("xavier_normal_gain_tanh_f64_5x3", [5, 3], "f64", S("xavier_normal", gain=5.0 / 3.0))
    add("xavier_uniform_gain0_f32_3x5", [3, 5], "f32", S("xavier_uniform", gain=0.0))
    add("xavier_normal_gain0_f32_3x5", [3, 5], "f32", S("xavier_normal", gain=0.0))

    # --- orthogonal variants ---
    add("orthogonal_3d_f32_4x2x3", [4, 2, 3], "f32", S("orthogonal", gain=1.0), path="rnn.weight_hh")
    add("orthogonal_4d_f64_6x2x1x3", [6, 2, 1, 3], "f64", S("orthogonal", gain=math.sqrt(2.0)), path="conv.weight")
    add("orthogonal_4d_wide_bf16_2x3x1x3", [2, 3, 1, 3], "bf16", S("orthogonal", gain=0.5), version=0)
    add("orthogonal_square_f64_6x6", [6, 6], "f64", S("orthogonal", gain=1.0), seed=U64MAX, version=U32MAX)
    add("orthogonal_1x1_f32", [1, 1], "f32", S("orthogonal", gain=1.0))
    add("orthogonal_row_f32_1x7", [1, 7], "f32", S("orthogonal", gain=1.0))
    add("orthogonal_col_f64_7x1", [7, 1], "f64", S("orthogonal", gain=2.0))
    add("orthogonal_region_f32_48x40", [48, 40], "f32", S("orthogonal", gain=1.0),
        region=[[40, 48], [30, 40]], path="proj.weight")
    add("orthogonal_region_f64_20x33", [20, 33], "f64", S("orthogonal", gain=1.0),
        region=[[0, 3], [25, 33]], path="proj.weight")

    # --- sparse variants ---
    add("sparse_region_f32_40x30", [40, 30], "f32", S("sparse", sparsity=0.9, std=0.5),
        region=[[0, 40], [0, 3]], seed=U64MAX)
    add("sparse_f64_9x5", [9, 5], "f64", S("sparse", sparsity=0.5, std=1.0), seed=1234567890123456789,
        path="a..b")
    add("sparse_f16_6x9", [6, 9], "f16", S("sparse", sparsity=0.1, std=0.01), seed=0, version=0)
    # 0.28 * 25.0 = 7.000000000000001 in f64, so num_zeros = ceil(...) = 8 (as PyTorch's math.ceil)
    add("sparse_ceil_bf16_25x6", [25, 6], "bf16", S("sparse", sparsity=0.28, std=0.02), seed=7, path="sp")

    # --- shapes of every rank ---
    add("normal_rank0_f32", [], "f32", S("normal", mean=0.0, std=1.0))
    add("normal_rank0_f64", [], "f64", S("normal", mean=0.0, std=1.0))
    add("uniform_rank0_bf16", [], "bf16", S("uniform", a=-1.0, b=1.0))
    add("trunc_normal_rank0_f16", [], "f16", S("trunc_normal", mean=0.0, std=1.0, a=-2.0, b=2.0))
    add("uniform_rank1_f64_7", [7], "f64", S("uniform", a=0.0, b=1.0), seed=0, path="")
    add("normal_rank3_f64_2x3x5", [2, 3, 5], "f64", S("normal", mean=1.0, std=0.5))
    add("normal_rank4_f32_2x1x3x6", [2, 1, 3, 6], "f32", S("normal", mean=-0.25, std=3.0))
    add("uniform_rank5_f32_2x2x2x3x5", [2, 2, 2, 3, 5], "f32", S("uniform", a=-3.0, b=1000.0))
    add("normal_rank5_f64_2x2x2x3x5", [2, 2, 2, 3, 5], "f64", S("normal", mean=0.0, std=1.0))
    add("trunc_normal_rank6_f32_2x1x2x1x2x3", [2, 1, 2, 1, 2, 3], "f32",
        S("trunc_normal", mean=0.0, std=1.0, a=-2.0, b=2.0))
    add("normal_rank6_f64_2x1x2x1x2x3", [2, 1, 2, 1, 2, 3], "f64", S("normal", mean=0.0, std=0.1))
    add("kaiming_normal_rank6_bf16_2x1x2x3x2x3", [2, 1, 2, 3, 2, 3], "bf16",
        S("kaiming_normal", a=0.0, mode="fan_in", nonlinearity="relu"))
    add("dirac_rank5_f32_2x2x3x3x3", [2, 2, 3, 3, 3], "f32", S("dirac", groups=1), path="conv3d.weight")
    add("dirac_g3_f64_6x1x5", [6, 1, 5], "f64", S("dirac", groups=3), path="conv1d.weight")
    add("dirac_g1_f16_3x5x4", [3, 5, 4], "f16", S("dirac", groups=1))

    # --- regions of large shapes ---
    add("kaiming_uniform_region_f32_512x768", [512, 768], "f32",
        S("kaiming_uniform", a=math.sqrt(5.0), mode="fan_in", nonlinearity="leaky_relu"),
        region=[[3, 5], [757, 768]], path="blocks.3.attn.qkv.weight")
    add("kaiming_uniform_region_f64_512x768", [512, 768], "f64",
        S("kaiming_uniform", a=math.sqrt(5.0), mode="fan_in", nonlinearity="leaky_relu"),
        region=[[3, 5], [757, 768]], path="blocks.3.attn.qkv.weight")
    add("normal_region_bf16_512x768", [512, 768], "bf16", S("normal", mean=0.0, std=0.02),
        region=[[510, 512], [0, 9]], path="blocks.3.attn.qkv.weight")
    add("normal_region_f32_4096", [4096], "f32", S("normal", mean=0.0, std=1.0), region=[[4090, 4096]])
    add("normal_region_f64_4096", [4096], "f64", S("normal", mean=0.0, std=1.0), region=[[4089, 4096]])
    add("uniform_region_f16_4096", [4096], "f16", S("uniform", a=-0.5, b=0.5), region=[[4090, 4096]])
    add("kaiming_normal_region_f16_64x32x3x3", [64, 32, 3, 3], "f16",
        S("kaiming_normal", a=0.0, mode="fan_out", nonlinearity="relu"),
        region=[[60, 64], [30, 32], [0, 3], [1, 3]], path="layer4.1.conv2.weight")
    add("kaiming_uniform_region_f32_64x32x3x3", [64, 32, 3, 3], "f32",
        S("kaiming_uniform", a=math.sqrt(5.0), mode="fan_in", nonlinearity="leaky_relu"),
        region=[[60, 64], [30, 32], [0, 3], [1, 3]], path="layer4.1.conv2.weight")
    add("dirac_region_f32_64x32x3x3", [64, 32, 3, 3], "f32", S("dirac", groups=2),
        region=[[30, 34], [28, 32], [1, 2], [0, 3]], path="conv.weight")
    add("trunc_normal_region_f32_16x8x3x5x5", [16, 8, 3, 5, 5], "f32",
        S("trunc_normal", mean=0.0, std=0.02, a=-2.0, b=2.0),
        region=[[14, 16], [6, 8], [1, 3], [0, 5], [3, 5]], path="video.conv.weight")
    add("normal_region_f64_16x8x3x5x5", [16, 8, 3, 5, 5], "f64", S("normal", mean=0.0, std=1.0),
        region=[[15, 16], [7, 8], [2, 3], [2, 5], [0, 5]], path="video.conv.weight")
    add("uniform_region_f32_70000x3", [70000, 3], "f32", S("uniform", a=-0.1, b=0.25),
        region=[[69998, 70000], [0, 3]], path="embed.weight")
    add("uniform_region_f64_70000x3", [70000, 3], "f64", S("uniform", a=-0.1, b=0.25),
        region=[[69998, 70000], [0, 3]], path="embed.weight")
    add("normal_region_bf16_50257x768", [50257, 768], "bf16", S("normal", mean=0.0, std=0.02),
        region=[[50250, 50257], [760, 768]], path="transformer.wte.weight")
    add("normal_region_f32_3x100003", [3, 100003], "f32", S("normal", mean=0.0, std=1.0),
        region=[[1, 3], [99990, 100003]], path="wide")
    add("eye_region_f32_1000x1000", [1000, 1000], "f32", S("eye"), region=[[995, 1000], [993, 1000]])
    add("xavier_normal_region_f64_1000x999", [1000, 999], "f64", S("xavier_normal", gain=1.0),
        region=[[997, 1000], [990, 999]], version=0)
    add("normal_region_f32_rank6", [3, 4, 5, 6, 7, 9], "f32", S("normal", mean=0.0, std=1.0),
        region=[[2, 3], [3, 4], [1, 3], [4, 6], [5, 7], [2, 9]], path="r6")
    add("uniform_region_f64_rank5_F", [2, 3, 70, 80, 5], "f64", S("uniform", a=-1.0, b=1.0),
        region=[[1, 2], [2, 3], [69, 70], [78, 80], [0, 5]], path="r5")

    # --- trunc_normal tails ---
    for dt in ("f32", "f64", "bf16"):
        add("trunc_normal_tail_%s_3x5" % dt, [3, 5], dt, S("trunc_normal", mean=0.0, std=1.0, a=3.0, b=5.0))
        add("trunc_normal_wide_%s_3x5" % dt, [3, 5], dt, S("trunc_normal", mean=0.0, std=1.0, a=-9.0, b=9.0))
    add("trunc_normal_far_tail_f64_4x5", [4, 5], "f64", S("trunc_normal", mean=0.0, std=1.0, a=5.5, b=8.0))
    # The f32 family rejects [5.5, 8]: f32(erf(5.5 / sqrt 2)) rounds to 1 (SPEC.md 7).
    add("trunc_normal_left_f16_3x5", [3, 5], "f16", S("trunc_normal", mean=1.0, std=2.0, a=-7.0, b=-1.0))

    # --- keys: seeds, versions, unusual paths ---
    for i, (seed, path, version) in enumerate([
        (0, "weight", 0), (0, "weight", 1), (0, "weight", 2), (0, "weight", 7), (0, "weight", U32MAX),
        (1, "a..b", 1), (U64MAX, ".leading", 1), (1234567890123456789, "trailing.", 1),
        (42, "ünïcødé.层.重み", 2), (42, "emoji.🦀.w", 7), (42, "ab.c", 1), (42, "a.bc", 1),
        (42, "", 1)]):
        dt = ("f32", "f64")[i % 2]
        add("keys_%d_normal_%s_2x6" % (i, dt), [2, 6], dt, S("normal", mean=0.0, std=1.0),
            seed=seed, path=path, version=version)
    add("keys_uniform_bf16_emoji", [9], "bf16", S("uniform", a=-0.1, b=0.25), seed=U64MAX,
        path="emoji.🦀.w", version=U32MAX)
    add("keys_uniform_f16_unicode", [9], "f16", S("uniform", a=-0.1, b=0.25), seed=0,
        path="ünïcødé.层.重み", version=0)

    # --- misc constants / edge values ---
    add("constant_negzero_f32_3", [3], "f32", S("constant", val=-0.0))
    # constant(70000) in f16 is rejected: it overflows binary16 (SPEC.md 6.3).
    add("constant_bf16_rounding_3", [3], "bf16", S("constant", val=1.00390625))
    add("constant_f16_tiny_2", [2], "f16", S("constant", val=1e-07))
    add("constant_f64_third_2x2", [2, 2], "f64", S("constant", val=1.0 / 3.0))
    add("normal_std0_f32_5", [5], "f32", S("normal", mean=-1.25, std=0.0))
    add("normal_std0_f64_5", [5], "f64", S("normal", mean=-1.25, std=0.0))
    add("uniform_f64_big_2x5", [2, 5], "f64", S("uniform", a=-1000000.0, b=0.001))
    add("uniform_f16_sub_3x5", [3, 5], "f16", S("uniform", a=-0.0001, b=0.0001))
    return C


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "tests", "data", "golden_v1.json"))
    ap.add_argument("--check", action="store_true", help="run the self-checks only")
    args = ap.parse_args(argv)

    self_check()
    if args.check:
        return 0

    keys = []
    for seed, path, version in KEY_CASES:
        keys.append({"seed": str(seed), "path": path, "version": version,
                     "digest": derive_digest(seed, path, version).hex()})

    cases = []
    names = set()
    nvals = 0
    per_dtype, per_scheme = {}, {}
    for c in build_cases():
        assert c["name"] not in names, c["name"]
        names.add(c["name"])
        vals = generate(c["seed"], c["path"], c["version"], c["shape"], c["region"], c["dtype"], c["scheme"])
        bits = to_hex(vals, c["dtype"])
        assert len(bits) <= 256, (c["name"], len(bits))
        nvals += len(bits)
        per_dtype[c["dtype"]] = per_dtype.get(c["dtype"], 0) + 1
        per_scheme[c["scheme"].name] = per_scheme.get(c["scheme"].name, 0) + 1
        cases.append({"name": c["name"], "seed": str(c["seed"]), "path": c["path"], "version": c["version"],
                      "shape": c["shape"], "region": c["region"], "dtype": c["dtype"],
                      "init": c["scheme"].text(), "bits": bits})

    doc = {"spec_version": SPEC_VERSION, "generated_by": "tools/golden/golden.py", "keys": keys, "cases": cases}
    out = os.path.normpath(args.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    print("wrote %s: %d key cases, %d value cases, %d values" % (out, len(keys), len(cases), nvals))
    print("  per dtype:  " + ", ".join("%s=%d" % kv for kv in sorted(per_dtype.items())))
    print("  per scheme: " + ", ".join("%s=%d" % kv for kv in sorted(per_scheme.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
