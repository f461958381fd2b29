# How often does `check`'s offset confidence call a wrong audio pairing confident?
# Usage: /usr/bin/python3 tools/offset_null.py DATASET   (a `wav2kp prepare` folder; numpy)
# old: z of the peak (max over 21 lags) against single-lag circular-shift nulls, as
# wkp_av_offset_estimate computes it; new: against the max over the same 21 lags of each shift.
import json, os, numpy as np
rng = np.random.default_rng(1)
import sys
D = sys.argv[1] if len(sys.argv) > 1 else 'DSL'
ds = json.load(open(D + '/dataset.json'))
def fps_of(s):
    a, b = s.split('/'); return int(a) / int(b)
def band_env(audio, fps, T):
    out = np.full(T, np.nan)
    for i in range(T):
        s0 = int(np.floor(i * 16000 / fps + 1e-9)); s1 = min(int(np.floor((i + 1) * 16000 / fps + 1e-9)), len(audio))
        L = s1 - s0
        if s0 >= len(audio) or L <= 0: break
        n = 16
        while n < L: n *= 2
        x = audio[s0:s1] * (np.hanning(L) if L > 1 else 1)
        X = np.fft.rfft(x, n)
        f = np.arange(len(X)) * 16000 / n
        m = (f >= 300) & (f < 3000)
        out[i] = np.sqrt((np.abs(X[m]) ** 2).sum() / L)
    return np.log10(out + 1e-4)
def aperture(lm):
    p = lm.reshape(-1, 68, 2)
    d = lambda a, b: np.linalg.norm(p[:, a] - p[:, b], axis=1)
    return (d(61, 67) + d(62, 66) + d(63, 65)) / 3 / d(36, 45)
def r_at(env, ap, k):
    n = len(env)
    if k >= 0: x, y = env[k:], ap[:n - k]
    else: x, y = env[:n + k], ap[-k:]
    m = np.isfinite(x) & np.isfinite(y)
    if m.sum() < 3: return np.nan
    x, y = x[m], y[m]
    if x.std() < 1e-12 or y.std() < 1e-12: return np.nan
    return np.corrcoef(x, y)[0, 1]
def stats(env, ap, L=10):
    n = len(env)
    rs = np.array([r_at(env, ap, k) for k in range(-L, L + 1)])
    if np.all(np.isnan(rs)): return None
    best = int(np.nanargmax(rs)); peak = rs[best]
    lo, hi = 2 * L, n - 2 * L
    step = max(1, (hi - lo) // 40)
    single, maxed = [], []
    for sh in range(lo, hi, step):
        if len(single) >= 40: break
        s = np.roll(env, -sh)
        r0 = r_at(s, ap, 0)
        if not np.isfinite(r0): continue
        single.append(r0)
        maxed.append(np.nanmax([r_at(s, ap, k) for k in range(-L, L + 1)]))
    if len(single) < 8: return None
    def conf(null):
        mu, sd = np.mean(null), max(np.std(null), 0.02)
        z = (peak - mu) / sd
        return z, min(max((z - 2) / 3, 0), 1)
    zo, co = conf(single); zn, cn = conf(maxed)
    return best - L, peak, zo, co, zn, cn
clips = [c for c in ds['clips'] if c['status'] == 'ok' and c.get('face_rate', 0) > 0.9]
# all non-GRID-s1 clips plus 40 GRID s1 clips
sel = [c for c in clips if c['speaker'] != 'grid_s1'] + [c for c in clips if c['speaker'] == 'grid_s1'][:40]
data = {}
for c in sel:
    d = os.path.join(D, 'clips', c['id'])
    a = np.load(d + '/audio.npy').astype(np.float64).ravel()
    lm = np.load(d + '/landmarks.npy').astype(np.float64)
    T = lm.shape[0]
    data[c['id']] = (band_env(a, fps_of(c['fps']), T), aperture(lm), c['speaker'], c.get('offset_frames'), c.get('offset_confidence'))
ids = list(data)
true_rows, wrong_rows = [], []
for i in ids:
    env, ap, spk, off_c, conf_c = data[i]
    s = stats(env, ap)
    if s: true_rows.append((i, spk, off_c, conf_c) + s)
    # a wrong pairing: another clip's sound, cut or padded to this clip's length
    j = ids[rng.integers(len(ids))]
    while j == i: j = ids[rng.integers(len(ids))]
    e2 = data[j][0]
    e = np.full(len(env), np.nan); m = min(len(e2), len(env)); e[:m] = e2[:m]
    s = stats(e, ap)
    if s: wrong_rows.append((i, j) + s)
T = np.array([r[4:] for r in true_rows], float); W = np.array([r[2:] for r in wrong_rows], float)
print("mean |stored confidence - recomputed old confidence| (the C code reproduced):", np.nanmean(np.abs(np.array([r[3] for r in true_rows], float) - T[:, 3])))
for name, X in (('true pairings', T), ('wrong pairings', W)):
    print(f'{name}: n={len(X)}  old conf>=0.2: {np.mean(X[:,3] >= 0.2):.2f}  conf=1: {np.mean(X[:,3] >= 1):.2f}   new conf>=0.2: {np.mean(X[:,5] >= 0.2):.2f}  conf=1: {np.mean(X[:,5] >= 1):.2f}   median z old {np.median(X[:,2]):.1f} new {np.median(X[:,4]):.1f}')
    big = np.abs(X[:, 0]) >= 2
    print(f'   |offset|>=2: {big.mean():.2f}; of those old conf>=0.2 {np.mean(X[big,3] >= 0.2):.2f}, new {np.mean(X[big,5] >= 0.2):.2f}')

