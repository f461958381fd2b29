"""Reference checks for `wav2kp frames` (tests/test-cli.c, /cli/frames).

Pictures are read with the FFmpeg command line (PNG and video both decoded to
rgb24), so nothing here shares code with the engine. Prints one JSON object of
measurements; the C test holds the tolerances.

full VIDEO DIR K...        frame K of VIDEO as FFmpeg decodes it (select=eq(n,K))
                           against DIR/%06d.png (K+1): mean and max |difference|
holes TRACK.npy OUT.npy K...
                           a copy of TRACK (with .status.npy and .json) without a face at frames K
crop VIDEO DIR TRACK.npy NORMALIZED.npy K...
                           DIR holds --crop output made from TRACK; NORMALIZED is
                           TRACK in the canonical face frame (landmarks --normalize).
                           Per frame with a matrix M: M applied to the landmarks
                           against canonical_to_crop applied to (a) the canonical
                           mean face's eye corners and nose, (b) NORMALIZED; the
                           eyes' height difference; for frames K, the crop against
                           numpy's bilinear sample of FFmpeg's frame at M^-1(u, v)
                           (pixel centres at integers, black outside)
"""
import json
import os
import subprocess
import sys

import numpy as np

# wkp-face.c: the canonical mean face at the stable points (nose 27..35, eye corners 36, 39, 42, 45)
STABLE = [27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 39, 42, 45]
CANONICAL_STABLE = np.array([
    [0.000002, -0.017515], [-0.000005, 0.122607], [-0.000007, 0.261492], [-0.000015, 0.404433],
    [-0.166895, 0.501089], [-0.086747, 0.530602], [-0.000012, 0.555815], [0.086728, 0.530606],
    [0.166882, 0.501097], [-0.500000, 0.000000], [-0.210806, 0.020956], [0.210812, 0.020950],
    [0.500000, 0.000000]])


def decode(path, k=None):
    args = ["ffmpeg", "-v", "error", "-i", path]
    if k is not None:
        args += ["-vf", "select=eq(n\\,%d)" % k, "-vframes", "1"]
    args += ["-pix_fmt", "rgb24", "-f", "rawvideo", "-"]
    raw = subprocess.run(args, capture_output=True, check=True).stdout
    size = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                           "stream=width,height", "-of", "csv=p=0", path],
                          capture_output=True, text=True, check=True).stdout.split()[0].split(",")
    w, h = int(size[0]), int(size[1])
    return np.frombuffer(raw, dtype=np.uint8).reshape(h, w, 3).astype(np.float64)


def png(d, k):
    return os.path.join(d, "%06d.png" % (k + 1))


def bilinear(src, inv, size):
    h, w, _ = src.shape
    v, u = np.mgrid[0:size, 0:size].astype(np.float64)
    x = inv[0, 0] * u + inv[0, 1] * v + inv[0, 2]
    y = inv[1, 0] * u + inv[1, 1] * v + inv[1, 2]
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = x - x0, y - y0
    out = np.zeros((size, size, 3))
    for dx, dy, wt in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        xs, ys = x0 + dx, y0 + dy
        inside = (xs >= 0) & (ys >= 0) & (xs < w) & (ys < h)
        xi = np.clip(xs, 0, w - 1).astype(int)
        yi = np.clip(ys, 0, h - 1).astype(int)
        out += np.where(inside, wt, 0)[..., None] * src[yi, xi]
    return np.clip(np.floor(out + 0.5), 0, 255)


def affine(m):
    return np.vstack([np.array(m, dtype=np.float64), [0, 0, 1]])


def apply(m, pts):
    return pts @ m[:2, :2].T + m[:2, 2]


if sys.argv[1] == "holes":
    # holes TRACK.npy OUT.npy K...: a copy of the track (points, status, sidecar) without a face at frames K
    src, dst = sys.argv[2:4]
    pts, st = np.load(src), np.load(src[:-4] + ".status.npy")
    for k in sys.argv[4:]:
        pts[int(k)] = np.nan
        st[int(k)] = 0
    np.save(dst, pts)
    np.save(dst[:-4] + ".status.npy", st)
    with open(src[:-4] + ".json") as f, open(dst[:-4] + ".json", "w") as g:
        g.write(f.read())
    print("{}")
    sys.exit(0)

mode, video, outdir = sys.argv[1:4]
meta = json.load(open(os.path.join(outdir, "frames.json")))
result = {}
if mode == "full":
    ks = [int(k) for k in sys.argv[4:]]
    means, maxes = [], []
    for k in ks:
        ref, ours = decode(video, k), decode(png(outdir, k))
        assert ref.shape == ours.shape, (ref.shape, ours.shape)
        d = np.abs(ref - ours)
        means.append(float(d.mean()))
        maxes.append(float(d.max()))
    result = {"mean_abs": max(means), "max_abs": max(maxes), "per_frame_mean": means}
elif mode == "crop":
    track = np.load(sys.argv[4]).astype(np.float64)
    normalized = np.load(sys.argv[5]).astype(np.float64)
    ks = [int(k) for k in sys.argv[6:]]
    size = meta["crop"]["size"]
    c2c = affine(meta["crop"]["canonical_to_crop"])
    target = apply(c2c, CANONICAL_STABLE)
    stable_sum, stable_n = 0.0, 0
    stable_err, exact_err, eye_dy, missing_png, extra_png, with_face = 0.0, 0.0, 0.0, 0, 0, 0
    assert len(meta["affine"]) == meta["frames"] == len(track), (len(meta["affine"]), meta["frames"], len(track))
    for i, m in enumerate(meta["affine"]):
        exists = os.path.exists(png(outdir, i))
        if m is None:
            extra_png += exists
            assert (i + 1) in meta["no_face"], i
            continue
        with_face += 1
        missing_png += not exists
        mm = affine(m)
        mapped = apply(mm, track[i])
        stable_err = max(stable_err, float(np.abs(mapped[STABLE] - target).max()))
        stable_sum += float(np.linalg.norm(mapped[STABLE] - target, axis=1).sum())
        stable_n += len(STABLE)
        exact_err = max(exact_err, float(np.abs(mapped - apply(c2c, normalized[i])).max()))
        eye_dy = max(eye_dy, float(abs(mapped[36, 1] - mapped[45, 1])))
    sample_max, sample_mean = 0.0, 0.0
    for k in ks:
        m = meta["affine"][k]
        assert m is not None, k
        ref = bilinear(decode(video, k), np.linalg.inv(affine(m)), size)
        ours = decode(png(outdir, k))
        d = np.abs(ref - ours)
        sample_max = max(sample_max, float(d.max()))
        sample_mean = max(sample_mean, float(d.mean()))
    result = {"with_face": with_face, "missing_png": missing_png, "extra_png": extra_png,
              "stable_max_px": stable_err, "stable_mean_px": stable_sum / max(stable_n, 1), "exact_max_px": exact_err, "eye_dy_px": eye_dy,
              "sample_max_abs": sample_max, "sample_mean_abs": sample_mean,
              "pngs": len([f for f in os.listdir(outdir) if f.endswith(".png")])}
print(json.dumps(result))
