"""Independent numpy reference of the audio-energy baseline (engine/wkp-evaluate.h).

Usage: metrics_energy.py CANONICAL.npy STABLE.npy RATE [train|eval] LANDMARKS.npy AUDIO.npy FPS_NUM FPS_DEN ...

Groups of four after the role word: a clip's pixel landmarks [T, 68, 2], its
mono float32 audio at RATE Hz, and its frame rate. Energy of frame i is
10*log10(mean(x^2) + 1e-10) dB over samples [floor(i*den*rate/num),
floor((i+1)*den*rate/num)) (clipped to the audio; empty spans -> -100 dB,
floored at -100). A least-squares line energy -> aperture is fitted on the
train clips' frames with a face, then applied to the eval clips. Prints JSON:
slope, intercept, pooled aperture r and RMSE over the eval clips.
"""
import json
import sys

import numpy as np

from metrics_reference import aperture, normalise


def energy(audio, n_frames, rate, num, den):
    out = np.full(n_frames, -100.0)
    for i in range(n_frames):
        s0 = (i * den * rate) // num
        s1 = min(((i + 1) * den * rate) // num, len(audio))
        if s1 > s0:
            seg = audio[s0:s1].astype(np.float64)
            out[i] = max(10 * np.log10(np.mean(seg * seg) + 1e-10), -100.0)
    return out


def main():
    canonical = np.load(sys.argv[1]).astype(np.float64)
    stable = np.load(sys.argv[2]).astype(np.int64)
    rate = int(sys.argv[3])
    args = sys.argv[4:]
    groups = {"train": [], "eval": []}
    i = 0
    while i < len(args):
        role = args[i]
        groups[role].append((args[i + 1], args[i + 2], int(args[i + 3]), int(args[i + 4])))
        i += 5

    def clip_arrays(group):
        for lm, au, num, den in group:
            faces = normalise(np.load(lm), canonical, stable)
            ap = aperture(faces)
            yield ap, energy(np.load(au), len(ap), rate, num, den)

    xs, ys = [], []
    for ap, en in clip_arrays(groups["train"]):
        ok = np.isfinite(ap)
        xs.append(en[ok])
        ys.append(ap[ok])
    x, y = np.concatenate(xs), np.concatenate(ys)
    slope, intercept = np.polyfit(x, y, 1)
    ref, pred = [], []
    for ap, en in clip_arrays(groups["eval"]):
        ok = np.isfinite(ap)
        ref.append(ap[ok])
        pred.append(slope * en[ok] + intercept)
    ref, pred = np.concatenate(ref), np.concatenate(pred)
    print(json.dumps({
        "slope": float(slope),
        "intercept": float(intercept),
        "train_frames": int(len(x)),
        "aperture_r": float(np.corrcoef(ref, pred)[0, 1]),
        "aperture_rmse": float(np.sqrt(np.mean((ref - pred) ** 2))),
    }))


if __name__ == "__main__":
    main()
