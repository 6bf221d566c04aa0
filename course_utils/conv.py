"""Reference NumPy implementations of 2-D convolution, pooling and their adjoints.

Notebook 01 teaches these functions and later notebooks reuse them (notebook 04 uses
:func:`conv2d_transpose`). Every function follows Keras exactly: images are NHWC
``(batch, height, width, channels)``; a convolution kernel is HWIO
``(kernel_h, kernel_w, in_channels, out_channels)`` as in ``keras.layers.Conv2D``;
``'valid'`` means no padding and ``'same'`` pads like TensorFlow, with
``pad_total = max((ceil(n/s) - 1)*s + (k - 1)*d + 1 - n, 0)`` split as
``pad_total // 2`` before and the rest (one more pixel when it is odd) after.
``'full'`` (pad ``(k - 1)*d`` on both sides, as ``scipy.signal.correlate2d(mode='full')``)
is accepted by the convolution functions too; Keras layers do not offer it.

Like every deep-learning library, :func:`conv2d` computes a cross-correlation,
``y[n, i, j, f] = b[f] + sum_{p, q, c} x_pad[n, i*s + p*d, j*s + q*d, c] * w[p, q, c, f]``,
with no kernel flip. NumPy in, NumPy out; nothing here imports TensorFlow.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

PADDINGS = ("valid", "same", "full")
IntPair = int | Sequence[int]

__all__ = [
    "PADDINGS",
    "col2im",
    "conv2d",
    "conv2d_backward",
    "conv2d_loops",
    "conv2d_transpose",
    "conv_output_size",
    "conv_transpose_output_size",
    "im2col",
    "padding_amounts",
    "pool2d",
]


# ----------------------------------------------------------------------------- checks
def _pair(value: IntPair, name: str, minimum: int = 1) -> tuple[int, int]:
    """``value`` as a pair of ints >= ``minimum``; ``ValueError`` naming ``name`` otherwise."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        pair = (int(value), int(value))
    elif (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)
    ):
        pair = (int(value[0]), int(value[1]))
    else:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return pair


def _padding(padding: str, allowed: Sequence[str] = PADDINGS) -> str:
    if not isinstance(padding, str) or padding.lower() not in allowed:
        raise ValueError(f"padding must be one of {', '.join(map(repr, allowed))}, got {padding!r}")
    return padding.lower()


def _image(x: np.ndarray, name: str = "x") -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(
            f"{name} must be a 4-D NHWC array (batch, height, width, channels), got shape {x.shape}"
        )
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float32)
    return x


def _kernel(w: np.ndarray, channels: int, name: str = "w", axis: int = 2) -> np.ndarray:
    w = np.asarray(w)
    if w.ndim != 4:
        raise ValueError(
            f"{name} must be a 4-D kernel (kernel_h, kernel_w, in_channels, out_channels), "
            f"got shape {w.shape}"
        )
    if w.shape[axis] != channels:
        raise ValueError(
            f"{name} has {w.shape[axis]} channels on axis {axis} but the input has {channels} "
            f"(got {name}.shape={w.shape})"
        )
    return w


def _bias(b: np.ndarray | None, filters: int) -> np.ndarray | None:
    if b is None:
        return None
    b = np.asarray(b)
    if b.shape != (filters,):
        raise ValueError(f"b must have shape ({filters},), one value per filter, got {b.shape}")
    return b


def _float_type(*arrays: np.ndarray) -> np.dtype:
    return np.result_type(np.float32, *[a.dtype for a in arrays if a is not None])


