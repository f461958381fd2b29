"""Independent PCA reference for tests/test-pca.c: numpy SVD of the centred data.

Usage: pca_reference.py X.npy OUT_PREFIX
Writes OUT_PREFIX_components.npy (rows = components, float64, sign not fixed),
OUT_PREFIX_variance.npy (sample variance per component, ddof=1) and
OUT_PREFIX_mean.npy. Prints the explained-variance ratio of the first 3.
"""
import sys
import numpy as np

x = np.load(sys.argv[1]).astype(np.float64)
x = x[np.all(np.isfinite(x), axis=1)]
mean = x.mean(axis=0)
_, s, vt = np.linalg.svd(x - mean, full_matrices=False)
var = s ** 2 / (x.shape[0] - 1)
np.save(sys.argv[2] + "_components.npy", vt)
np.save(sys.argv[2] + "_variance.npy", var)
np.save(sys.argv[2] + "_mean.npy", mean)
print(" ".join("%.9f" % v for v in np.cumsum(var / var.sum())[:3]))
