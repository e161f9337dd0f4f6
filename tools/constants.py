#!/usr/bin/env python3
"""Derives the polynomial constants of SPEC.md section 5 and prints them as hex bits.

The constants are frozen in SPEC.md and in runtime/src/math.rs; this script only
documents where they came from (exact rationals and a 60-digit pi, rounded once
to f64 and, for the f32 tables, from that f64 to f32 by round-to-nearest-even).
Run: python3 tools/constants.py
"""
import struct
from decimal import Decimal, getcontext
from fractions import Fraction
from math import factorial

getcontext().prec = 60
PI = Decimal("3.14159265358979323846264338327950288419716939937510582097494")
HALF_PI = PI / 2


def f64(x):
    return float(x)


def f32_bits(x):
    return struct.unpack("<I", struct.pack("<f", float(x)))[0]


def f64_bits(x):
    return struct.unpack("<Q", struct.pack("<d", float(x)))[0]


def sin_coeffs(n):
    # sin(pi/2 * r) = sum_k (-1)^k (pi/2)^(2k+1) / (2k+1)! * r^(2k+1)
    return [(-1) ** k * HALF_PI ** (2 * k + 1) / factorial(2 * k + 1) for k in range(n)]


def cos_coeffs(n):
    # cos(pi/2 * r) = 1 + sum_{k>=1} (-1)^k (pi/2)^(2k) / (2k)! * r^(2k)
    return [(-1) ** k * HALF_PI ** (2 * k) / factorial(2 * k) for k in range(1, n + 1)]


def ln_coeffs(n):
    # ln m = 2s + s * z * (2/3 + z * (2/5 + ...)), s = (m-1)/(m+1), z = s^2
    return [Fraction(2, 2 * k + 1) for k in range(1, n + 1)]


def show(name, values, bits):
    for i, v in enumerate(values):
        b = bits(v)
        width = 8 if bits is f32_bits else 16
        print(f"{name}[{i}] = 0x{b:0{width}x}  # {float(Decimal(v.numerator) / Decimal(v.denominator)) if isinstance(v, Fraction) else float(v)!r}")


if __name__ == "__main__":
    show("SIN32", sin_coeffs(5), f32_bits)
    show("COS32", cos_coeffs(5), f32_bits)
    show("LN32", ln_coeffs(4), f32_bits)
    show("SIN64", sin_coeffs(9), f64_bits)
    show("COS64", cos_coeffs(9), f64_bits)
    show("LN64", ln_coeffs(11), f64_bits)
    print(f"EXP64 uses 1/k! for k = 2..13, rounded to f64:")
    for k in range(2, 14):
        print(f"  1/{k}! = 0x{f64_bits(Fraction(1, factorial(k))):016x}")
    print(f"SQRT2 f64 = 0x{f64_bits(Decimal(2).sqrt()):016x}")
    print(f"2/sqrt(pi) f64 = 0x{f64_bits(2 / PI.sqrt()):016x}")
    print(f"1/ln2 f64 = 0x{f64_bits(1 / Decimal(2).ln()):016x}")
