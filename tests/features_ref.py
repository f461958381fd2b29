"""Independent numpy/scipy reference for wav2kp's frame-aligned features.

usage: features_ref.py AUDIO.npy CONFIG.json FPS_NUM FPS_DEN N_FRAMES OUT.npy

Written from the definition in engine/wkp-features.h, vectorised, in float64:
pre-emphasis, sub-frame grid floor(k*den*rate/(num*S)), periodic Hann window
(scipy.signal.get_window) centred on each sub-frame, numpy rfft power
spectrum, HTK-mel triangular filters (unit peak), log with floor 1e-10,
scipy.fft.dct type II orthonormal, regression deltas with clamped edges.
"""
import json
import sys

import numpy as np
import scipy.fft
import scipy.signal


def mel_filterbank(rate, n_fft, n_mels, fmin, fmax):
    hz2mel = lambda f: 2595.0 * np.log10(1.0 + f / 700.0)
    mel2hz = lambda m: 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    edges = mel2hz(np.linspace(hz2mel(fmin), hz2mel(fmax), n_mels + 2))
    freqs = np.arange(n_fft // 2 + 1) * rate / n_fft
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    up = (freqs[None, :] - lo) / (mid - lo)
    down = (hi - freqs[None, :]) / (hi - mid)
    w = np.where(freqs[None, :] <= mid, up, down)
    inside = (freqs[None, :] > lo) & (freqs[None, :] < hi)
    return np.where(inside, np.maximum(w, 0.0), 0.0)


def deltas(x, width):
    n = x.shape[0]
    idx = np.arange(n)
    denom = 2.0 * sum(d * d for d in range(1, width + 1))
    out = np.zeros_like(x)
    for d in range(1, width + 1):
        out += d * (x[np.minimum(idx + d, n - 1)] - x[np.maximum(idx - d, 0)])
    return out / denom


def features(audio, cfg, num, den, n_frames):
    rate, S = cfg["sample_rate"], cfg["subframes"]
    win = int(round(cfg["window_ms"] * rate / 1000.0))
    n_fft = cfg["n_fft"]
    x = audio.astype(np.float64)
    if len(x):
        x = np.concatenate([x[:1], x[1:] - cfg["preemphasis"] * x[:-1]])
    n_sub = n_frames * S
    k = np.arange(n_sub + 1, dtype=np.int64)
    starts = (k * den * rate) // (num * S)
    centres = (starts[:-1] + starts[1:]) // 2
    first = centres - win // 2
    # zero-pad so every window is inside
    pad_l = int(max(0, -first.min())) if n_sub else 0
    pad_r = int(max(0, (first.max() + win) - len(x))) if n_sub else 0
    xp = np.concatenate([np.zeros(pad_l), x, np.zeros(pad_r)])
    frames = np.stack([xp[f + pad_l:f + pad_l + win] for f in first]) if n_sub else np.zeros((0, win))
    window = scipy.signal.get_window("hann", win)
    spec = np.fft.rfft(frames * window, n=n_fft, axis=1)
    power = spec.real ** 2 + spec.imag ** 2
    fb = mel_filterbank(rate, n_fft, cfg["n_mels"], cfg["fmin"], cfg["fmax"])
    logmel = np.log(np.maximum(power @ fb.T, 1e-10))
    if cfg["kind"] == "mfcc":
        coeffs = scipy.fft.dct(logmel, type=2, norm="ortho", axis=1)[:, :cfg["n_mfcc"]]
    else:
        coeffs = logmel
    parts = [coeffs]
    if cfg["deltas"] >= 1:
        parts.append(deltas(coeffs, cfg["delta_width"]))
    if cfg["deltas"] >= 2:
        parts.append(deltas(parts[1], cfg["delta_width"]))
    seq = np.concatenate(parts, axis=1)
    return seq.reshape(n_frames, -1)


if __name__ == "__main__":
    audio = np.load(sys.argv[1])
    cfg = json.load(open(sys.argv[2]))
    out = features(audio, cfg, int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    np.save(sys.argv[6], out.astype(np.float64))
    print(out.shape[0], out.shape[1])
