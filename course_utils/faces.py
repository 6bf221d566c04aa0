"""Face-pipeline helpers of notebook 08: synthetic detection scenes, multi-scale sliding-window
detection, similarity alignment from landmarks and verification pairs.

Images are gray float arrays in [0, 1], shaped (H, W) (a batch: (N, H, W)). Boxes are xyxy
pixels as everywhere in the course (``x_max`` one past the last column). Everything is NumPy
(scikit-image for resizing and warping) and seeded: the same arguments give the same result.

* :func:`make_face_scenes` pastes face crops at known boxes and scales into background photos,
  together with non-face patches pasted the same way (distractors), so that "a pasted square" is
  no cue a detector can use.
* :func:`detect_multiscale` turns any dense scorer (a fully convolutional classifier: an image
  in, one score per window position out) into a detector: an image pyramid, windows mapped back
  to boxes in the original image, a score threshold and non-maximum suppression
  (:func:`course_utils.boxes.nms`).
* :func:`similarity_transform` and :func:`align` map landmark points onto a template with a
  rotation, a uniform scale and a shift (least squares), the alignment step of a face pipeline.
* :func:`sample_pairs` draws genuine (same identity) and impostor pairs for verification.
* :func:`verification_split` splits identities into known (trained on) and unseen ones and
  draws the four verification sets (closed/open x validation/test), capped by what exists;
  :func:`pair_scores`, :func:`evaluate_verification` and :func:`bootstrap_verification` score
  an embedding on them (AUC, EER, TAR at a FAR, a threshold chosen on validation, intervals
  from a bootstrap over images).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from . import boxes as _boxes
from .metrics import verification as _ver

__all__ = [
    "FaceScenes", "align", "crop_resize", "detect_multiscale", "make_face_scenes", "random_crops",
    "sample_pairs", "similarity_transform", "VerificationSplit", "verification_split", "pair_scores",
    "evaluate_verification", "bootstrap_verification",
]


def _gray_images(images, name: str, ndim: int) -> np.ndarray:
    arr = np.asarray(images, dtype=np.float32)
    if arr.ndim == ndim + 1 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim != ndim:
        want = "(H, W)" if ndim == 2 else "(N, H, W)"
        raise ValueError(f"{name} must be gray images of shape {want} (or with a last axis of 1), "
                         f"got shape {np.shape(images)}")
    return arr


def _resize(img: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    from skimage.transform import resize

    if img.shape == tuple(shape):
        return img.astype(np.float32)
    smaller = shape[0] < img.shape[0] or shape[1] < img.shape[1]
    return resize(img, shape, order=1, anti_aliasing=smaller, preserve_range=True).astype(np.float32)


# --------------------------------------------------------------------------------------
# Synthetic detection scenes
# --------------------------------------------------------------------------------------
@dataclass
class FaceScenes:
    """A batch of detection scenes.

    ``images`` float32 (n, size, size) in [0, 1]; ``boxes`` list of n float64 arrays (k_i, 4):
    the pasted faces in xyxy pixels; ``distractor_boxes`` the same for the pasted non-face
    patches; ``face_ids`` / ``distractor_ids`` which input patch went where.
    """

    images: np.ndarray
    boxes: list[np.ndarray]
    distractor_boxes: list[np.ndarray]
    face_ids: list[np.ndarray] = field(default_factory=list)
    distractor_ids: list[np.ndarray] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.images)

    def ground_truth(self) -> list[dict]:
        """The faces in the format of :func:`course_utils.metrics.mean_average_precision` (class 0)."""
        return [{"boxes": b, "labels": np.zeros(len(b), np.int64)} for b in self.boxes]


def _count_range(value, name: str) -> tuple[int, int]:
    lo, hi = (value, value) if np.isscalar(value) else tuple(value)
    if int(lo) != lo or int(hi) != hi or not 0 <= lo <= hi:
        raise ValueError(f"{name} must be an int or (min, max) with 0 <= min <= max, got {value!r}")
    return int(lo), int(hi)


def make_face_scenes(
    faces,
    distractors,
    backgrounds: Sequence[np.ndarray],
    n: int,
    size: int = 96,
    face_sizes: tuple[int, int] = (20, 44),
    n_faces=(1, 3),
    n_distractors=(1, 3),
    jitter: float = 0.15,
    seed: int = 0,
) -> FaceScenes:
    """``n`` gray scenes of ``size`` x ``size`` pixels with faces and non-face patches pasted in.

    Each scene is a random ``size`` x ``size`` crop of one of ``backgrounds`` (gray float images
    in [0, 1], each at least ``size`` pixels on both sides). Into it go ``n_faces`` (an int or a
    ``(min, max)`` range) crops drawn from ``faces`` (N, h, w) and ``n_distractors`` from
    ``distractors``, each resized to a random square side in ``face_sizes`` (pixels, inclusive),
    given the same random contrast and brightness change (gain in ``1 +- jitter``, offset in
    ``+- jitter / 2``, then clipped), and pasted where its box does not touch any other. The
    faces' boxes are the ground truth. Both kinds are pasted by the same code, so the border of a
    pasted square says nothing about what is inside. A patch that finds no room after 50 tries is
    left out.
    """
    faces = _gray_images(faces, "faces", 3)
    distractors = _gray_images(distractors, "distractors", 3)
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    if not isinstance(size, (int, np.integer)) or size < 8:
        raise ValueError(f"size must be an int >= 8, got {size!r}")
    lo, hi = face_sizes
    if not 4 <= lo <= hi <= size:
        raise ValueError(f"face_sizes must satisfy 4 <= min <= max <= size={size}, got {face_sizes!r}")
    nf = _count_range(n_faces, "n_faces")
    nd = _count_range(n_distractors, "n_distractors")
    if not backgrounds:
        raise ValueError("backgrounds must hold at least one image")
    bgs = [_gray_images(b, f"backgrounds[{i}]", 2) for i, b in enumerate(backgrounds)]
    for i, b in enumerate(bgs):
        if min(b.shape) < size:
            raise ValueError(f"backgrounds[{i}] is {b.shape}, smaller than size={size}")
    if nf[1] > 0 and len(faces) == 0:
        raise ValueError("faces is empty but n_faces asks for faces")
    if nd[1] > 0 and len(distractors) == 0:
        raise ValueError("distractors is empty but n_distractors asks for some")

    rng = np.random.default_rng(seed)
    images = np.zeros((n, size, size), np.float32)
    all_boxes, all_dboxes, all_fids, all_dids = [], [], [], []
    for s in range(n):
        bg = bgs[int(rng.integers(len(bgs)))]
        r0 = int(rng.integers(bg.shape[0] - size + 1))
        c0 = int(rng.integers(bg.shape[1] - size + 1))
        scene = bg[r0:r0 + size, c0:c0 + size].copy()
        kinds = [0] * int(rng.integers(nf[0], nf[1] + 1)) + [1] * int(rng.integers(nd[0], nd[1] + 1))
        rng.shuffle(kinds)
        placed: list[tuple[float, float, float, float]] = []
        per_kind = {0: ([], []), 1: ([], [])}
        for kind in kinds:
            source = faces if kind == 0 else distractors
            idx = int(rng.integers(len(source)))
            side = int(rng.integers(lo, hi + 1))
            for _ in range(50):
                x0 = int(rng.integers(0, size - side + 1))
                y0 = int(rng.integers(0, size - side + 1))
                box = (x0, y0, x0 + side, y0 + side)
                # at least one pixel apart from every other pasted patch
                if all(box[0] > b[2] or box[2] < b[0] or box[1] > b[3] or box[3] < b[1] for b in placed):
                    break
            else:
                continue
            patch = _resize(source[idx], (side, side))
            gain = 1.0 + rng.uniform(-jitter, jitter)
            offset = rng.uniform(-jitter / 2, jitter / 2)
            scene[y0:y0 + side, x0:x0 + side] = np.clip(patch * gain + offset, 0.0, 1.0)
            placed.append(box)
            per_kind[kind][0].append(box)
            per_kind[kind][1].append(idx)
        images[s] = scene
        all_boxes.append(np.asarray(per_kind[0][0], np.float64).reshape(-1, 4))
        all_dboxes.append(np.asarray(per_kind[1][0], np.float64).reshape(-1, 4))
        all_fids.append(np.asarray(per_kind[0][1], np.int64))
        all_dids.append(np.asarray(per_kind[1][1], np.int64))
    return FaceScenes(images, all_boxes, all_dboxes, all_fids, all_dids)


def random_crops(images: Sequence[np.ndarray], n: int, out_size: int = 24,
                 sizes: tuple[int, int] = (16, 64), seed: int = 0) -> np.ndarray:
    """``n`` random square crops of side in ``sizes`` (pixels) from gray ``images``, resized to
    ``out_size``; float32 (n, out_size, out_size). The negatives of a face/non-face classifier."""
    if not images:
        raise ValueError("images must hold at least one gray image")
    imgs = [_gray_images(im, f"images[{i}]", 2) for i, im in enumerate(images)]
    lo, hi = sizes
    if not 1 <= lo <= hi:
        raise ValueError(f"sizes must satisfy 1 <= min <= max, got {sizes!r}")
    if any(min(im.shape) < lo for im in imgs):
        raise ValueError(f"every image must be at least {lo} pixels on both sides")
    rng = np.random.default_rng(seed)
    out = np.zeros((n, out_size, out_size), np.float32)
    for k in range(n):
        im = imgs[int(rng.integers(len(imgs)))]
        side = int(rng.integers(lo, min(hi, *im.shape) + 1))
        r = int(rng.integers(im.shape[0] - side + 1))
        c = int(rng.integers(im.shape[1] - side + 1))
        out[k] = _resize(im[r:r + side, c:c + side], (out_size, out_size))
    return out


def crop_resize(image, boxes, out_size: int = 24) -> np.ndarray:
    """The xyxy ``boxes`` (k, 4) of a gray ``image`` (H, W), each resized to ``out_size`` square;
    float32 (k, out_size, out_size). Boxes are rounded to whole pixels and clipped to the image."""
    img = _gray_images(image, "image", 2)
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    out = np.zeros((len(b), out_size, out_size), np.float32)
    h, w = img.shape
    for k, (x0, y0, x1, y1) in enumerate(np.round(b).astype(int)):
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if x1 <= x0 or y1 <= y0:
            raise ValueError(f"boxes[{k}] = {b[k].tolist()} lies outside the {w}x{h} image")
        out[k] = _resize(img[y0:y1, x0:x1], (out_size, out_size))
    return out


# --------------------------------------------------------------------------------------
# Multi-scale sliding-window detection
# --------------------------------------------------------------------------------------
def detect_multiscale(
    score_fn: Callable[[np.ndarray], np.ndarray],
    images,
    window: int = 24,
    stride: int = 4,
    sizes: Sequence[float] = (24,),
    threshold: float = 0.5,
    iou_threshold: float = 0.3,
    max_out: int | None = 50,
) -> list[dict]:
    """Run a dense window scorer over an image pyramid; one dict of detections per image.

    ``score_fn`` takes a batch of gray images (N, H', W') and returns (N, h, w) scores, one for
    each ``window`` x ``window`` window whose top-left corner is at ``(stride * j, stride * i)``
    (a fully convolutional classifier with valid padding does exactly this). ``sizes`` are the
    face sizes to look for, in pixels of the original image: for each size ``s`` the images are
    resized by ``window / s`` so that a face of side ``s`` fills one window, and each window is
    mapped back to a box of about ``s`` pixels. Windows scoring at least ``threshold`` from all
    sizes are pooled and class-agnostic greedy NMS (IoU above ``iou_threshold`` is suppressed)
    keeps the best, at most ``max_out``. Returns ``[{"boxes": (k, 4), "scores": (k,), "labels":
    zeros (k,)}, ...]`` in the format of :func:`course_utils.metrics.mean_average_precision`.
    """
    imgs = _gray_images(images, "images", 3)
    if not callable(score_fn):
        raise ValueError(f"score_fn must be callable, got {type(score_fn).__name__}")
    if int(window) != window or window < 1 or int(stride) != stride or stride < 1:
        raise ValueError(f"window and stride must be positive ints, got {window!r}, {stride!r}")
    sizes = np.asarray(sizes, np.float64).reshape(-1)
    if sizes.size == 0 or np.any(sizes <= 0):
        raise ValueError(f"sizes must be positive face sizes in pixels, got {sizes.tolist()}")
    n, h, w = imgs.shape
    found = [([], []) for _ in range(n)]
    for s in sizes:
        f = window / s
        hh, ww = max(1, int(round(h * f))), max(1, int(round(w * f)))
        if hh < window or ww < window:
            continue
        scaled = np.stack([_resize(im, (hh, ww)) for im in imgs]) if (hh, ww) != (h, w) else imgs
        maps = np.asarray(score_fn(scaled), np.float64)
        if maps.ndim == 4 and maps.shape[-1] == 1:
            maps = maps[..., 0]
        gh, gw = (hh - window) // stride + 1, (ww - window) // stride + 1
        if maps.shape[0] != n or maps.shape[1] < gh or maps.shape[2] < gw:
            raise ValueError(f"score_fn returned shape {maps.shape} for input {scaled.shape}; "
                             f"expected ({n}, {gh}, {gw}) window scores")
        maps = maps[:, :gh, :gw]
        fy, fx = hh / h, ww / w
        for k in range(n):
            ii, jj = np.nonzero(maps[k] >= threshold)
            if len(ii) == 0:
                continue
            x0, y0 = jj * stride / fx, ii * stride / fy
            bxs = np.stack([x0, y0, x0 + window / fx, y0 + window / fy], axis=1)
            found[k][0].append(bxs)
            found[k][1].append(maps[k][ii, jj])
    out = []
    for bxs, scs in found:
        if bxs:
            b, sc = np.concatenate(bxs), np.concatenate(scs)
            keep = _boxes.nms(b, sc, iou_threshold=iou_threshold, max_out=max_out)
            b, sc = b[keep], sc[keep]
        else:
            b, sc = np.zeros((0, 4)), np.zeros(0)
        out.append({"boxes": b, "scores": sc, "labels": np.zeros(len(b), np.int64)})
    return out


# --------------------------------------------------------------------------------------
# Alignment
# --------------------------------------------------------------------------------------
def _points(p, name: str) -> np.ndarray:
    arr = np.asarray(p, np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2 or len(arr) < 2:
        raise ValueError(f"{name} must be (k, 2) points (x, y) with k >= 2, got shape {arr.shape}")
    return arr


def similarity_transform(src, dst) -> np.ndarray:
    """The least-squares similarity (rotation, uniform scale, shift) taking ``src`` onto ``dst``.

    ``src`` and ``dst`` are (k, 2) corresponding points (x, y), k >= 2. Writing the map as
    ``x' = a x - b y + t_x``, ``y' = b x + a y + t_y`` (scale ``sqrt(a^2 + b^2)``, angle
    ``atan2(b, a)``), every point gives two linear equations in ``(a, b, t_x, t_y)``, solved by
    least squares. Returns the 3x3 homogeneous matrix ``[[a, -b, t_x], [b, a, t_y], [0, 0, 1]]``,
    the same as ``skimage.transform.SimilarityTransform`` estimated from the same points. That
    estimate is Umeyama's (1991) closed-form least-squares similarity; in 2-D every similarity
    without reflection is this matrix for some ``(a, b)``, linear in ``(a, b, t_x, t_y)``, so the
    linear least-squares optimum over these four numbers is the same optimum (S. Umeyama,
    "Least-squares estimation of transformation parameters between two point patterns",
    IEEE TPAMI 13(4):376-380, 1991).
    """
    s, d = _points(src, "src"), _points(dst, "dst")
    if s.shape != d.shape:
        raise ValueError(f"src and dst must have the same shape, got {s.shape} and {d.shape}")
    k = len(s)
    a_mat = np.zeros((2 * k, 4))
    a_mat[0::2] = np.column_stack([s[:, 0], -s[:, 1], np.ones(k), np.zeros(k)])
    a_mat[1::2] = np.column_stack([s[:, 1], s[:, 0], np.zeros(k), np.ones(k)])
    (a, b, tx, ty), *_ = np.linalg.lstsq(a_mat, d.reshape(-1), rcond=None)
    return np.array([[a, -b, tx], [b, a, ty], [0.0, 0.0, 1.0]])


def align(image, landmarks, template, output_shape: tuple[int, int]) -> np.ndarray:
    """Warp ``image`` so that its ``landmarks`` land on ``template`` (both (k, 2) points (x, y)).

    The similarity of :func:`similarity_transform` maps image points to output points; the
    output (``output_shape`` = (height, width), float32) samples the image at the inverse map
    (bilinear, zero outside). Works on (H, W) and (H, W, C) images.
    """
    from skimage.transform import AffineTransform, warp

    img = np.asarray(image, np.float32)
    if img.ndim not in (2, 3):
        raise ValueError(f"image must be (H, W) or (H, W, C), got shape {img.shape}")
    matrix = similarity_transform(landmarks, template)
    tform = AffineTransform(matrix=matrix)
    return warp(img, tform.inverse, output_shape=tuple(output_shape), order=1, mode="constant",
                cval=0.0, preserve_range=True).astype(np.float32)


# --------------------------------------------------------------------------------------
# Verification pairs
# --------------------------------------------------------------------------------------
def sample_pairs(labels, n_pairs: int | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs ``(i, j, same)`` for verification from identity ``labels`` (N,).

    ``n_pairs=None`` returns every unordered pair ``i < j`` once (``same`` is True where the two
    labels agree). An int returns ``n_pairs // 2`` genuine and ``n_pairs - n_pairs // 2``
    impostor pairs drawn without repeats (as many as exist when there are fewer), shuffled with
    ``seed``. Returns int64 ``i``, ``j`` and bool ``same``, all of shape (P,).
    """
    y = np.asarray(labels).reshape(-1)
    if len(y) < 2:
        raise ValueError(f"labels must hold at least 2 items, got {len(y)}")
    i, j = np.triu_indices(len(y), k=1)
    same = y[i] == y[j]
    if n_pairs is None:
        return i.astype(np.int64), j.astype(np.int64), same
    if int(n_pairs) != n_pairs or n_pairs < 2:
        raise ValueError(f"n_pairs must be None or an int >= 2, got {n_pairs!r}")
    rng = np.random.default_rng(seed)
    gen, imp = np.flatnonzero(same), np.flatnonzero(~same)
    take_g = rng.choice(gen, size=min(len(gen), int(n_pairs) // 2), replace=False)
    take_i = rng.choice(imp, size=min(len(imp), int(n_pairs) - int(n_pairs) // 2), replace=False)
    sel = rng.permutation(np.concatenate([take_g, take_i]))
    return i[sel].astype(np.int64), j[sel].astype(np.int64), same[sel]


@dataclass
class VerificationSplit:
    """Known identities and the four verification sets of notebook 08.

    ``known``: identity ids trained on (sorted); ``train_mask``: bool (N_train,) over the training
    split, True for images of known identities; ``sets``: name -> ``(split, indices)``, with split
    ``"train"`` or ``"held"`` saying which array the int64 indices point into. Names:
    ``closed_val``/``closed_test`` (held-out images of known identities, one half each),
    ``open_val`` (unseen identities, training split), ``open_test`` (unseen identities, held-out
    split).
    """

    known: np.ndarray
    train_mask: np.ndarray
    sets: dict = field(default_factory=dict)


def verification_split(y_train, y_held, n_eval: int, known_share: float = 0.7,
                       seed: int = 0) -> VerificationSplit:
    """Split identities and draw verification sets, never asking for more images than exist.

    y_train (N,), y_held (M,): identity labels of the training and held-out splits. The first
    ``round(known_share * K)`` of the K identities of ``y_train`` (sorted) are *known*. The
    held-out images of known identities are shuffled, at most ``2 * n_eval`` kept and split in
    two equal halves (validation, test), so a small hold-out (LFW: about 586 images for 43
    people) shrinks both halves instead of leaving the test half empty. The open sets take at
    most ``n_eval`` images of the unseen identities from each split. Raises ``ValueError`` when a
    set would hold fewer than 2 images or fewer than 2 identities.
    """
    y_train, y_held = np.asarray(y_train).reshape(-1), np.asarray(y_held).reshape(-1)
    if int(n_eval) != n_eval or n_eval < 2:
        raise ValueError(f"n_eval: expected an int >= 2, got {n_eval!r}")
    if not 0 < known_share < 1:
        raise ValueError(f"known_share: expected a number in (0, 1), got {known_share!r}")
    identities = np.unique(y_train)
    n_known = int(round(known_share * len(identities)))
    if not 2 <= n_known <= len(identities) - 2:
        raise ValueError(f"y_train: expected enough identities for 2 known and 2 unseen at known_share="
                         f"{known_share}, got {len(identities)}")
    known = identities[:n_known]
    train_mask = np.isin(y_train, known)
    rng = np.random.default_rng(seed)
    closed = rng.permutation(np.flatnonzero(np.isin(y_held, known)))[: 2 * int(n_eval)]
    half = len(closed) // 2
    open_val = rng.permutation(np.flatnonzero(~train_mask))[: int(n_eval)]
    open_test = rng.permutation(np.flatnonzero(~np.isin(y_held, known)))[: int(n_eval)]
    sets = {"closed_val": ("held", closed[:half]), "closed_test": ("held", closed[half:2 * half]),
            "open_val": ("train", open_val), "open_test": ("held", open_test)}
    for name, (split, idx) in sets.items():
        labels = (y_train if split == "train" else y_held)[idx]
        if len(idx) < 2 or len(np.unique(labels)) < 2:
            raise ValueError(f"y_held: the set {name} would hold {len(idx)} images of "
                             f"{len(np.unique(labels))} identities; expected at least 2 of each")
    return VerificationSplit(known, train_mask, {k: (s, v.astype(np.int64)) for k, (s, v) in sets.items()})


def _unit_rows(emb) -> np.ndarray:
    e = np.asarray(emb, np.float64)
    if e.ndim < 2 or len(e) < 2:
        raise ValueError(f"emb: expected (N, ...) embeddings with N >= 2, got shape {e.shape}")
    e = e.reshape(len(e), -1)
    return e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)


def pair_scores(emb, pairs) -> np.ndarray:
    """Cosine similarity of each pair: emb (N, D) (or (N, ...), flattened), pairs ``(i, j, same)``
    as from :func:`sample_pairs` -> float64 (P,), higher = more alike."""
    e = _unit_rows(emb)
    i, j = np.asarray(pairs[0]), np.asarray(pairs[1])
    return np.sum(e[i] * e[j], axis=1)


def _summary(same: np.ndarray, s: np.ndarray, fars: Sequence[float]) -> dict:
    out = {"auc": _ver.roc_auc(same, s), "eer": _ver.eer(same, s).rate}
    for f in fars:
        out[f"tar@{f:g}"] = _ver.tar_at_far(same, s, f)[0]
    return out


def evaluate_verification(emb_val, y_val, emb_test, y_test, fars: Sequence[float] = (1e-2, 1e-3)) -> dict:
    """Score an embedding on one validation and one test set, every pair within each set.

    emb_* (N, D) embeddings, y_* (N,) identities. Returns ``val_auc`` (for choosing a model),
    the test ``auc``, ``eer``, ``tar@<far>`` for each FAR, the cosine ``threshold`` of best
    accuracy chosen on the validation pairs and, at that threshold, ``val_accuracy`` and the
    test ``accuracy``, ``far`` and ``frr``, and the pair counts ``n_genuine``/``n_impostor``.
    """
    if len(emb_val) != len(y_val) or len(emb_test) != len(y_test):
        raise ValueError(f"emb_val/y_val, emb_test/y_test: expected equal lengths, got {len(emb_val)}/{len(y_val)}, "
                         f"{len(emb_test)}/{len(y_test)}")
    pv, pt = sample_pairs(y_val), sample_pairs(y_test)
    sv, st = pair_scores(emb_val, pv), pair_scores(emb_test, pt)
    t = _ver.choose_threshold(pv[2], sv, "accuracy")
    far, frr = _ver.far_frr(pt[2], st, t)
    out = {"val_auc": _ver.roc_auc(pv[2], sv), **_summary(pt[2], st, fars), "threshold": t,
           "val_accuracy": _ver.verification_accuracy(pv[2], sv, t),
           "accuracy": _ver.verification_accuracy(pt[2], st, t), "far": far, "frr": frr,
           "n_genuine": int(pt[2].sum()), "n_impostor": int((~pt[2]).sum())}
    return out


def bootstrap_verification(emb, labels, n_boot: int = 200, level: float = 0.95, seed: int = 0,
                           fars: Sequence[float] = (1e-2, 1e-3)) -> dict:
    """Percentile bootstrap intervals of AUC, EER and TAR at each FAR, resampling *images*.

    Pairs that share an image are not independent, so the unit of resampling is the image: each
    round draws N images with replacement and scores every pair of two distinct drawn images
    (a drawn image is never paired with its own copy). emb (N, D), labels (N,). Returns
    name -> ``(low, high)`` at ``level`` for ``auc``, ``eer`` and ``tar@<far>``.
    """
    y = np.asarray(labels).reshape(-1)
    e = _unit_rows(emb)
    if len(e) != len(y):
        raise ValueError(f"labels: expected {len(e)} labels (one per embedding), got {len(y)}")
    if int(n_boot) != n_boot or n_boot < 2:
        raise ValueError(f"n_boot: expected an int >= 2, got {n_boot!r}")
    if not 0 < level < 1:
        raise ValueError(f"level: expected a number in (0, 1), got {level!r}")
    gram = e @ e.T
    i, j = np.triu_indices(len(y), k=1)
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(int(n_boot)):
        idx = rng.integers(0, len(y), size=len(y))
        a, b = idx[i], idx[j]
        keep = a != b
        a, b = a[keep], b[keep]
        same = y[a] == y[b]
        if same.all() or not same.any():
            continue
        rows.append(_summary(same, gram[a, b], fars))
    if not rows:
        raise ValueError("labels: every bootstrap round had only genuine or only impostor pairs")
    q = [(1 - level) / 2 * 100, (1 + level) / 2 * 100]
    return {k: tuple(float(v) for v in np.percentile([r[k] for r in rows], q)) for k in rows[0]}
