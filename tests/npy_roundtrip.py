"""Reads an .npy, prints its shape and dtype; with a second path, writes a
float64 copy times two there."""
import sys
import numpy as np

a = np.load(sys.argv[1])
print(a.shape, a.dtype)
if len(sys.argv) > 2:
    np.save(sys.argv[2], (a.astype(np.float64) * 2.0))