# ----------------------------------------------------------------------------- sizes
def padding_amounts(
    n: int, k: int, padding: str, stride: int = 1, dilation: int = 1
) -> tuple[int, int]:
    """Pixels padded ``(before, after)`` along one axis of length ``n``.

    ``k`` is the kernel size, ``stride`` and ``dilation`` as in Keras. ``'valid'`` pads
    nothing; ``'same'`` pads TensorFlow's way so that the output has ``ceil(n / stride)``
    pixels, the odd pixel going after; ``'full'`` pads ``(k - 1) * dilation`` on both sides.
    """
    padding = _padding(padding)
    for value, name in ((n, "n"), (k, "k"), (stride, "stride"), (dilation, "dilation")):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    k_eff = (k - 1) * dilation + 1
    if padding == "valid":
        return 0, 0
    if padding == "full":
        return k_eff - 1, k_eff - 1
    total = max((math.ceil(n / stride) - 1) * stride + k_eff - n, 0)
    return total // 2, total - total // 2


def conv_output_size(n: int, k: int, padding: str, stride: int = 1, dilation: int = 1) -> int:
    """Output length of a convolution or pooling along one axis.

    ``n`` input pixels, kernel size ``k``, padding ``'valid'``, ``'same'`` or ``'full'``.
    With the dilated kernel size ``k_eff = (k - 1) * dilation + 1`` and padding ``P``
    (before plus after) the size is ``floor((n + P - k_eff) / stride) + 1``, which is
    ``ceil(n / stride)`` for ``'same'``. Returns 0 when the kernel does not fit.

    >>> conv_output_size(32, 3, "valid"), conv_output_size(32, 3, "same", stride=2)
    (30, 16)
    """
    before, after = padding_amounts(n, k, padding, stride, dilation)
    k_eff = (k - 1) * dilation + 1
    span = n + before + after - k_eff
    return span // stride + 1 if span >= 0 else 0


def conv_transpose_output_size(
    n: int,
    k: int,
    padding: str,
    stride: int = 1,
    dilation: int = 1,
    output_padding: int | None = None,
) -> int:
    """Output length of a transposed convolution along one axis, exactly as Keras.

    ``'valid'``: ``(n - 1) * stride + k_eff + output_padding``, where ``output_padding``
    ``None`` means ``max(k_eff, stride) - k_eff``; ``'same'``: ``n * stride`` when
    ``output_padding`` is ``None``, else ``(n - 1) * stride + k_eff % 2 + output_padding``.
    """
    padding = _padding(padding, ("valid", "same"))
    _pair(stride, "stride")
    _pair(dilation, "dilation")
    if output_padding is not None:
        _pair(output_padding, "output_padding", minimum=0)
        if output_padding >= stride:
            raise ValueError(
                f"output_padding must be smaller than the stride ({stride}), got {output_padding}"
            )
    k_eff = (k - 1) * dilation + 1
    if padding == "valid":
        op = max(k_eff, stride) - k_eff if output_padding is None else output_padding
        return (n - 1) * stride + k_eff + op
    if output_padding is None:
        return n * stride
    return (n - 1) * stride + k_eff % 2 + output_padding


# ----------------------------------------------------------------------------- im2col
def im2col(
    x: np.ndarray,
    kernel_size: IntPair,
    strides: IntPair = 1,
    padding: str = "valid",
    dilation_rate: IntPair = 1,
    pad_value: float = 0.0,
) -> np.ndarray:
    """Every receptive-field patch of ``x`` as one row: shape ``(N, OH, OW, kh*kw*C)``.

    ``x`` is NHWC ``(N, H, W, C)``. Row ``[n, i, j]`` holds the pixels the kernel sees
    at output position ``(i, j)``, ordered ``(p, q, c)`` like ``w.reshape(-1, filters)``
    for an HWIO kernel, so a convolution is one matrix product
    ``im2col(x, ...) @ w.reshape(-1, filters)``. Padded pixels hold ``pad_value``
    (``-inf`` for max pooling).
    """
    x = _image(x)
    kh, kw = _pair(kernel_size, "kernel_size")
    sh, sw = _pair(strides, "strides")
    dh, dw = _pair(dilation_rate, "dilation_rate")
    padding = _padding(padding)
    n, h, w, c = x.shape
    oh = conv_output_size(h, kh, padding, sh, dh)
    ow = conv_output_size(w, kw, padding, sw, dw)
    if oh < 1 or ow < 1:
        raise ValueError(
            f"x of height x width {h}x{w} is smaller than the dilated kernel "
            f"{(kh - 1) * dh + 1}x{(kw - 1) * dw + 1} with padding {padding!r}"
        )
    (top, bottom), (left, right) = padding_amounts(h, kh, padding, sh, dh), padding_amounts(
        w, kw, padding, sw, dw
    )
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=pad_value)
    cols = np.empty((n, oh, ow, kh, kw, c), dtype=x.dtype)
    for p in range(kh):
        for q in range(kw):
            r0, c0 = p * dh, q * dw
            cols[:, :, :, p, q, :] = xp[
                :, r0 : r0 + sh * (oh - 1) + 1 : sh, c0 : c0 + sw * (ow - 1) + 1 : sw, :
            ]
    return cols.reshape(n, oh, ow, kh * kw * c)


