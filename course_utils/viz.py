"""Plotting helpers shared by the notebooks; each returns the matplotlib Figure.

End a notebook cell with ``plt.show()`` after calling one of these (or assign the result),
so the figure is drawn once. Images may be uint8 (0-255) or float ([0, 1]); (H, W),
(H, W, 1) and (H, W, 3) are accepted. Boxes are xyxy pixels, ``x_max = last column + 1``.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

__all__ = ["compare", "draw_boxes", "overlay_mask", "plot_history", "show_images"]

#: Distinct colours (matplotlib's tab10) for classes and mask labels.
_TAB10 = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _prepare(image: Any, name: str = "image", rescale: bool = False) -> np.ndarray:
    """An image as (H, W) or (H, W, 3) float in [0, 1]; uint8 is divided by 255.

    Float values outside [0, 1] are clipped, or with ``rescale`` (feature maps) min-max
    scaled to [0, 1].
    """
    x = np.asarray(image)
    if x.ndim == 3 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim not in (2, 3) or (x.ndim == 3 and x.shape[-1] not in (3, 4)):
        raise ValueError(f"{name}: expected (H, W), (H, W, 1) or (H, W, 3), got shape {x.shape}")
    if x.dtype == np.uint8:
        return x.astype(np.float32) / 255.0
    if x.dtype == bool:
        return x.astype(np.float32)
    x = x.astype(np.float32)
    lo, hi = float(np.min(x)), float(np.max(x))
    if rescale and (lo < 0.0 or hi > 1.0):
        return (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)
    return np.clip(x, 0.0, 1.0)


def _imshow(ax, img: np.ndarray, cmap: str | None) -> None:
    if img.ndim == 2:
        ax.imshow(img, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    else:
        ax.imshow(img, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def show_images(images: Any, titles: Sequence[str] | None = None, ncols: int = 8,
                cmap: str = "gray"):
    """A grid of images: an array (N, H, W[, C]) or a list of images, one panel each.

    ``titles`` (optional) gives one short title per image; ``ncols`` the panels per row.
    uint8 images are shown on 0-255, float images on [0, 1]; a float image with values
    outside [0, 1] (a feature map, say) is min-max scaled on its own. Returns the Figure.
    """
    items = list(images) if not isinstance(images, np.ndarray) else [images[i] for i in range(len(images))]
    if not items:
        raise ValueError("images: expected at least one image, got none")
    if titles is not None and len(titles) != len(items):
        raise ValueError(f"titles: expected {len(items)} titles, got {len(titles)}")
    if not isinstance(ncols, (int, np.integer)) or ncols < 1:
        raise ValueError(f"ncols: expected an int >= 1, got {ncols!r}")
    plt = _plt()
    ncols = min(int(ncols), len(items))
    nrows = math.ceil(len(items) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.6 * ncols, 1.6 * nrows + 0.2 * (titles is not None)),
                             squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k < len(items):
            _imshow(ax, _prepare(items[k], f"images[{k}]", rescale=True), cmap)
            if titles is not None:
                ax.set_title(str(titles[k]), fontsize=9)
        else:
            ax.axis("off")
    fig.tight_layout()
    return fig


def plot_history(history: Any):
    """Training curves from a Keras ``History`` (or its ``.history`` dict): one panel per metric.

    Each panel shows ``name`` and, when present, ``val_name`` against the epoch (1-based).
    Returns the Figure.
    """
    hist = getattr(history, "history", history)
    if not isinstance(hist, Mapping) or not hist:
        raise ValueError(f"history: expected a keras History or a non-empty dict, got {type(history).__name__}")
    names = [k for k in hist if not k.startswith("val_")]
    names += [k[4:] for k in hist if k.startswith("val_") and k[4:] not in hist]
    plt = _plt()
    fig, axes = plt.subplots(1, len(names), figsize=(4.0 * len(names), 3.0), squeeze=False)
    for ax, name in zip(axes.flat, names):
        for key, style in ((name, "-"), (f"val_{name}", "--")):
            if key in hist:
                values = np.asarray(hist[key], dtype=float)
                ax.plot(np.arange(1, len(values) + 1), values, style, marker=".", label=key)
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _axes(ax, figsize=(4, 4)):
    if ax is not None:
        return ax.figure, ax
    fig, ax = _plt().subplots(figsize=figsize)
    return fig, ax


def draw_boxes(image: Any, boxes: Any, labels: Any = None, scores: Any = None,
               class_names: Sequence[str] | None = None, ax=None):
    """An image with boxes (K, 4) xyxy pixels drawn on it, coloured by label.

    ``labels`` (K,) int class indices, ``scores`` (K,) floats and ``class_names`` make the
    caption of each box (``"circle 0.93"``). Draws into ``ax`` when given. Returns the Figure.
    """
    img = _prepare(image)
    b = np.asarray(boxes, dtype=float).reshape(-1, 4) if np.size(boxes) else np.zeros((0, 4))
    if np.asarray(boxes).size and np.asarray(boxes).shape[-1] != 4:
        raise ValueError(f"boxes: expected shape (K, 4) xyxy, got {np.asarray(boxes).shape}")
    k = len(b)
    lab = None if labels is None else np.asarray(labels).reshape(-1)
    sco = None if scores is None else np.asarray(scores, dtype=float).reshape(-1)
    for arg, arr in (("labels", lab), ("scores", sco)):
        if arr is not None and len(arr) != k:
            raise ValueError(f"{arg}: expected {k} values (one per box), got {len(arr)}")
    fig, ax = _axes(ax)
    _imshow(ax, img, "gray")
    from matplotlib.patches import Rectangle

    for i, (x0, y0, x1, y1) in enumerate(b):
        color = _TAB10[int(lab[i]) % 10] if lab is not None else _TAB10[0]
        # Pixel (c, r) covers [c - 0.5, c + 0.5] in imshow coordinates.
        ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False,
                               edgecolor=color, linewidth=1.5))
        parts = []
        if lab is not None:
            idx = int(lab[i])
            parts.append(class_names[idx] if class_names is not None and 0 <= idx < len(class_names) else str(idx))
        if sco is not None:
            parts.append(f"{sco[i]:.2f}")
        if parts:
            ax.text(x0 - 0.5, y0 - 0.5, " ".join(parts), color="white", fontsize=7, va="bottom",
                    bbox=dict(facecolor=color, edgecolor="none", pad=1, alpha=0.8))
    return fig


def overlay_mask(image: Any, mask: Any, alpha: float = 0.5, ax=None):
    """An image with a mask laid over it: bool (H, W) in one colour, or int labels
    (0 = background, left clear; c > 0 in colour c of tab10). Returns the Figure."""
    img = _prepare(image)
    m = np.asarray(mask)
    if m.shape != img.shape[:2]:
        raise ValueError(f"mask: expected shape {img.shape[:2]} like the image, got {m.shape}")
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha: expected a value in [0, 1], got {alpha!r}")
    from matplotlib.colors import to_rgb

    rgb = img if img.ndim == 3 else np.repeat(img[..., None], 3, axis=-1)
    rgb = rgb[..., :3]
    labels = m.astype(np.int64)
    palette = np.array([to_rgb(c) for c in _TAB10], dtype=np.float32)
    color = palette[(labels - 1) % 10]
    on = (labels > 0)[..., None]
    out = np.where(on, (1 - alpha) * rgb + alpha * color, rgb)
    fig, ax = _axes(ax)
    _imshow(ax, out, None)
    return fig


def compare(images_by_name: Mapping[str, Any], crop: Sequence[int] | None = None):
    """Side-by-side panels, one per named image (e.g. noisy / restored / clean).

    ``crop = (x_min, y_min, x_max, y_max)`` in pixels adds a second row with that region of
    every image enlarged, and outlines it on the first row. Returns the Figure.
    """
    if not isinstance(images_by_name, Mapping) or not images_by_name:
        raise ValueError("images_by_name: expected a non-empty dict name -> image")
    items = [(str(k), _prepare(v, f"images_by_name[{k!r}]")) for k, v in images_by_name.items()]
    if crop is not None:
        if len(crop) != 4:
            raise ValueError(f"crop: expected (x_min, y_min, x_max, y_max), got {crop!r}")
        x0, y0, x1, y1 = (int(c) for c in crop)
        h, w = items[0][1].shape[:2]
        if not (0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h):
            raise ValueError(f"crop: expected 0 <= x_min < x_max <= {w} and 0 <= y_min < y_max <= {h}, got {crop!r}")
    plt = _plt()
    nrows = 2 if crop is not None else 1
    n = len(items)
    fig, axes = plt.subplots(nrows, n, figsize=(3.0 * n, 3.0 * nrows), squeeze=False)
    from matplotlib.patches import Rectangle

    for j, (name, img) in enumerate(items):
        _imshow(axes[0, j], img, "gray")
        axes[0, j].set_title(name, fontsize=10)
        if crop is not None:
            axes[0, j].add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False,
                                           edgecolor="yellow", linewidth=1.2))
            _imshow(axes[1, j], img[y0:y1, x0:x1], "gray")
    fig.tight_layout()
    return fig
