"""Test wrapper: replays a C training run in PyTorch with tools/torch_parity.py.

Usage: train_parity.py DIR  (DIR from wkp_train_parity_dump). Prints the
replay's JSON line (losses of both, largest relative difference)."""
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tools"))
import torch_parity  # noqa: E402

sys.argv = ["torch_parity.py", "replay", sys.argv[1], "--threads", "1"]
torch_parity.main()
