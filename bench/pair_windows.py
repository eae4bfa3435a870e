#!/usr/bin/env python3
"""Pairs two recl-bench windows.csv files on the same frames.

    bench/pair_windows.py [--seeds LO-HI] [--by-source] \\
        A/windows.csv POLICY_A B/windows.csv POLICY_B

For two runs of the same plan (the frames of a (seed, camera, window) are the
same in every run), prints the mean of A's mAP@0.5 minus B's over the scored
windows both have (history and sparse windows left out) with a 95%
percentile bootstrap interval, as recl-bench's report does within one run.

--seeds LO-HI   only the runs of recld seeds LO..HI (e.g. a replication's)
--by-source     also split by where the model A deployed on a window came
                from: what A served after the window before (zoo, retrained,
                kept; "first" for a camera's first window)
"""
import csv
import random
import sys


def rows_of(path, policy, seeds):
    out = {}
    with open(path) as f:
        for r in csv.DictReader(f):
            if r["policy"] == policy and r["history"] == "0" and int(r["seed"]) in seeds:
                out[(r["seed"], r["camera"], int(r["window"]))] = r
    return out


def line(label, a, b, keys):
    d = [float(a[k]["map"]) - float(b[k]["map"]) for k in keys]
    rng = random.Random(12345)
    means = sorted(sum(rng.choice(d) for _ in d) / len(d) for _ in range(4000))
    lo, hi = means[int(0.025 * 3999)], means[int(0.975 * 3999)]
    mean = sum(d) / len(d)
    verdict = "no measurable difference" if lo <= 0 <= hi else ("A better" if mean > 0 else "A worse")
    ma = sum(float(a[k]["map"]) for k in keys) / len(d)
    mb = sum(float(b[k]["map"]) for k in keys) / len(d)
    print(f"{label}{len(d)} pairs: A {ma:.3f}, B {mb:.3f}, A - B {mean:+.3f} "
          f"({lo:+.3f}..{hi:+.3f}): {verdict}")


def main(argv):
    args = argv[1:]
    seeds, by_source = range(0, 1 << 30), False
    while args and args[0].startswith("--"):
        flag = args.pop(0)
        if flag in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        if flag == "--by-source":
            by_source = True
        elif flag == "--seeds" and args:
            lo, _, hi = args.pop(0).partition("-")
            seeds = range(int(lo), int(hi or lo) + 1)
        else:
            print(f"pair_windows: unknown option {flag}", file=sys.stderr)
            return 2
    if len(args) != 4:
        print(__doc__.strip())
        return 2
    a_all, b = rows_of(args[0], args[1], seeds), rows_of(args[2], args[3], seeds)
    scored = lambda r: r["sparse"] == "0"
    keys = sorted(k for k in set(a_all) & set(b) if scored(a_all[k]) and scored(b[k]))
    if len(keys) < 2:
        print("pair_windows: fewer than 2 windows in common", file=sys.stderr)
        return 1
    line("", a_all, b, keys)
    if by_source:
        groups = {}
        for k in keys:
            prev = a_all.get((k[0], k[1], k[2] - 1))
            groups.setdefault(prev["source"] if prev else "first", []).append(k)
        for src, ks in sorted(groups.items()):
            if len(ks) >= 2:
                line(f"  A deployed {src}: ", a_all, b, ks)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
