"""PyTorch oracle for the LSTM tests.

Usage: lstm_torch.py DIR LAYERS HIDDEN BIDIR [DIR LAYERS HIDDEN BIDIR ...]
(several configurations in one run, to pay for the torch import once).
Each DIR holds the weights written by the C test, one .npy per state-dict tensor
(lstm.weight_ih_l0.npy, ..., head.weight.npy, head.bias.npy) and x.npy
[T, input]. Builds torch.nn.LSTM(batch_first=True) + nn.Linear with exactly
those weights and writes DIR/y32.npy (float32 forward) and DIR/y64.npy
(the same weights run in float64).
"""
import os
import sys

import numpy as np
import torch

torch.set_num_threads(1)


def run(d, layers, hidden, bidir):
    x = np.load(os.path.join(d, "x.npy"))
    inp = x.shape[1]
    head_w = np.load(os.path.join(d, "head.weight.npy"))
    lstm = torch.nn.LSTM(inp, hidden, num_layers=layers, bidirectional=bidir, batch_first=True)
    head = torch.nn.Linear(hidden * (2 if bidir else 1), head_w.shape[0])
    state = {}
    for name in lstm.state_dict():
        state[name] = torch.from_numpy(np.load(os.path.join(d, "lstm." + name + ".npy")))
    lstm.load_state_dict(state)
    head.load_state_dict({"weight": torch.from_numpy(head_w),
                          "bias": torch.from_numpy(np.load(os.path.join(d, "head.bias.npy")))})
    for dtype, out in ((torch.float32, "y32.npy"), (torch.float64, "y64.npy")):
        lstm.to(dtype)
        head.to(dtype)
        with torch.no_grad():
            xt = torch.from_numpy(x).to(dtype).unsqueeze(0)
            y = head(lstm(xt)[0])[0]
        np.save(os.path.join(d, out), y.numpy())
    print("ok", x.shape[0])


args = sys.argv[1:]
for i in range(0, len(args), 4):
    run(args[i], int(args[i + 1]), int(args[i + 2]), args[i + 3] == "1")
