"""Reference similarity fit (Umeyama 1991, SVD, reflection excluded).

Reads SRC.npy and DST.npy (float32 [N, 2]), prints a b tx ty of the least-squares
similarity x' = a*x - b*y + tx, y' = b*x + a*y + ty mapping SRC onto DST."""
import sys
import numpy as np

src = np.load(sys.argv[1]).astype(np.float64)
dst = np.load(sys.argv[2]).astype(np.float64)
ms, md = src.mean(0), dst.mean(0)
p, q = src - ms, dst - md
cov = q.T @ p / len(src)
u, d, vt = np.linalg.svd(cov)
s = np.eye(2)
if np.linalg.det(u) * np.linalg.det(vt) < 0:
    s[1, 1] = -1
r = u @ s @ vt
scale = np.trace(np.diag(d) @ s) / (p ** 2).sum(1).mean()
t = md - scale * r @ ms
print("%.12g %.12g %.12g %.12g" % (scale * r[0, 0], scale * r[1, 0], t[0], t[1]))
