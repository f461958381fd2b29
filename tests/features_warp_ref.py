"""Independent numpy/scipy reference for wkp_features_warp_matrix().

usage: features_warp_ref.py CONFIG.json ALPHA OUT.npy

From the definition in engine/wkp-features.h: band m of the warped log-mel
envelope is the original envelope linearly interpolated (np.interp, edge
bands repeated) at the band position of (centre of m) / alpha, band centres
being the HTK-mel filter peaks; for MFCC the warp is D W D^T with D the
first n_mfcc rows of scipy's orthonormal DCT-II. Writes float64 [Q, Q].
"""
import json
import sys

import numpy as np
import scipy.fft


def main():
    cfg = json.load(open(sys.argv[1]))
    alpha = float(sys.argv[2])
    n_mels, fmin, fmax = cfg["n_mels"], cfg["fmin"], cfg["fmax"]
    hz2mel = lambda f: 2595.0 * np.log10(1.0 + f / 700.0)
    mel2hz = lambda m: 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    edges_mel = np.linspace(hz2mel(fmin), hz2mel(fmax), n_mels + 2)
    centres_hz = mel2hz(edges_mel[1:-1])
    band = np.arange(n_mels, dtype=float)
    # position (in band units) of each warped read-out frequency
    pos = np.interp(hz2mel(centres_hz / alpha), edges_mel[1:-1], band)
    # W @ envelope == np.interp(pos, band, envelope) for every envelope
    eye = np.eye(n_mels)
    W = np.stack([np.interp(pos, band, eye[:, k]) for k in range(n_mels)], axis=1)
    if cfg["kind"] == "mfcc":
        D = scipy.fft.dct(np.eye(n_mels), type=2, norm="ortho", axis=0)[: cfg["n_mfcc"]]
        M = D @ W @ D.T
    else:
        M = W
    np.save(sys.argv[3], M.astype(np.float64))


main()
