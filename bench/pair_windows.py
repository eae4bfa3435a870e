#!/usr/bin/env python3
"""Pairs two recl-bench windows.csv files on the same frames.

    bench/pair_windows.py A/windows.csv POLICY_A B/windows.csv POLICY_B

For two runs of the same plan (the frames of a (seed, camera, window) are the
same in every run), prints the mean of A's mAP@0.5 minus B's over the scored
windows both have (history and sparse windows left out) with a 95%
percentile bootstrap interval, as recl-bench's report does within one run.
"""
import csv
import random
import sys


def scored(path, policy):
    out = {}
    with open(path) as f:
        for r in csv.DictReader(f):
            if r["policy"] == policy and r["history"] == "0" and r["sparse"] == "0":
                out[(r["seed"], r["camera"], int(r["window"]))] = float(r["map"])
    return out


def main(argv):
    if len(argv) != 5 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) == 2 else 2
    a, b = scored(argv[1], argv[2]), scored(argv[3], argv[4])
    keys = sorted(set(a) & set(b))
    if len(keys) < 2:
        print("pair_windows: fewer than 2 windows in common", file=sys.stderr)
        return 1
    d = [a[k] - b[k] for k in keys]
    rng = random.Random(12345)
    means = sorted(sum(rng.choice(d) for _ in d) / len(d) for _ in range(4000))
    lo, hi = means[int(0.025 * 3999)], means[int(0.975 * 3999)]
    mean = sum(d) / len(d)
    verdict = "no measurable difference" if lo <= 0 <= hi else ("A better" if mean > 0 else "A worse")
    print(f"{len(d)} pairs: A {sum(a[k] for k in keys) / len(d):.3f}, "
          f"B {sum(b[k] for k in keys) / len(d):.3f}, A - B {mean:+.3f} "
          f"({lo:+.3f}..{hi:+.3f}): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
