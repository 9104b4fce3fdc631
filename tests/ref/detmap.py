#!/usr/bin/env python3
"""detmap.py: an independent reference for plugins/detect/map.c (standard library only).

Input (one record per line, '#' comments and blank lines ignored):
    classes C
    maxdets N                          (optional, COCO's maxDets; default 100)
    gt  IMAGE CLASS X Y W H            (Darknet's relative centre format)
    det IMAGE CLASS SCORE X Y W H
Output, every float as repr() (full precision), 'nan' for a class without ground truth:
    ap50 CLASS AP       VOC all-point AP at IoU 0.5
    map50 MAP
    coco CLASS AP       COCO 101-point AP averaged over IoU .50:.05:.95
    map MAP             COCO mAP@[.5:.95]
Definitions: detections of a class ranked by score (highest first), equal scores by image
then by order in the file; a detection matches the unmatched GT box of its image and class
with the highest IoU >= t (the first in file order among equal IoUs). VOC: precision made
non-increasing from the right, area summed where recall changes. COCO: the first maxdets
ranked detections per image and class; precision at recall r = i/100 (numpy linspace
values) is the envelope at the first rank with recall >= r, else 0; mean of 101 points.
Means over the classes that have ground truth.
"""
import bisect
import math
import sys


def read(path):
    classes, maxdets, gts, dets = None, 100, [], []
    with open(path) as f:
        for raw in f:
            tok = raw.split('#')[0].split()
            if not tok:
                continue
            if tok[0] == 'classes':
                classes = int(tok[1])
            elif tok[0] == 'maxdets':
                maxdets = int(tok[1])
            elif tok[0] == 'gt':
                gts.append((int(tok[1]), int(tok[2])) + tuple(float(v) for v in tok[3:7]))
            elif tok[0] == 'det':
                dets.append((int(tok[1]), int(tok[2]), float(tok[3])) + tuple(float(v) for v in tok[4:8]))
            else:
                raise SystemExit('%s: unknown record %r' % (path, tok[0]))
    if classes is None:
        raise SystemExit('%s: no classes line' % path)
    return classes, maxdets, gts, dets


def corners(x, y, w, h):
    return (x - w / 2, y - h / 2, x + w / 2, y + h / 2)


def iou(a, b):
    ix = min(a[2], b[2]) - max(a[0], b[0])
    iy = min(a[3], b[3]) - max(a[1], b[1])
    if ix <= 0 or iy <= 0:
        return 0.0
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def ranked(dets, c):
    """(image, corners, score) of class c: score descending, then image, then file order."""
    mine = [(i, d) for i, d in enumerate(dets) if d[1] == c]
    mine.sort(key=lambda t: (-t[1][2], t[1][0], t[0]))
    return [(d[0], corners(*d[3:7]), d[2]) for _, d in mine]


def hits(gt_by_image, ds, t):
    """1/0 per ranked detection: greedy matching at IoU threshold t."""
    taken = {img: [False] * len(boxes) for img, boxes in gt_by_image.items()}
    out = []
    for img, box, _ in ds:
        cand = gt_by_image.get(img, [])
        pick, best = None, None
        for j, g in enumerate(cand):
            if taken[img][j]:
                continue
            v = iou(box, g)
            if v >= t and (best is None or v > best):
                pick, best = j, v
        if pick is None:
            out.append(0)
        else:
            taken[img][pick] = True
            out.append(1)
    return out


def curve(h, npos):
    prec, rec, tp = [], [], 0
    for n, x in enumerate(h, 1):
        tp += x
        prec.append(tp / n)
        rec.append(tp / npos)
    return prec, rec


def voc_ap(h, npos):
    prec, rec = curve(h, npos)
    mrec = [0.0] + rec + [1.0]
    mpre = [0.0] + prec + [0.0]
    for i in range(len(mpre) - 2, -1, -1):
        mpre[i] = max(mpre[i], mpre[i + 1])
    return sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]
               for i in range(len(mrec) - 1) if mrec[i + 1] != mrec[i])


def coco_ap(h, npos):
    prec, rec = curve(h, npos)
    env = prec[:]
    for i in range(len(env) - 2, -1, -1):
        env[i] = max(env[i], env[i + 1])
    points = [i * 0.01 for i in range(100)] + [1.0]
    q = []
    for r in points:
        k = bisect.bisect_left(rec, r)
        q.append(env[k] if k < len(env) else 0.0)
    return sum(q) / len(q)


def first_per_image(ds, n):
    seen, out = {}, []
    for d in ds:
        seen[d[0]] = seen.get(d[0], 0) + 1
        if seen[d[0]] <= n:
            out.append(d)
    return out


def main():
    classes, maxdets, gts, dets = read(sys.argv[1])
    step = (0.95 - 0.5) / 9
    thresholds = [j * step + 0.5 for j in range(9)] + [0.95]
    voc, coco = [], []
    for c in range(classes):
        by_image = {}
        for g in gts:
            if g[1] == c:
                by_image.setdefault(g[0], []).append(corners(*g[2:6]))
        npos = sum(len(v) for v in by_image.values())
        ds = ranked(dets, c)
        if npos == 0:
            voc.append(math.nan)
            coco.append(math.nan)
            continue
        voc.append(voc_ap(hits(by_image, ds, 0.5), npos))
        top = first_per_image(ds, maxdets)
        coco.append(sum(coco_ap(hits(by_image, top, t), npos) for t in thresholds) / len(thresholds))
    for c, a in enumerate(voc):
        print('ap50', c, repr(a))
    have = [a for a in voc if not math.isnan(a)]
    print('map50', repr(sum(have) / len(have) if have else 0.0))
    for c, a in enumerate(coco):
        print('coco', c, repr(a))
    have = [a for a in coco if not math.isnan(a)]
    print('map', repr(sum(have) / len(have) if have else 0.0))


if __name__ == '__main__':
    main()