def col2im(
    cols: np.ndarray,
    input_shape: Sequence[int],
    kernel_size: IntPair,
    strides: IntPair = 1,
    padding: str = "valid",
    dilation_rate: IntPair = 1,
) -> np.ndarray:
    """The adjoint of :func:`im2col`: add every patch row back into an image of ``input_shape``.

    ``cols`` has shape ``(N, OH, OW, kh*kw*C)``; the result has ``input_shape``
    ``(N, H, W, C)``. Pixels covered by several patches receive the sum of their
    contributions; contributions that fall into the padding are dropped. For any
    ``x`` and ``g``: ``sum(im2col(x) * g) == sum(x * col2im(g))``.
    """
    if len(input_shape) != 4:
        raise ValueError(f"input_shape must be (N, H, W, C), got {tuple(input_shape)}")
    n, h, w, c = (int(v) for v in input_shape)
    kh, kw = _pair(kernel_size, "kernel_size")
    sh, sw = _pair(strides, "strides")
    dh, dw = _pair(dilation_rate, "dilation_rate")
    padding = _padding(padding)
    oh = conv_output_size(h, kh, padding, sh, dh)
    ow = conv_output_size(w, kw, padding, sw, dw)
    cols = np.asarray(cols)
    if cols.shape != (n, oh, ow, kh * kw * c):
        raise ValueError(
            f"cols must have shape {(n, oh, ow, kh * kw * c)} for input_shape {tuple(input_shape)}, "
            f"got {cols.shape}"
        )
    (top, bottom), (left, right) = padding_amounts(h, kh, padding, sh, dh), padding_amounts(
        w, kw, padding, sw, dw
    )
    xp = np.zeros((n, h + top + bottom, w + left + right, c), dtype=_float_type(cols))
    patches = cols.reshape(n, oh, ow, kh, kw, c)
    for p in range(kh):
        for q in range(kw):
            r0, c0 = p * dh, q * dw
            xp[:, r0 : r0 + sh * (oh - 1) + 1 : sh, c0 : c0 + sw * (ow - 1) + 1 : sw, :] += patches[
                :, :, :, p, q, :
            ]
    return xp[:, top : top + h, left : left + w, :]


