"""Procedural street-like scenes with upright "pedestrians": a detection set for tests and the smoke profile."""
from __future__ import annotations

import torch
from torch.utils.data import Dataset

from .data import size_hw

class SyntheticScenes(Dataset):
    """``n`` procedurally generated street-like scenes, deterministic by ``seed``.

    Each scene: a vertical two-tone colour gradient background, a few clutter rectangles (wide and low,
    so not pedestrian-shaped), Gaussian pixel noise (std 0.05), and 1-3 upright "pedestrians": a body
    ellipse (height 35-75 % of the image height, width 0.3-0.45 x height) with a head disc on top, in a
    random colour. The box is the tight box of head + body. All draws come from one
    ``torch.Generator`` seeded with ``seed``; everything is generated at construction.
    """

    def __init__(self, n: int = 64, image_size=96, seed: int = 0):
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        self.n, self.image_size, self.seed = int(n), size_hw(image_size), int(seed)
        g = torch.Generator().manual_seed(self.seed)
        self.items = [self._scene(g) for _ in range(self.n)]

    def _scene(self, g: torch.Generator):
        H, W = self.image_size

        def u(lo, hi):
            return lo + (hi - lo) * torch.rand((), generator=g).item()

        top, bottom = torch.rand(3, generator=g), torch.rand(3, generator=g)
        t = torch.linspace(0, 1, H).view(1, H, 1)
        img = (top.view(3, 1, 1) * (1 - t) + bottom.view(3, 1, 1) * t).expand(3, H, W).clone()
        yy, xx = torch.meshgrid(torch.arange(H) + 0.5, torch.arange(W) + 0.5, indexing="ij")
        for _ in range(int(torch.randint(1, 4, (), generator=g))):  # clutter
            ch, cw = u(0.05, 0.15) * H, u(0.3, 0.6) * W
            y0, x0 = u(0, H - ch), u(0, W - cw)
            inside = (yy >= y0) & (yy < y0 + ch) & (xx >= x0) & (xx < x0 + cw)
            img[:, inside] = torch.rand(3, 1, generator=g)
        boxes = []
        for _ in range(int(torch.randint(1, 4, (), generator=g))):
            h = u(0.35, 0.75) * H
            w = min(u(0.3, 0.45) * h, 0.9 * W)
            x0, y0 = u(0, W - w), u(0, H - h)
            head_r = 0.5 * min(w, 0.2 * h)
            cx = x0 + w / 2
            body_top = y0 + 2 * head_r
            body = ((xx - cx) / (w / 2)) ** 2 + ((yy - (body_top + y0 + h) / 2) / ((y0 + h - body_top) / 2)) ** 2 <= 1
            head = (xx - cx) ** 2 + (yy - (y0 + head_r)) ** 2 <= head_r**2
            img[:, body | head] = torch.rand(3, 1, generator=g)
            boxes.append([x0, y0, x0 + w, y0 + h])
        img = (img + 0.05 * torch.randn(img.shape, generator=g)).clamp_(0, 1)
        return img.float(), torch.tensor(boxes, dtype=torch.float32)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int):
        img, boxes = self.items[index]
        return img.clone(), boxes.clone()
