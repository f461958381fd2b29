#!/usr/bin/python3
"""PyTorch side of the wav2kp trainer: parity replay, benchmark and a baseline.

Run with Debian's /usr/bin/python3 (python3-torch, python3-numpy).

  torch_parity.py replay DIR [--threads N]
      DIR was written by wkp_train_parity_dump() (the C trainer: `wav2kp bench
      train` or tests/test-train.c). Builds the same torch.nn.LSTM + nn.Linear,
      loads the C initial weights, and repeats the C minibatches with the same
      loss (masked, component-weighted MSE + velocity term), gradient-norm
      clipping (torch.nn.utils.clip_grad_norm_) and torch.optim.AdamW with the
      C learning rate of every step. Prints one JSON line: per-step losses of
      both, the largest relative loss difference, the largest weight difference
      after the last step, and the wall time of the PyTorch steps.

  torch_parity.py baseline DATASET --out JSON [--hidden 96] [--layers 1] [--seed S] [--ensemble N]
                   [--epochs 40] [--patience 8] [--context 2] [--delay 2]
      The "straightforward PyTorch model of the same size": a prepared dataset
      (wav2kp prepare) read with numpy; global feature standardisation, the
      same context window and delay, PCA (numpy SVD) of the raw normalised
      mouth points (no identity removal), plain MSE on whitened coefficients,
      windows sampled uniformly over train frames (no speaker balancing, no
      augmentation), Adam, early stopping on the val split's aperture r. Writes
      the val/test pooled aperture Pearson r (lag 0) to JSON.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch


def tensor_names(layers, bidirectional):
    names = []
    for l in range(layers):
        for d in range(2 if bidirectional else 1):
            sfx = "_reverse" if d else ""
            for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                names.append("%s_l%d%s" % (kind, l, sfx))
    return names + ["head.weight", "head.bias"]


class Net(torch.nn.Module):
    def __init__(self, inp, hidden, layers, bidirectional, out):
        super().__init__()
        self.lstm = torch.nn.LSTM(inp, hidden, layers, bidirectional=bidirectional)
        self.head = torch.nn.Linear(hidden * (2 if bidirectional else 1), out)

    def forward(self, x):  # x [T, B, in]
        h, _ = self.lstm(x)
        return self.head(h)

    def tensor(self, name):
        if name.startswith("head."):
            return getattr(self.head, name[5:])
        return getattr(self.lstm, name)


def masked_loss(y, z, mask, w, vel):
    """Same definition as wkp_net_loss_f32 (engine/wkp-train-net.h)."""
    K = y.shape[-1]
    n = mask.sum()
    loss = ((y - z) ** 2 * w * mask[..., None]).sum() / (n * K)
    if vel > 0 and y.shape[0] > 1:
        mv = mask[1:] * mask[:-1]
        nv = mv.sum()
        if nv > 0:
            e = (y[1:] - y[:-1]) - (z[1:] - z[:-1])
            loss = loss + vel * (e ** 2 * w * mv[..., None]).sum() / (nv * K)
    return loss


def replay(args):
    d = args.dir
    cfg = json.load(open(os.path.join(d, "config.json")))
    p = cfg["params"]
    torch.set_num_threads(args.threads)
    net = Net(cfg["input_size"], cfg["hidden_size"], cfg["num_layers"], cfg["bidirectional"], cfg["output_size"])
    names = tensor_names(cfg["num_layers"], cfg["bidirectional"])
    with torch.no_grad():
        for name in names:
            net.tensor(name).copy_(torch.from_numpy(np.load(os.path.join(d, "init_%s.npy" % name))))
    X = torch.from_numpy(np.load(os.path.join(d, "x.npy")))
    Z = torch.from_numpy(np.load(os.path.join(d, "z.npy")))
    M = torch.from_numpy(np.load(os.path.join(d, "mask.npy")))
    W = torch.from_numpy(np.load(os.path.join(d, "loss_w.npy")))
    lrs = np.load(os.path.join(d, "lr.npy"))
    c_loss = np.load(os.path.join(d, "loss.npy"))
    opt = torch.optim.AdamW(net.parameters(), lr=float(lrs[0]), betas=(p["beta1"], p["beta2"]), eps=p["eps"],
                            weight_decay=p["weight_decay"])
    losses = []
    t0 = time.perf_counter()
    for i in range(X.shape[0]):
        for g in opt.param_groups:
            g["lr"] = float(lrs[i])
        opt.zero_grad(set_to_none=True)
        y = net(X[i])
        loss = masked_loss(y, Z[i], M[i], W, p["velocity_weight"])
        loss.backward()
        if p["clip_norm"] > 0:
            torch.nn.utils.clip_grad_norm_(net.parameters(), p["clip_norm"])
        opt.step()
        losses.append(float(loss))
    seconds = time.perf_counter() - t0
    losses = np.array(losses)
    rel = np.abs(losses - c_loss) / np.maximum(np.abs(c_loss), 1e-12)
    wdiff = 0.0
    with torch.no_grad():
        for name in names:
            c = np.load(os.path.join(d, "final_%s.npy" % name))
            wdiff = max(wdiff, float(np.max(np.abs(net.tensor(name).numpy() - c))))
    print(json.dumps({
        "steps": int(X.shape[0]),
        "torch_loss": losses.tolist(),
        "c_loss": c_loss.tolist(),
        "max_rel_loss_diff": float(rel.max()),
        "max_rel_loss_diff_first10": float(rel[:10].max()),
        "max_weight_diff": wdiff,
        "torch_seconds": seconds,
        "c_seconds": cfg.get("c_seconds", 0.0),
        "torch_threads": args.threads,
        "torch_version": torch.__version__,
    }))


# ---------------------------------------------------------------------------------------------
# baseline

def aperture(pts):
    """Inner-lip aperture of [T, 68, 2] faces (wkp_face_inner_aperture)."""
    io = np.linalg.norm(pts[:, 36] - pts[:, 45], axis=1)
    a = (np.linalg.norm(pts[:, 61] - pts[:, 67], axis=1) + np.linalg.norm(pts[:, 62] - pts[:, 66], axis=1) +
         np.linalg.norm(pts[:, 63] - pts[:, 65], axis=1)) / 3.0
    return a / io


def pearson(a, b):
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    if len(a) < 3 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def resample_to(track, n_out, fps_in, fps_out):
    """Linear resampling at frame centres (wkp_track_resample), NaN-aware nearest fallback."""
    T = track.shape[0]
    if fps_in == fps_out and T == n_out:
        return track
    pos = (np.arange(n_out) + 0.5) * fps_in / fps_out - 0.5
    pos = np.clip(pos, 0, T - 1)
    k0 = np.floor(pos).astype(int)
    k1 = np.minimum(k0 + 1, T - 1)
    f = (pos - k0).reshape((-1,) + (1,) * (track.ndim - 1))
    out = (1 - f) * track[k0] + f * track[k1]
    bad = ~np.isfinite(out)
    near = np.where(f < 0.5, track[k0], track[k1])
    out[bad] = near[bad]
    return out


def parse_fps(v):
    if isinstance(v, dict):
        return v["num"] / v["den"]
    if isinstance(v, str) and "/" in v:
        n, d = v.split("/")
        return float(n) / float(d)
    return float(v)


def load_dataset(path):
    man = json.load(open(os.path.join(path, "dataset.json")))
    model_fps = parse_fps(man.get("params", {}).get("model_fps", "25/1"))
    clips = []
    for c in man["clips"]:
        if c.get("status") != "ok" or not c.get("id"):
            continue
        d = os.path.join(path, "clips", c["id"])
        feats = np.load(os.path.join(d, "features.npy")).astype(np.float32)
        lm = np.load(os.path.join(d, "normalized.npy")).astype(np.float32)
        video_fps = parse_fps(c["fps"])
        lm = resample_to(lm, feats.shape[0], video_fps, model_fps)
        clips.append({"name": c["name"], "speaker": c["speaker"], "split": c["split"], "x": feats, "lm": lm})
    return clips


def stack(x, context, steps):
    T = x.shape[0]
    idx = np.clip(np.arange(steps)[:, None] + np.arange(-context, context + 1)[None, :], 0, T - 1)
    return x[idx].reshape(steps, -1)


def baseline(args):
    torch.set_num_threads(args.threads)
    clips = load_dataset(args.dataset)
    train = [c for c in clips if c["split"] == "train"]
    val = [c for c in clips if c["split"] == "val"]
    test = [c for c in clips if c["split"] == "test"]
    allx = np.concatenate([c["x"] for c in train])
    mu, sd = allx.mean(0), np.maximum(allx.std(0), 1e-5)
    mouth = slice(48, 68)
    shapes = np.concatenate([c["lm"][:, mouth].reshape(-1, 40) for c in train])
    shapes = shapes[np.all(np.isfinite(shapes), axis=1)]
    pmean = shapes.mean(0)
    _, s, vt = np.linalg.svd(shapes - pmean, full_matrices=False)
    K = args.components
    basis, scale = vt[:K], s[:K] / np.sqrt(len(shapes) - 1)
    meanface = np.nanmean(np.concatenate([c["lm"] for c in train]), axis=0)

    def prep(c):
        x = (c["x"] - mu) / sd
        steps = x.shape[0] + args.delay
        X = stack(x, args.context, steps).astype(np.float32)
        m = c["lm"][:, mouth].reshape(-1, 40)
        z = ((m - pmean) @ basis.T) / scale
        Z = np.zeros((steps, K), np.float32)
        M = np.zeros(steps, np.float32)
        ok = np.all(np.isfinite(z), axis=1)
        Z[args.delay:][ok] = z[ok]
        M[args.delay:][ok] = 1
        return X, Z, M

    for c in clips:
        c["X"], c["Z"], c["M"] = prep(c)
    D = train[0]["X"].shape[1]
    lens = np.array([c["X"].shape[0] for c in train], float)
    prob = lens / lens.sum()
    L, B = args.window, args.batch
    steps_per_epoch = max(10, int(lens.sum() // (L * B)))

    def predict(nets, c):
        """PCA coefficients of clip c, averaged over nets (an ensemble)."""
        with torch.no_grad():
            return np.mean([n(torch.from_numpy(c["X"])[:, None])[:, 0].numpy()[args.delay:] for n in nets], axis=0)

    def evaluate(nets, split):
        ref, pred = [], []
        for c in split:
            y = predict(nets, c)
            m = pmean + (y * scale) @ basis
            face = np.repeat(meanface[None], len(m), 0)
            face[:, mouth] = m.reshape(-1, 20, 2)
            ref.append(aperture(c["lm"]))
            pred.append(aperture(face))
        return pearson(np.concatenate(ref), np.concatenate(pred))

    def train_one(seed):
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        net = Net(D, args.hidden, args.layers, False, K)
        opt = torch.optim.Adam(net.parameters(), lr=args.lr)
        best, best_state, bad, best_epoch = -2.0, None, 0, 0
        for epoch in range(1, args.epochs + 1):
            net.train()
            for _ in range(steps_per_epoch):
                xb, zb, mb = [], [], []
                for ci in rng.choice(len(train), B, p=prob):
                    c = train[ci]
                    S = c["X"].shape[0]
                    s0 = rng.integers(0, max(S - L, 0) + 1)
                    sl = slice(s0, s0 + L)
                    pad = L - len(c["X"][sl])
                    xb.append(np.pad(c["X"][sl], ((0, pad), (0, 0)), mode="edge"))
                    zb.append(np.pad(c["Z"][sl], ((0, pad), (0, 0))))
                    mb.append(np.pad(c["M"][sl], (0, pad)))
                X = torch.from_numpy(np.stack(xb, 1))
                Z = torch.from_numpy(np.stack(zb, 1))
                M = torch.from_numpy(np.stack(mb, 1))
                opt.zero_grad()
                loss = masked_loss(net(X), Z, M, torch.ones(K), 0.0)
                loss.backward()
                opt.step()
            r = evaluate([net], val)
            print("seed %d epoch %d loss %.4f val r %.3f" % (seed, epoch, float(loss), r), file=sys.stderr)
            if r > best:
                best, best_epoch, bad = r, epoch, 0
                best_state = {k: v.clone() for k, v in net.state_dict().items()}
            else:
                bad += 1
                if bad >= args.patience:
                    break
        net.load_state_dict(best_state)
        return net, best, best_epoch

    t0 = time.perf_counter()
    seeds = [args.seed + i for i in range(args.ensemble)]
    runs = [train_one(sd) for sd in seeds]
    nets = [r[0] for r in runs]
    result = {"model": "straightforward PyTorch LSTM %dx%d (same size, no identity removal / balancing / "
                       "augmentation / per-clip norm)%s" % (args.layers, args.hidden,
                       ", ensemble of %d seeds (predictions averaged)" % len(seeds) if len(seeds) > 1 else ""),
              "seeds": seeds, "val_aperture_r": evaluate(nets, val), "test_aperture_r": evaluate(nets, test),
              "members": [{"seed": sd, "val_aperture_r": r[1], "test_aperture_r": evaluate([r[0]], test),
                           "best_epoch": r[2]} for sd, r in zip(seeds, runs)],
              "seconds": time.perf_counter() - t0,
              "train_clips": len(train), "val_clips": len(val), "test_clips": len(test)}
    json.dump(result, open(args.out, "w"), indent=1)
    print(json.dumps(result))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("replay")
    r.add_argument("dir")
    r.add_argument("--threads", type=int, default=1)
    b = sub.add_parser("baseline")
    b.add_argument("dataset")
    b.add_argument("--out", required=True)
    b.add_argument("--hidden", type=int, default=96)
    b.add_argument("--layers", type=int, default=1)
    b.add_argument("--components", type=int, default=10)
    b.add_argument("--context", type=int, default=2)
    b.add_argument("--delay", type=int, default=2)
    b.add_argument("--epochs", type=int, default=40)
    b.add_argument("--patience", type=int, default=8)
    b.add_argument("--window", type=int, default=64)
    b.add_argument("--batch", type=int, default=32)
    b.add_argument("--lr", type=float, default=2e-3)
    b.add_argument("--seed", type=int, default=1)
    b.add_argument("--ensemble", type=int, default=1, help="train seeds seed..seed+N-1 and average their predictions")
    b.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    if args.cmd == "replay":
        replay(args)
    else:
        baseline(args)


if __name__ == "__main__":
    main()
