#!/usr/bin/env python3
"""Independent reference for mAP@0.5 (COCO-style, 101-point interpolation).

Reads a JSON case {"iou": t, "min_class_boxes": n, "frames": [{"det": [[x0,y0,x1,y1,score,cls],...],
"gt": [[x0,y0,x1,y1,cls],...]}, ...]} and prints {"map": m, "per_class": {cls: ap}}.
Written the way pycocotools evaluates one category: per image, detections in
score order claim the best still-unmatched ground truth; then cumulative TP/FP
over all images, a monotone precision envelope, and precision sampled at 101
recall thresholds with searchsorted.
"""
import json
import sys

import numpy as np


def iou_matrix(d, g):
    ix0 = np.maximum(d[:, None, 0], g[None, :, 0])
    iy0 = np.maximum(d[:, None, 1], g[None, :, 1])
    ix1 = np.minimum(d[:, None, 2], g[None, :, 2])
    iy1 = np.minimum(d[:, None, 3], g[None, :, 3])
    inter = np.clip(ix1 - ix0, 0, None) * np.clip(iy1 - iy0, 0, None)
    ad = np.clip(d[:, 2] - d[:, 0], 0, None) * np.clip(d[:, 3] - d[:, 1], 0, None)
    ag = np.clip(g[:, 2] - g[:, 0], 0, None) * np.clip(g[:, 3] - g[:, 1], 0, None)
    union = ad[:, None] + ag[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def class_ap(frames, cls, thr):
    scores, tps = [], []
    n_gt = 0
    for f in frames:
        d = np.array([x for x in f["det"] if int(x[5]) == cls], dtype=np.float32).reshape(-1, 6)
        g = np.array([x for x in f["gt"] if int(x[4]) == cls], dtype=np.float32).reshape(-1, 5)
        n_gt += len(g)
        order = np.argsort(-d[:, 4], kind="mergesort")
        d = d[order]
        ious = iou_matrix(d[:, :4], g[:, :4]) if len(d) and len(g) else np.zeros((len(d), len(g)))
        taken = np.zeros(len(g), dtype=bool)
        for i in range(len(d)):
            cand = np.where(~taken & (ious[i] >= thr), ious[i], -1.0)
            j = int(np.argmax(cand)) if len(g) else -1
            # ties: the last of the equal best, like a >= scan
            if j >= 0 and cand[j] >= 0:
                best = cand[j]
                j = int(np.nonzero(cand == best)[0][-1])
                taken[j] = True
                tps.append(1)
            else:
                tps.append(0)
            scores.append(d[i, 4])
    if n_gt == 0:
        return 0.0, 0
    order = np.argsort(-np.array(scores, dtype=np.float32), kind="mergesort")
    tp = np.array(tps, dtype=np.float64)[order]
    ctp = np.cumsum(tp)
    cfp = np.cumsum(1 - tp)
    rc = ctp / n_gt
    pr = ctp / np.maximum(ctp + cfp, np.finfo(np.float64).eps)
    pr = np.maximum.accumulate(pr[::-1])[::-1] if len(pr) else pr
    thresholds = np.arange(101) / 100.0
    idx = np.searchsorted(rc, thresholds - 1e-12, side="left")
    q = np.array([pr[i] if i < len(pr) else 0.0 for i in idx])
    return float(q.mean()), n_gt


def main():
    case = json.load(open(sys.argv[1]))
    frames = case["frames"]
    classes = sorted({int(x[4]) for f in frames for x in f["gt"]} | {int(x[5]) for f in frames for x in f["det"]})
    per, scored = {}, []
    for c in classes:
        ap, n = class_ap(frames, c, case["iou"])
        per[str(c)] = ap
        if n >= case["min_class_boxes"]:
            scored.append(ap)
    print(json.dumps({"map": float(np.mean(scored)) if scored else 0.0, "per_class": per}))


main()
