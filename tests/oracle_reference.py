"""Independent numpy reference of `evaluate --oracles` (engine/wkp-evaluate.h).

Usage: oracle_reference.py CANONICAL.npy STABLE.npy MEAN_FACE.npy MAX_LAG REF0.npy [REF1.npy ...]

Each REF is float32 [T, 68, 2] in pixels (NaN = no face). Per clip, with the
reference normalised onto the canonical face (metrics_reference.normalise):
  motion = reference - its clip mean (over frames with a face) + MEAN_FACE
  level  = the clip mean, every frame
and both are scored against the reference exactly as any model is
(metrics_reference.pooled). Prints {"motion": {...}, "level": {...}}.
"""
import json
import sys

import numpy as np

from metrics_reference import normalise, pooled


def main():
    canonical = np.load(sys.argv[1]).astype(np.float64)
    stable = np.load(sys.argv[2]).astype(np.int64)
    mean_face = np.load(sys.argv[3]).astype(np.float64).reshape(68, 2)
    max_lag = int(sys.argv[4])
    motion, level = [], []
    for path in sys.argv[5:]:
        ref_px = np.load(path)
        ref = normalise(ref_px, canonical, stable)
        ok = np.all(np.isfinite(ref), axis=(1, 2))
        clip_mean = ref[ok].mean(axis=0)
        motion.append((ref_px, ref - clip_mean + mean_face))   # NaN frames stay NaN
        level.append((ref_px, np.broadcast_to(clip_mean, ref.shape).copy()))
    print(json.dumps({
        "motion": pooled(motion, canonical, stable, max_lag),
        "level": pooled(level, canonical, stable, max_lag),
    }))


if __name__ == "__main__":
    main()
