"""One seed and one device for every notebook: the CPU by default, a GPU when one is present."""
from __future__ import annotations

import random

import numpy as np

__all__ = [
    "default_device",
    "seed_everything",
]


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python, NumPy and PyTorch; return a NumPy ``Generator`` to draw everything else from."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)  # random.seed refuses NumPy integers
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch
        torch.manual_seed(seed)
    except ImportError:  # torch is optional for the optimization chapters
        pass
    return np.random.default_rng(seed)


def default_device(prefer_gpu: bool = True):
    """``torch.device('cuda')`` when a GPU is present and wanted, else ``torch.device('cpu')``."""
    import torch
    if prefer_gpu and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")