# ----------------------------------------------------------------------------- convolution
def conv2d_loops(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    strides: IntPair = 1,
    padding: str = "valid",
    dilation_rate: IntPair = 1,
) -> np.ndarray:
    """2-D cross-correlation written with plain loops, to read rather than to run.

    Same arguments and result as :func:`conv2d`: ``x`` NHWC ``(N, H, W, C)``, ``w`` HWIO
    ``(kh, kw, C, F)``, optional bias ``b`` ``(F,)``; returns ``(N, OH, OW, F)``.
    """
    x = _image(x)
    w = _kernel(w, x.shape[3])
    b = _bias(b, w.shape[3])
    kh, kw, _, filters = w.shape
    sh, sw = _pair(strides, "strides")
    dh, dw = _pair(dilation_rate, "dilation_rate")
    padding = _padding(padding)
    n, h, wd, _ = x.shape
    oh, ow = conv_output_size(h, kh, padding, sh, dh), conv_output_size(wd, kw, padding, sw, dw)
    if oh < 1 or ow < 1:
        raise ValueError(f"x of size {h}x{wd} is smaller than the dilated kernel")
    top, bottom = padding_amounts(h, kh, padding, sh, dh)
    left, right = padding_amounts(wd, kw, padding, sw, dw)
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    y = np.zeros((n, oh, ow, filters), dtype=_float_type(x, w))
    for img in range(n):
        for i in range(oh):
            for j in range(ow):
                # the (dilated) window the kernel sees at output pixel (i, j): (kh, kw, C)
                patch = xp[img, i * sh : i * sh + (kh - 1) * dh + 1 : dh,
                           j * sw : j * sw + (kw - 1) * dw + 1 : dw, :]
                for f in range(filters):
                    y[img, i, j, f] = np.sum(patch * w[:, :, :, f])
    return y if b is None else y + b


def conv2d(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    strides: IntPair = 1,
    padding: str = "valid",
    dilation_rate: IntPair = 1,
) -> np.ndarray:
    """2-D cross-correlation (a Keras ``Conv2D`` without activation), vectorised with im2col.

    ``x`` NHWC ``(N, H, W, C)``; ``w`` HWIO ``(kh, kw, C, F)``; optional bias ``b`` ``(F,)``;
    ``strides`` and ``dilation_rate`` ints or pairs; ``padding`` ``'valid'``, ``'same'``
    (TensorFlow's asymmetric rule) or ``'full'``. Returns ``(N, OH, OW, F)`` with
    ``OH = conv_output_size(H, kh, padding, stride, dilation)``.
    """
    x = _image(x)
    w = _kernel(w, x.shape[3])
    b = _bias(b, w.shape[3])
    kh, kw, c, filters = w.shape
    cols = im2col(x, (kh, kw), strides, padding, dilation_rate)
    y = cols @ w.reshape(kh * kw * c, filters).astype(_float_type(x, w), copy=False)
    return y if b is None else y + b


