"""Seeded sequence data for notebook 10: moving-digit videos and captioned shapes scenes.

* :func:`make_moving_digits` - videos of digits bouncing inside a square frame, in the manner
  of the Moving MNIST set of Srivastava, Mansimov and Salakhutdinov (2015): each digit starts at
  a random position with a random direction and a fixed speed, moves in a straight line, and
  bounces off the frame's edges (reflection); overlapping digits combine by the pixel-wise
  maximum. The digits are the caller's (for example the offline digits of
  :func:`course_utils.data.load_mnist`), so a video set can be made from training digits and
  another from held-out digits.
* :func:`make_captioned_scenes` - two-object scenes drawn by :func:`course_utils.shapes.make_scenes`,
  each object painted one of :data:`COLORS`, with a caption made from the ground truth by a small
  grammar, e.g. ``"a red circle above a blue square"`` or
  ``"a green triangle to the left of a red circle"``. The subject of the caption is the upper
  object (relation ``above``) or the left object (``to the left of``), so the caption is a
  function of the image; scenes whose centres are not clearly apart along one axis are not used.
* :func:`caption`, :func:`parse_caption`, :func:`encode_captions`, :func:`decode_tokens` - the
  grammar, its inverse, and the token ids of :data:`VOCAB`.

Everything is drawn from one ``numpy.random.Generator`` seeded by ``seed``: the same arguments
give the same arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from . import shapes

__all__ = [
    "COLORS", "RELATIONS", "SHAPES", "VOCAB", "CaptionedScenes", "MovingDigits", "caption",
    "decode_tokens", "encode_captions", "make_captioned_scenes", "make_moving_digits", "parse_caption",
]

#: Colour names and their RGB values in [0, 1] (painted on the objects).
COLORS: dict[str, tuple[float, float, float]] = {
    "red": (0.90, 0.10, 0.10),
    "green": (0.10, 0.75, 0.15),
    "blue": (0.15, 0.25, 0.95),
    "yellow": (0.95, 0.90, 0.10),
}
#: Shape names, the classes of :mod:`course_utils.shapes`.
SHAPES: tuple[str, ...] = shapes.CLASSES
#: Relation index -> its words in a caption.
RELATIONS: tuple[str, ...] = ("above", "to the left of")
#: Token ids: 0 padding, 1 start, 2 end, then the words of the grammar.
VOCAB: tuple[str, ...] = ("<pad>", "<start>", "<end>", "a", *COLORS, *SHAPES, "above", "to", "the", "left", "of")
PAD, START, END = 0, 1, 2
_INDEX = {w: i for i, w in enumerate(VOCAB)}


# ----------------------------------------------------------------------------- moving digits
@dataclass
class MovingDigits:
    """A batch of moving-digit videos.

    ``videos`` float32 (n, frames, size, size, 1) in [0, 1]; ``positions`` int64
    (n, frames, n_digits, 2): each digit's top-left corner (row, col) in pixels, always in
    ``[0, size - digit_size]``; ``indices`` int64 (n, n_digits): which of the given digit images
    each video shows.
    """

    videos: np.ndarray
    positions: np.ndarray
    indices: np.ndarray

    def __len__(self) -> int:
        return len(self.videos)


def _check_int(value, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name}: expected an int >= {low}, got {value!r}")
    return int(value)


def make_moving_digits(
    digits: np.ndarray,
    n: int,
    frames: int = 20,
    size: int = 64,
    n_digits: int = 2,
    seed: int = 0,
    *,
    speed_range: tuple[float, float] = (2.0, 4.0),
) -> MovingDigits:
    """``n`` videos of ``frames`` frames, ``size`` x ``size`` pixels, with ``n_digits`` bouncing digits.

    ``digits``: (N, h, w) or (N, h, w, 1) square digit images, uint8 0-255 or float in [0, 1]
    (h = w <= ``size``). Each video picks ``n_digits`` of them at random; each digit starts at a
    uniform random top-left corner in ``[0, size - h]`` with a uniform random direction and a
    speed uniform in ``speed_range`` (pixels per frame), and is reflected at the borders so it
    never leaves the frame. A frame is the pixel-wise maximum of the digits drawn at their
    rounded positions. Returns a :class:`MovingDigits`.
    """
    digits = np.asarray(digits)
    if digits.ndim == 4 and digits.shape[-1] == 1:
        digits = digits[..., 0]
    if digits.ndim != 3 or digits.shape[1] != digits.shape[2] or len(digits) == 0:
        raise ValueError(f"digits: expected square images (N, h, h) or (N, h, h, 1) with N >= 1, "
                         f"got shape {digits.shape}")
    n = _check_int(n, "n", 0)
    frames = _check_int(frames, "frames", 1)
    n_digits = _check_int(n_digits, "n_digits", 1)
    size = _check_int(size, "size", 1)
    h = digits.shape[1]
    if size < h:
        raise ValueError(f"size: expected at least the digit size {h}, got {size}")
    lo, hi = speed_range
    if not (0 <= lo <= hi) or not np.isfinite(hi):
        raise ValueError(f"speed_range: expected 0 <= low <= high (finite), got {speed_range!r}")
    if digits.dtype == np.uint8:
        digits = digits.astype(np.float32) / 255.0
    else:
        digits = digits.astype(np.float32)
        if digits.min() < 0 or digits.max() > 1:
            raise ValueError(f"digits: float images must be in [0, 1], got [{digits.min()}, {digits.max()}]")

    rng = np.random.default_rng(seed)
    limit = float(size - h)
    indices = rng.integers(0, len(digits), (n, n_digits))
    start = rng.uniform(0.0, limit, (n, n_digits, 2))
    angle = rng.uniform(0.0, 2 * np.pi, (n, n_digits))
    speed = rng.uniform(lo, hi, (n, n_digits))
    velocity = np.stack([np.sin(angle), np.cos(angle)], axis=-1) * speed[..., None]  # (row, col)

    pos = np.empty((n, frames, n_digits, 2))
    p, v = start.copy(), velocity.copy()
    for t in range(frames):
        pos[:, t] = p
        p = p + v
        # Reflect at the borders: a position past an edge comes back by the same amount.
        low, high = p < 0, p > limit
        p = np.where(low, -p, np.where(high, 2 * limit - p, p))
        v = np.where(low | high, -v, v)
        p = np.clip(p, 0.0, limit)  # a speed above the free room could overshoot twice
    positions = np.rint(pos).astype(np.int64)

    videos = np.zeros((n, frames, size, size), np.float32)
    for i in range(n):
        for k in range(n_digits):
            img = digits[indices[i, k]]
            for t in range(frames):
                r, c = positions[i, t, k]
                window = videos[i, t, r:r + h, c:c + h]
                np.maximum(window, img, out=window)
    return MovingDigits(videos[..., None], positions, indices.astype(np.int64))


# ----------------------------------------------------------------------------- captions
@dataclass
class CaptionedScenes:
    """Two-object scenes with their captions and the ground truth behind them.

    ``images`` float32 (n, size, size, 3) in [0, 1]; ``captions`` list of n strings;
    ``colors`` int64 (n, 2) and ``shapes`` int64 (n, 2): indices into ``list(COLORS)`` and
    :data:`SHAPES` of the caption's subject (column 0) and object (column 1); ``relations``
    int64 (n,) indices into :data:`RELATIONS`; ``boxes`` float32 (n, 2, 4) xyxy pixel boxes of
    subject and object; ``masks`` bool (n, 2, size, size) their pixels.
    """

    images: np.ndarray
    captions: list[str]
    colors: np.ndarray
    shapes: np.ndarray
    relations: np.ndarray
    boxes: np.ndarray
    masks: np.ndarray

    def __len__(self) -> int:
        return len(self.images)


def caption(color1: str, shape1: str, relation: str, color2: str, shape2: str) -> str:
    """The grammar: ``"a <color> <shape> <relation> a <color> <shape>"``.

    Colours from :data:`COLORS`, shapes from :data:`SHAPES`, relation from :data:`RELATIONS`;
    anything else raises ``ValueError``.
    """
    for name, value, allowed in (("color1", color1, tuple(COLORS)), ("shape1", shape1, SHAPES),
                                 ("relation", relation, RELATIONS), ("color2", color2, tuple(COLORS)),
                                 ("shape2", shape2, SHAPES)):
        if value not in allowed:
            raise ValueError(f"{name}: expected one of {allowed}, got {value!r}")
    return f"a {color1} {shape1} {relation} a {color2} {shape2}"


def parse_caption(text: str) -> dict | None:
    """The ground truth a caption states, or ``None`` when it is not a sentence of the grammar.

    Returns ``{"color1", "shape1", "relation", "color2", "shape2"}`` (names, not indices).
    """
    if not isinstance(text, str):
        raise ValueError(f"text: expected a string, got {type(text).__name__}")
    words = text.split()
    for relation in RELATIONS:
        rel = relation.split()
        if len(words) == 6 + len(rel) and words[3:3 + len(rel)] == rel:
            a1, c1, s1 = words[:3]
            a2, c2, s2 = words[3 + len(rel):]
            if a1 == a2 == "a" and c1 in COLORS and c2 in COLORS and s1 in SHAPES and s2 in SHAPES:
                return {"color1": c1, "shape1": s1, "relation": relation, "color2": c2, "shape2": s2}
    return None


def encode_captions(captions: Sequence[str], length: int | None = None) -> np.ndarray:
    """Token ids int32 (n, length): ``<start>``, the words, ``<end>``, then ``<pad>`` (0).

    ``length`` defaults to the longest caption plus 2; a caption that does not fit, or a word
    outside :data:`VOCAB`, raises ``ValueError``.
    """
    if isinstance(captions, str):
        raise ValueError("captions: expected a sequence of strings, got one string")
    tokens = [c.split() for c in captions]
    longest = max((len(t) for t in tokens), default=0) + 2
    if length is None:
        length = longest
    length = _check_int(length, "length", 2)
    if longest > length:
        raise ValueError(f"length: a caption needs {longest} tokens with <start> and <end>, got length={length}")
    out = np.zeros((len(tokens), length), np.int32)
    for i, words in enumerate(tokens):
        unknown = [w for w in words if w not in _INDEX or _INDEX[w] <= END]
        if unknown:
            raise ValueError(f"captions[{i}]: words {unknown} are not in VOCAB")
        out[i, :len(words) + 2] = [START, *(_INDEX[w] for w in words), END]
    return out


def decode_tokens(tokens: Sequence[int]) -> str:
    """The words of one row of token ids, up to the first ``<end>`` (``<start>``/``<pad>`` skipped)."""
    words = []
    for t in np.asarray(tokens).reshape(-1):
        t = int(t)
        if not 0 <= t < len(VOCAB):
            raise ValueError(f"tokens: expected ids in [0, {len(VOCAB) - 1}], got {t}")
        if t == END:
            break
        if t > END:
            words.append(VOCAB[t])
    return " ".join(words)


def _relation(boxes: np.ndarray, min_axis_ratio: float) -> tuple[int, int] | None:
    """(subject index, relation index) for two xyxy boxes, or None when ambiguous."""
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2.0
    dx, dy = centres[1] - centres[0]
    if abs(dy) >= min_axis_ratio * abs(dx) and dy != 0:
        return (0 if dy > 0 else 1), 0  # the upper object (smaller y) is the subject: "above"
    if abs(dx) >= min_axis_ratio * abs(dy) and dx != 0:
        return (0 if dx > 0 else 1), 1  # the left object is the subject: "to the left of"
    return None


def make_captioned_scenes(
    n: int,
    size: int = 32,
    seed: int = 0,
    *,
    min_axis_ratio: float = 1.5,
    size_range: tuple[float, float] = (0.25, 0.45),
    noise: float = 0.03,
    min_contrast: float = 0.45,
) -> CaptionedScenes:
    """``n`` scenes of two shapes, ``size`` x ``size`` pixels, with their captions.

    The geometry (shape, place, size; textured background) comes from
    :func:`course_utils.shapes.make_scenes` with two objects that do not touch; each object is
    then painted a colour from :data:`COLORS` (drawn among those at RGB distance at least
    ``min_contrast`` from the mean background colour around it, or the farthest one), and
    Gaussian noise of standard deviation ``noise`` is added. The relation is read from the
    centres of the two boxes: ``above`` when the vertical offset is at least ``min_axis_ratio``
    times the horizontal one, ``to the left of`` in the opposite case; scenes in between are
    skipped and more are drawn. Returns a :class:`CaptionedScenes`.
    """
    n = _check_int(n, "n", 0)
    size = _check_int(size, "size", 16)
    if not np.isfinite(min_axis_ratio) or min_axis_ratio < 1:
        raise ValueError(f"min_axis_ratio: expected a number >= 1, got {min_axis_ratio!r}")
    if noise < 0:
        raise ValueError(f"noise: expected a value >= 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    names = list(COLORS)
    palette = np.array([COLORS[c] for c in names], np.float32)
    images, captions, colors, kinds, relations, boxes, masks = [], [], [], [], [], [], []
    while len(images) < n:
        batch = max(16, 2 * (n - len(images)))
        scenes = shapes.make_scenes(batch, size=size, max_objects=2, min_objects=2,
                                    seed=int(rng.integers(2**31)), size_range=size_range, noise=0.0)
        for i in range(batch):
            if len(images) == n:
                break
            if len(scenes.labels[i]) != 2:
                continue  # the generator found no room for the second object
            found = _relation(scenes.boxes[i], min_axis_ratio)
            if found is None:
                continue
            subject, rel = found
            order = [subject, 1 - subject]
            img = scenes.images[i].copy()
            background = img[scenes.semantic[i] == 0].mean(axis=0)
            dist = np.sqrt(((palette - background) ** 2).sum(axis=1))
            choices = np.flatnonzero(dist >= min_contrast)
            scene_colors = []
            for k in order:
                c = int(rng.choice(choices)) if len(choices) else int(np.argmax(dist))
                img[scenes.instance_masks[i][k]] = palette[c]
                scene_colors.append(c)
            if noise > 0:
                img += noise * rng.standard_normal(img.shape).astype(np.float32)
            images.append(np.clip(img, 0.0, 1.0))
            labels = [int(scenes.labels[i][k]) for k in order]
            colors.append(scene_colors)
            kinds.append(labels)
            relations.append(rel)
            boxes.append(scenes.boxes[i][order])
            masks.append(scenes.instance_masks[i][order])
            captions.append(caption(names[scene_colors[0]], SHAPES[labels[0]], RELATIONS[rel],
                                    names[scene_colors[1]], SHAPES[labels[1]]))
    return CaptionedScenes(
        images=np.array(images, np.float32).reshape(n, size, size, 3),
        captions=captions,
        colors=np.array(colors, np.int64).reshape(n, 2),
        shapes=np.array(kinds, np.int64).reshape(n, 2),
        relations=np.array(relations, np.int64).reshape(n),
        boxes=np.array(boxes, np.float32).reshape(n, 2, 4),
        masks=np.array(masks, bool).reshape(n, 2, size, size),
    )
