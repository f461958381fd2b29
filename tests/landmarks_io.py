"""Independent numpy side of the landmark file tests.

  write-fa OUT3.npy OUT2.npy        face-alignment style arrays (float64 [T,68,3], float32 [T,68,2])
  write-openface OUT.csv            OpenFace 2.0 style CSV (spaces after commas, extra columns,
                                    frames from 1, a second face, one failed and one skipped frame) + OUT.csv.npy truth
  read-ours OUT.npy                 prints shapes/dtypes of OUT.npy and OUT.status.npy, sum of finite x
  csv-to-npy IN.csv OUT.npy         our exported CSV read with the csv module -> float32 [T,68,2]
"""
import csv
import sys
import numpy as np

rng = np.random.default_rng(7)
cmd = sys.argv[1]

if cmd == "write-fa":
    a = rng.uniform(10, 500, size=(6, 68, 3))
    a[2] = np.nan                       # a frame without a face
    np.save(sys.argv[2], a)              # float64, z column
    b = rng.uniform(10, 500, size=(4, 68, 2)).astype(np.float32)
    b[1, 5, 0] = np.nan                 # a partial face: the frame is missing
    np.save(sys.argv[3], b)
    np.save(sys.argv[2] + ".truth.npy", a[:, :, :2].astype(np.float32))
    np.save(sys.argv[3] + ".truth.npy", b)
elif cmd == "write-openface":
    n = 7
    pts = rng.uniform(10, 500, size=(n, 68, 2)).astype(np.float32)
    names = ["frame", "face_id", "timestamp", "confidence", "success", "gaze_0_x"]
    names += ["x_%d" % i for i in range(68)] + ["y_%d" % i for i in range(68)]
    names += ["X_%d" % i for i in range(68)] + ["AU01_r"]
    rows = []
    for f in range(n):
        if f == 5:   # a frame the file skips (no row): missing, like a failed one
            continue
        success = 0 if f == 3 else 1
        row = [f + 1, 0, f / 30.0, 0.98, success, 0.1]
        row += ["%.3f" % v for v in pts[f, :, 0]] + ["%.3f" % v for v in pts[f, :, 1]]
        row += ["%.3f" % v for v in rng.uniform(size=68)] + [1.5]
        rows.append(row)
        if f == 1:   # a second person in frame 2: ignored
            other = list(row)
            other[1] = 1
            other[6:6 + 136] = ["1.0"] * 136
            rows.append(other)
    with open(sys.argv[2], "w") as fh:
        fh.write(", ".join(names) + "\n")
        for row in rows:
            fh.write(", ".join(str(v) for v in row) + "\n")
    truth = np.round(pts.astype(np.float64), 3).astype(np.float32)
    truth[3] = np.nan
    truth[5] = np.nan
    np.save(sys.argv[2] + ".npy", truth)
elif cmd == "read-ours":
    p = np.load(sys.argv[2])
    s = np.load(sys.argv[2][:-4] + ".status.npy")
    print(p.shape, p.dtype, s.shape, s.dtype, int(np.isnan(p).all(axis=(1, 2)).sum()),
          "%.3f" % float(np.nansum(p[:, :, 0].astype(np.float64))))
elif cmd == "csv-to-npy":
    with open(sys.argv[2], newline="") as fh:
        r = list(csv.DictReader(fh))
    out = np.full((len(r), 68, 2), np.nan, dtype=np.float32)
    for f, row in enumerate(r):
        for i in range(68):
            x, y = row["x_%d" % i], row["y_%d" % i]
            if x != "":
                out[f, i] = (float(x), float(y))
    np.save(sys.argv[3], out)
