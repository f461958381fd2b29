"""Reads an .npy written by wav2kp, writes a float64 copy times two."""
import sys
import numpy as np

a = np.load(sys.argv[1])
print(a.shape, a.dtype)
np.save(sys.argv[2], (a.astype(np.float64) * 2.0))
