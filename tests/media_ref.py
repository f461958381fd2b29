"""Reference checks for decoded audio.

wav-exact SRC OURS.npy   SRC is a 16 kHz mono PCM WAV: ours must equal int16/32768
resampled SRC OURS.npy   FFmpeg CLI decodes SRC at its native rate/channels; the
                         channel average is resampled to 16 kHz with scipy's
                         polyphase filter; ours must match it with SNR > 30 dB
"""
import subprocess
import sys
from fractions import Fraction

import numpy as np
import scipy.io.wavfile
import scipy.signal

mode, src, ours_path = sys.argv[1:4]
ours = np.load(ours_path).astype(np.float64)

if mode == "wav-exact":
    rate, data = scipy.io.wavfile.read(src)
    assert rate == 16000 and data.dtype == np.int16 and data.ndim == 1, (rate, data.dtype, data.shape)
    ref = data.astype(np.float64) / 32768.0
    assert len(ref) == len(ours), (len(ref), len(ours))
    err = np.abs(ref - ours).max()
    assert err < 1e-6, err
    print("ok")
elif mode == "resampled":
    info = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
                           "stream=sample_rate,channels", "-of", "csv=p=0", src],
                          capture_output=True, text=True, check=True).stdout.strip().split(",")
    rate, ch = int(info[0]), int(info[1])
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", src, "-map", "0:a:0", "-f", "f32le", "-"],
                         capture_output=True, check=True).stdout
    x = np.frombuffer(raw, dtype=np.float32).reshape(-1, ch).astype(np.float64).mean(axis=1)
    fr = Fraction(16000, rate)
    ref = scipy.signal.resample_poly(x, fr.numerator, fr.denominator)
    n = min(len(ref), len(ours))
    assert abs(len(ref) - len(ours)) <= 0.01 * 16000 + 2048, (len(ref), len(ours))
    # skip the edges, where the two filters' transients differ
    a, b = ref[400:n - 400], ours[400:n - 400]
    snr = 10 * np.log10(np.sum(a * a) / np.sum((a - b) ** 2))
    assert snr > 30, snr
    print(f"ok snr={snr:.1f} dB samples ours={len(ours)} ref={len(ref)}")
else:
    sys.exit("unknown mode")
