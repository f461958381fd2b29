"""PyTorch CPU baseline for `wav2kp bench lstm` (run by the benchmark itself).

Usage: bench_lstm_torch.py DIR LAYERS HIDDEN BIDIR THREADS REPS
DIR holds x.npy [T, input] and the weights, one .npy per state-dict tensor
(lstm.weight_ih_l0.npy, ..., head.weight.npy, head.bias.npy), written by the
benchmark. Builds torch.nn.LSTM + nn.Linear with exactly those weights, runs
the same input (batch 1) REPS times after one warm-up run under
torch.inference_mode() with torch.set_num_threads(THREADS), writes the output
to DIR/y_torch.npy and prints one line: "median_wall_s median_cpu_s" (CPU time
of the process, all threads).
"""
import os
import sys
import time

import numpy as np
import torch

d = sys.argv[1]
layers, hidden, bidir, threads, reps = (int(a) for a in sys.argv[2:7])
torch.set_num_threads(threads)
x = np.load(os.path.join(d, "x.npy"))
head_w = np.load(os.path.join(d, "head.weight.npy"))
lstm = torch.nn.LSTM(x.shape[1], hidden, num_layers=layers, bidirectional=bool(bidir), batch_first=True)
head = torch.nn.Linear(hidden * (2 if bidir else 1), head_w.shape[0])
lstm.load_state_dict({k: torch.from_numpy(np.load(os.path.join(d, "lstm." + k + ".npy")))
                      for k in lstm.state_dict()})
head.load_state_dict({"weight": torch.from_numpy(head_w),
                      "bias": torch.from_numpy(np.load(os.path.join(d, "head.bias.npy")))})
lstm.eval()
head.eval()
xt = torch.from_numpy(x).unsqueeze(0)
times, cpu = [], []
with torch.inference_mode():
    y = head(lstm(xt)[0])[0]
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        y = head(lstm(xt)[0])[0]
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
np.save(os.path.join(d, "y_torch.npy"), y.numpy())
print(f"{np.median(times):.9f} {np.median(cpu):.9f}")
