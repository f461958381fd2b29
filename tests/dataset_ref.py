"""Independent numpy references for the dataset module's numerics.

  resample IN.npy N_OUT FROM_NUM FROM_DEN TO_NUM TO_DEN OUT.npy
      linear interpolation (np.interp) at output frame centres, clamped ends
  envelope AUDIO.npy RATE NUM DEN N_FRAMES OUT.npy
      RMS over each frame's sample range [floor(i*den*rate/num), floor((i+1)*den*rate/num))
  bandenv AUDIO.npy RATE NUM DEN N_FRAMES LO HI OUT.npy
      sqrt(sum |rfft(x * hanning(len), nfft)|^2 over lo <= f < hi / len), nfft = next power of 2 >= len
  xcorr ENV.npy AP.npy MAX_LAG OUT.npy
      Pearson r(k) = corr(env[t], ap[t-k]) over frames where both are finite
"""
import sys
from fractions import Fraction

import numpy as np


def resample(args):
    x = np.load(args[0]).astype(np.float64)
    n_out = int(args[1])
    f_from = Fraction(int(args[2]), int(args[3]))
    f_to = Fraction(int(args[4]), int(args[5]))
    n_in = x.shape[0]
    flat = x.reshape(n_in, -1)
    t_in = np.array([float((i + Fraction(1, 2)) / f_from) for i in range(n_in)])
    t_out = np.array([float((j + Fraction(1, 2)) / f_to) for j in range(n_out)])
    out = np.stack([np.interp(t_out, t_in, flat[:, k]) for k in range(flat.shape[1])], axis=1)
    np.save(args[6], out.reshape((n_out,) + x.shape[1:]))


def envelope(args):
    a = np.load(args[0]).astype(np.float64)
    rate, num, den, n = int(args[1]), int(args[2]), int(args[3]), int(args[4])
    out = np.zeros(n)
    for i in range(n):
        s0 = i * den * rate // num
        s1 = min((i + 1) * den * rate // num, a.size)
        if s0 < a.size and s1 > s0:
            out[i] = np.sqrt(np.mean(a[s0:s1] ** 2))
    np.save(args[5], out)


def bandenv(args):
    a = np.load(args[0]).astype(np.float64)
    rate, num, den, n = int(args[1]), int(args[2]), int(args[3]), int(args[4])
    lo, hi = float(args[5]), float(args[6])
    out = np.zeros(n)
    for i in range(n):
        s0 = i * den * rate // num
        s1 = min((i + 1) * den * rate // num, a.size)
        if s0 >= a.size or s1 <= s0:
            continue
        x = a[s0:s1]
        nfft = 16
        while nfft < x.size:
            nfft *= 2
        X = np.fft.rfft(x * np.hanning(x.size), nfft)
        f = np.arange(X.size) * rate / nfft
        band = (f >= lo) & (f < hi)
        out[i] = np.sqrt(np.sum(np.abs(X[band]) ** 2) / x.size)
    np.save(args[7], out)


def xcorr(args):
    env = np.load(args[0]).astype(np.float64)
    ap = np.load(args[1]).astype(np.float64)
    L = int(args[2])
    n = env.size
    r = np.full(2 * L + 1, np.nan)
    for k in range(-L, L + 1):
        t = np.arange(max(0, k), min(n, n + k))
        a, b = env[t], ap[t - k]
        ok = np.isfinite(a) & np.isfinite(b)
        if ok.sum() >= 10:
            r[k + L] = np.corrcoef(a[ok], b[ok])[0, 1]
    np.save(args[3], r)


{"resample": resample, "envelope": envelope, "bandenv": bandenv, "xcorr": xcorr}[sys.argv[1]](sys.argv[2:])
print("ok")
