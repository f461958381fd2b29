"""Writes PATH as an uncompressed .npz (numpy's default) holding
a = arange(100, dtype=float32)."""
import sys
import numpy as np

np.savez(sys.argv[1], a=np.arange(100, dtype=np.float32))
