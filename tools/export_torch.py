#!/usr/bin/python3
"""Export a PyTorch LSTM + Linear state dict for `wav2kp convert`.

Run with Debian's /usr/bin/python3 (python3-torch, python3-numpy).

  export_torch.py CHECKPOINT OUT.npz|OUT.safetensors
                  [--key state_dict] [--strip model.] [--rename OLD=NEW ...]
                  [--extra NAME=FILE.npy ...]

CHECKPOINT is anything torch.load() reads: a state dict, a whole nn.Module,
or a dict holding the state dict under --key (PyTorch Lightning checkpoints
keep it under "state_dict", with names prefixed "model." — strip that with
--strip model.). wav2kp expects the names of a module with an nn.LSTM
attribute "lstm" and an nn.Linear attribute "head":

    lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0,
    lstm.weight_ih_l0_reverse, ..., lstm.weight_ih_l1, ..., head.weight, head.bias

Use --rename rnn.=lstm. --rename fc.=head. when your attributes are called
differently (prefix substitution), or pass --lstm-prefix / --head-prefix to
`wav2kp convert` instead. Optional tensors wav2kp also reads (--extra, each a
.npy): feature_mean, feature_std [dim], mean_face [68, 2], pca.mean [2P],
pca.basis [K, 2P], pca.scale [K].

Every tensor is written as float32. The .npz is numpy.savez output; the
.safetensors file is written by hand (8-byte little-endian header length, JSON
header, raw little-endian data), so the safetensors package is not needed.

Then:
    wav2kp convert OUT.npz --metadata META.json -o model.wkpm
with META.json holding what the state dict does not (see
engine/wkp-convert.h): {"features": {...}, "fps": "25", "context": 2,
"delay": 2, "per_clip_norm": true, "points": "mouth"}. And back, for
inspection: wav2kp convert model.wkpm -o model.npz (writes model.json too).
"""
import argparse
import json
import struct
import sys

import numpy as np


def to_numpy(v):
    if hasattr(v, "detach"):
        v = v.detach().cpu().numpy()
    return np.ascontiguousarray(np.asarray(v), dtype=np.float32)


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name, a in tensors.items():
        b = a.astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = {"format": "pt", "written_by": "wav2kp tools/export_torch.py"}
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("out")
    ap.add_argument("--key", help="state dict key inside the checkpoint (e.g. state_dict)")
    ap.add_argument("--strip", default="", help="prefix removed from every name (e.g. model.)")
    ap.add_argument("--rename", action="append", default=[], help="OLD=NEW prefix substitution")
    ap.add_argument("--extra", action="append", default=[], help="NAME=FILE.npy extra tensor")
    args = ap.parse_args()

    import torch
    obj = torch.load(args.checkpoint, map_location="cpu")
    if hasattr(obj, "state_dict") and not isinstance(obj, dict):
        obj = obj.state_dict()
    if args.key:
        obj = obj[args.key]
    tensors = {}
    for name, v in obj.items():
        if not hasattr(v, "shape"):
            continue
        if args.strip and name.startswith(args.strip):
            name = name[len(args.strip):]
        for r in args.rename:
            old, new = r.split("=", 1)
            if name.startswith(old):
                name = new + name[len(old):]
        tensors[name] = to_numpy(v)
    for e in args.extra:
        name, path = e.split("=", 1)
        tensors[name] = to_numpy(np.load(path))
    if not any(n.startswith("lstm.weight_ih_l0") for n in tensors):
        print("warning: no lstm.weight_ih_l0 in the state dict; use --rename or convert --lstm-prefix",
              file=sys.stderr)
    if args.out.endswith(".safetensors"):
        write_safetensors(args.out, tensors)
    else:
        np.savez(args.out, **tensors)
    for n, a in tensors.items():
        print(f"{n:32s} {list(a.shape)}")


if __name__ == "__main__":
    main()
