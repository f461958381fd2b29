"""Independent numpy reference of the evaluation metrics (engine/wkp-metrics.h).

Usage: metrics_reference.py CANONICAL.npy STABLE.npy MAX_LAG REF0.npy PRED0.npy [REF1.npy PRED1.npy ...]

Each REF/PRED is float32 [T, 68, 2] in pixels (NaN = missing). Every face is
normalised by a least-squares similarity (complex-number Procrustes, no
reflection) of its stable points onto the canonical face, then the metrics are
pooled over all clips (frame-weighted). Prints one JSON object.
"""
import json
import sys

import numpy as np

MOUTH = np.arange(48, 68)


def normalise(track, canonical, stable):
    out = np.full(track.shape, np.nan)
    dst = canonical[stable, 0] + 1j * canonical[stable, 1]
    dst_c = dst - dst.mean()
    for t, face in enumerate(track.astype(np.float64)):
        if not np.all(np.isfinite(face)):
            continue
        z = face[:, 0] + 1j * face[:, 1]
        src = z[stable]
        src_c = src - src.mean()
        c = np.vdot(src_c, dst_c) / np.vdot(src_c, src_c).real
        w = c * (z - src.mean()) + dst.mean()
        out[t, :, 0] = w.real
        out[t, :, 1] = w.imag
    return out


def aperture(faces):
    iod = np.linalg.norm(faces[:, 36] - faces[:, 45], axis=1)
    pairs = [(61, 67), (62, 66), (63, 65)]
    gap = np.mean([np.linalg.norm(faces[:, a] - faces[:, b], axis=1) for a, b in pairs], axis=0)
    return gap / iod


def pearson(x, y):
    if len(x) < 2 or np.std(x) == 0 or np.std(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def pooled(pairs, canonical, stable, max_lag):
    """Metrics pooled over (ref, pred) pixel tracks, as a dict."""
    lmd_m, lmd_f, lve, lvd_m, lvd_f, sq = [], [], [], [], [], []
    lag_x = {k: [] for k in range(-max_lag, max_lag + 1)}
    lag_y = {k: [] for k in range(-max_lag, max_lag + 1)}
    n_frames = n_ref_missing = n_pred_missing = 0
    for ref_px, pred_px in pairs:
        ref = normalise(ref_px, canonical, stable)
        pred = normalise(pred_px, canonical, stable)
        T = ref.shape[0]
        n_frames += T
        ref_ok = np.all(np.isfinite(ref), axis=(1, 2))
        pred_ok = np.all(np.isfinite(pred), axis=(1, 2))
        n_ref_missing += int(np.sum(~ref_ok))
        n_pred_missing += int(np.sum(ref_ok & ~pred_ok))
        both = ref_ok & pred_ok
        iod = np.linalg.norm(ref[:, 36] - ref[:, 45], axis=1)
        dist = np.linalg.norm(ref - pred, axis=2) / iod[:, None]
        lmd_m += list(dist[both][:, MOUTH].mean(axis=1))
        lmd_f += list(dist[both].mean(axis=1))
        lve += list(dist[both][:, MOUTH].max(axis=1))
        ap_r, ap_p = aperture(ref), aperture(pred)
        sq += list((ap_p[both] - ap_r[both]) ** 2)
        vel = np.linalg.norm(np.diff(ref, axis=0) - np.diff(pred, axis=0), axis=2) / iod[1:, None]
        pair = both[1:] & both[:-1]
        lvd_m += list(vel[pair][:, MOUTH].mean(axis=1))
        lvd_f += list(vel[pair].mean(axis=1))
        for k in lag_x:
            for t in range(max(0, -k), min(T, T - k)):
                if ref_ok[t] and pred_ok[t + k]:
                    lag_x[k].append(ap_r[t])
                    lag_y[k].append(ap_p[t + k])
    rs = {k: pearson(np.array(lag_x[k]), np.array(lag_y[k])) for k in lag_x}
    best = max(sorted(rs, key=lambda k: (abs(k), k)), key=lambda k: rs[k])
    return {
        "n_frames": n_frames,
        "n_compared": len(lmd_m),
        "n_ref_missing": n_ref_missing,
        "n_pred_missing": n_pred_missing,
        "n_velocity": len(lvd_m),
        "lmd_mouth": float(np.mean(lmd_m)),
        "lmd_face": float(np.mean(lmd_f)),
        "lve": float(np.mean(lve)),
        "lvd_mouth": float(np.mean(lvd_m)),
        "lvd_face": float(np.mean(lvd_f)),
        "aperture_r": rs[0],
        "aperture_rmse": float(np.sqrt(np.mean(sq))),
        "aperture_motion": float(np.std(lag_y[0]) / np.std(lag_x[0])),
        "best_lag": best,
        "best_lag_r": rs[best],
    }


def main():
    canonical = np.load(sys.argv[1]).astype(np.float64)
    stable = np.load(sys.argv[2]).astype(np.int64)
    max_lag = int(sys.argv[3])
    files = sys.argv[4:]
    pairs = [(np.load(files[i]), np.load(files[i + 1])) for i in range(0, len(files), 2)]
    print(json.dumps(pooled(pairs, canonical, stable, max_lag)))


if __name__ == "__main__":
    main()