def conv2d_backward(
    x: np.ndarray,
    w: np.ndarray,
    dy: np.ndarray,
    strides: IntPair = 1,
    padding: str = "valid",
    dilation_rate: IntPair = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of a loss through ``y = conv2d(x, w, ...)``: returns ``(dL/dx, dL/dw)``.

    ``dy`` is the upstream gradient ``dL/dy`` with the shape of ``y`` ``(N, OH, OW, F)``.
    ``dL/dw[p, q, c, f] = sum_{n, i, j} x_pad[n, i*s + p*d, j*s + q*d, c] * dy[n, i, j, f]``
    (a correlation of the input with the upstream gradient) and ``dL/dx`` is the full
    convolution of ``dy`` with the flipped kernel, which is the transposed convolution
    ``col2im(dy @ w.T)``. The bias gradient is simply ``dy.sum(axis=(0, 1, 2))``.
    """
    x = _image(x)
    w = _kernel(w, x.shape[3])
    kh, kw, c, filters = w.shape
    cols = im2col(x, (kh, kw), strides, padding, dilation_rate)
    dy = np.asarray(dy)
    if dy.shape != cols.shape[:3] + (filters,):
        raise ValueError(
            f"dy must have the shape of the convolution's output {cols.shape[:3] + (filters,)}, "
            f"got {dy.shape}"
        )
    w2 = w.reshape(kh * kw * c, filters)
    dw = (cols.reshape(-1, kh * kw * c).T @ dy.reshape(-1, filters)).reshape(w.shape)
    dx = col2im(dy @ w2.T, x.shape, (kh, kw), strides, padding, dilation_rate)
    return dx, dw


def conv2d_transpose(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    strides: IntPair = 1,
    padding: str = "valid",
    output_padding: IntPair | None = None,
    dilation_rate: IntPair = 1,
) -> np.ndarray:
    """Transposed convolution, exactly as ``keras.layers.Conv2DTranspose`` (no activation).

    ``x`` NHWC ``(N, H, W, C_in)``; ``w`` has Keras's ``Conv2DTranspose`` kernel shape
    ``(kh, kw, F, C_in)`` - output channels before input channels, because it is the same
    tensor as the kernel of the forward convolution ``conv2d(., w)`` from ``F`` to ``C_in``
    channels whose adjoint this is. Optional bias ``b`` ``(F,)``. The output size follows
    :func:`conv_transpose_output_size`; ``padding`` is ``'valid'`` or ``'same'``. Each input
    pixel scatters a copy of the kernel scaled by its value into the output, ``strides``
    pixels apart, and overlapping copies add up.
    """
    x = _image(x)
    w = _kernel(w, x.shape[3], axis=3)
    kh, kw, filters, c_in = w.shape
    b = _bias(b, filters)
    padding = _padding(padding, ("valid", "same"))
    sh, sw = _pair(strides, "strides")
    dh, dw = _pair(dilation_rate, "dilation_rate")
    if output_padding is None:
        oph = opw = None
    else:
        oph, opw = _pair(output_padding, "output_padding", minimum=0)
    n, h, wd, _ = x.shape
    out_h = conv_transpose_output_size(h, kh, padding, sh, dh, oph)
    out_w = conv_transpose_output_size(wd, kw, padding, sw, dw, opw)
    # The forward convolution of an (out_h, out_w) image must give back (h, wd) pixels.
    if (conv_output_size(out_h, kh, padding, sh, dh), conv_output_size(out_w, kw, padding, sw, dw)) != (h, wd):
        raise ValueError(
            f"output_padding={output_padding!r} gives an output of {out_h}x{out_w}, whose "
            f"convolution with padding {padding!r} is not {h}x{wd}; choose another output_padding"
        )
    cols = x @ w.reshape(kh * kw * filters, c_in).T.astype(_float_type(x, w), copy=False)
    y = col2im(cols, (n, out_h, out_w, filters), (kh, kw), (sh, sw), padding, (dh, dw))
    return y if b is None else y + b


# ----------------------------------------------------------------------------- pooling
def pool2d(
    x: np.ndarray,
    pool_size: IntPair = 2,
    strides: IntPair | None = None,
    padding: str = "valid",
    mode: str = "max",
) -> np.ndarray:
    """Max or average pooling, as ``keras.layers.MaxPooling2D`` / ``AveragePooling2D``.

    ``x`` NHWC ``(N, H, W, C)``; each channel is pooled on its own over windows of
    ``pool_size`` moved by ``strides`` (``None`` means ``pool_size``, as in Keras).
    With ``'same'`` padding the padded cells never count: max ignores them and the
    average divides by the number of real pixels in the window. Returns ``(N, OH, OW, C)``.
    """
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    x = _image(x)
    ph, pw = _pair(pool_size, "pool_size")
    strides = (ph, pw) if strides is None else _pair(strides, "strides")
    padding = _padding(padding, ("valid", "same"))
    n, h, w, c = x.shape
    if mode == "max":
        cols = im2col(x, (ph, pw), strides, padding, pad_value=-np.inf)
        return cols.reshape(cols.shape[:3] + (ph * pw, c)).max(axis=3)
    cols = im2col(x, (ph, pw), strides, padding)
    sums = cols.reshape(cols.shape[:3] + (ph * pw, c)).sum(axis=3)
    counts = im2col(np.ones((1, h, w, 1), dtype=x.dtype), (ph, pw), strides, padding).sum(axis=3)
    return sums / counts[..., None]
