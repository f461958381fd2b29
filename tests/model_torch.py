"""PyTorch reference for the model converter and the whole input pipeline.

make DIR LAYERS HIDDEN BIDIR CONTEXT DELAY PERCLIP K FORMAT SEED T DIM [DIR ...]
    (several configurations, 12 arguments each, in one run.) Builds a torch nn.LSTM ("lstm") + nn.Linear ("head") with torch's own
    random init, exports its state dict (+ feature_mean/std, and pca.* when
    K != 40) as DIR/sd.npz (numpy.savez) or DIR/sd.safetensors (written by
    hand: 8-byte little-endian header length, JSON, raw little-endian data),
    writes DIR/meta.json (context, delay, per_clip_norm, points "mouth") and
    raw features DIR/x.npy [T, DIM]. Then runs the pipeline the model file
    documents, independently in numpy + torch: per-clip standardisation
    (population std floored at 1e-5) if PERCLIP, (x - mean) / std, context
    stacking with edge padding, LSTM over T + DELAY steps, head, output frame
    t = step t + DELAY. Writes DIR/y32.npy (float32 torch) and DIR/y64.npy
    (float64 torch), and DIR/y64_gain.npy: y64 plus LEVEL_GAIN times its mean
    over time (the model's clip-level gain).
check DIR EXPORTED.npz
    Compares the tensors of an .npz exported by wav2kp with the state dict
    in DIR/sd.npz: prints the number of equal tensors.
"""
import json
import os
import struct
import sys

import numpy as np

LEVEL_GAIN = 1.5

def pipeline(x, feature_mean, feature_std, per_clip, context, delay, net, dtype):
    import torch
    x = x.astype(np.float64)
    if per_clip:
        mu = x.mean(axis=0)
        sd = np.maximum(x.std(axis=0), 1e-5)
        x = (x - mu) / sd
    x = (x - feature_mean) / feature_std
    T = x.shape[0]
    steps = T + delay
    idx = np.clip(np.arange(steps)[:, None] + np.arange(-context, context + 1)[None, :], 0, T - 1)
    stacked = x[idx].reshape(steps, -1)
    net = net.to(dtype)
    with torch.no_grad():
        inp = torch.from_numpy(stacked).to(dtype).unsqueeze(0)
        y = net.head(net.lstm(inp)[0])[0].numpy()
    return y[delay:delay + T]


def make_net(inp, hidden, layers, bidir, out):
    import torch
    net = torch.nn.Module()
    net.lstm = torch.nn.LSTM(inp, hidden, num_layers=layers, bidirectional=bidir, batch_first=True)
    net.head = torch.nn.Linear(hidden * (2 if bidir else 1), out)
    return net


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name, a in tensors.items():
        a = np.ascontiguousarray(a, dtype="<f4")
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def make(all_args):
    for i in range(0, len(all_args), 12):
        make_one(all_args[i:i + 12])


def make_one(args):
    import torch
    d = args[0]
    layers, hidden, bidir, context, delay, per_clip, K = (int(a) for a in args[1:8])
    fmt, seed, T, dim = args[8], int(args[9]), int(args[10]), int(args[11])
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    torch.set_num_threads(1)
    net = make_net(dim * (2 * context + 1), hidden, layers, bool(bidir), K)
    with torch.no_grad():   # non-trivial biases
        for name, p in net.named_parameters():
            if "bias" in name:
                p.uniform_(-0.5, 0.5)
    sd = {k: v.detach().numpy().astype(np.float32) for k, v in net.state_dict().items()}
    feature_mean = rng.uniform(-2, 2, dim).astype(np.float32)
    feature_std = rng.uniform(0.5, 3, dim).astype(np.float32)
    sd["feature_mean"] = feature_mean
    sd["feature_std"] = feature_std
    if K != 40:
        sd["pca.mean"] = rng.uniform(-0.5, 0.5, 40).astype(np.float32)
        sd["pca.basis"] = rng.uniform(-0.2, 0.2, (K, 40)).astype(np.float32)
        sd["pca.scale"] = rng.uniform(0.5, 2, K).astype(np.float32)
    if fmt == "npz":
        np.savez(os.path.join(d, "sd.npz"), **sd)
    else:
        write_safetensors(os.path.join(d, "sd.safetensors"), sd)
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump({"context": context, "delay": delay, "per_clip_norm": bool(per_clip), "points": "mouth",
                   "fps": "25"}, f)
    x = (rng.normal(size=(T, dim)) * rng.uniform(0.5, 5, dim) + rng.uniform(-3, 3, dim)).astype(np.float32)
    np.save(os.path.join(d, "x.npy"), x)
    fm, fs = feature_mean.astype(np.float64), feature_std.astype(np.float64)
    np.save(os.path.join(d, "y32.npy"),
            pipeline(x, fm, fs, per_clip, context, delay, net, torch.float32).astype(np.float32))
    y64 = pipeline(x, fm, fs, per_clip, context, delay, net, torch.float64)
    np.save(os.path.join(d, "y64.npy"), y64)
    # level gain 1.5: each output plus 1.5 times the clip's mean output
    np.save(os.path.join(d, "y64_gain.npy"), y64 + LEVEL_GAIN * y64.mean(axis=0))
    print("ok")


def check(args):
    d, exported = args
    ours = np.load(exported)
    ref = np.load(os.path.join(d, "sd.npz"))
    n = 0
    for k in ref.files:
        assert k in ours.files, k
        assert ours[k].dtype == np.float32 and ours[k].shape == ref[k].shape, k
        assert np.array_equal(ours[k], ref[k]), k
        n += 1
    print(n)


if __name__ == "__main__":
    {"make": make, "check": check}[sys.argv[1]](sys.argv[2:])
