"""Restoration models and classical baselines shared by notebook 07 and its course-weight recipe.

One definition of each network, used both by the notebook (which prints the source with
``inspect.getsource`` and trains a small budget version) and by the command that trains the
course weights (``python -m course_utils.pretrain denoiser|espcn``). Inputs follow one
convention: grayscale float32 in [0, 1], NHWC with one channel, any height and width.

* ``build_dncnn``: DnCNN-style residual denoiser (Zhang et al. 2017). The network predicts the
  noise and the model returns ``noisy - noise``, the clean estimate.
* ``build_espcn``: ESPCN super-resolution (Shi et al. 2016): convolutions at low resolution, then
  a sub-pixel convolution (``depth_to_space``) to the x ``scale`` image, plus the bilinear
  upscaling of the input (a global residual, so the network only adds the missing detail).
* ``build_inpaint_unet``: a small U-Net (Ronneberger et al. 2015) that fills the masked pixels;
  its input is the image with the hole set to 0 plus the mask, its output keeps the known
  pixels, so a plain MSE on the output is a loss on the hole only.
* ``denoise_baseline``: the classical denoisers (Gaussian, median, total variation, non-local
  means) with the settings tuned on the training photos.

Importing this module imports Keras (it registers the two small layers the denoiser uses to
accept odd image sizes, and on a Keras older than 3.11 adds the two block ops the networks use:
:func:`course_utils.compat.add_missing_ops`), so ``import course_utils.restoration`` before
``keras.models.load_model`` on a saved denoiser. ``import course_utils`` alone stays light.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from . import compat

compat.add_missing_ops()  # Keras before 3.11 has no keras.ops.depth_to_space / space_to_depth

__all__ = [
    "BASELINE_SETTINGS",
    "NLM_PATCH",
    "TV_SOLVER",
    "build_dncnn",
    "build_espcn",
    "build_inpaint_unet",
    "denoise_baseline",
    "estimate_noise_sigma",
    "predict_image",
]


@keras.saving.register_keras_serializable(package="course_utils")
class PadToEven(keras.layers.Layer):
    """Reflect-pad H and W at the bottom/right to even sizes.

    Lets a model that works on 2x2 pixel blocks accept any height and width; ``CropLike`` cuts
    the output back to the input size.
    """

    def call(self, x):
        ops = keras.ops
        h, w = ops.shape(x)[1], ops.shape(x)[2]
        x = ops.concatenate([x, ops.flip(x[:, -2:-1], axis=1)], axis=1)[:, : h + h % 2]
        return ops.concatenate([x, ops.flip(x[:, :, -2:-1], axis=2)], axis=2)[:, :, : w + w % 2]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], None, None, input_shape[3])


@keras.saving.register_keras_serializable(package="course_utils")
class CropLike(keras.layers.Layer):
    """Crop the first input to the height and width of the second."""

    def call(self, inputs):
        x, ref = inputs
        shape = keras.ops.shape(ref)
        return x[:, : shape[1], : shape[2]]

    def compute_output_shape(self, input_shapes):
        return tuple(input_shapes[1][:3]) + (input_shapes[0][3],)


@keras.saving.register_keras_serializable(package="course_utils")
class BilinearUpsample(keras.layers.Layer):
    """Bilinear upscaling by an integer ``scale`` (``tf.image.resize``, half-pixel centres).

    The same numbers as ``layers.UpSampling2D(scale, interpolation="bilinear")``, but it also
    works when height and width are unknown until run time (any input size).
    """

    def __init__(self, scale: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.scale = int(scale)

    def call(self, x):
        import tensorflow as tf

        shape = keras.ops.shape(x)
        size = tf.stack([shape[1] * self.scale, shape[2] * self.scale])
        return tf.image.resize(x, size, method="bilinear")

    def compute_output_shape(self, input_shape):
        return (input_shape[0], None, None, input_shape[3])

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


def build_dncnn(depth: int = 9, filters: int = 48, channels: int = 1, block: int = 2,
                name: str = "dncnn"):
    """DnCNN-style denoiser: ``depth`` 3x3 conv layers, residual learning, batch norm.

    Layer 1 is Conv+ReLU, layers 2..depth-1 are Conv+BatchNorm+ReLU, the last Conv estimates the
    noise v(y); the model outputs ``y - v(y)`` (residual learning). With ``block=2`` the
    convolutions run on the image rearranged into 2x2 pixel blocks (``space_to_depth``: H/2 x W/2
    x 4 channels, as in FFDNet) and the noise estimate is put back with ``depth_to_space``: four
    times fewer operations per pixel and twice the receptive field, which is what makes CPU
    training feasible. ``block=1`` is the original DnCNN. The last layer starts at zero, so the
    untrained model is the identity. Input and output: (N, H, W, channels)
    float32, any H and W (odd sizes are reflect-padded inside the model and cropped back); the
    output is float32 under any dtype policy, mixed precision included.
    """
    import keras
    from keras import layers

    if depth < 3:
        raise ValueError(f"depth must be >= 3; got {depth!r}")
    if block not in (1, 2):
        raise ValueError(f"block must be 1 or 2; got {block!r}")
    noisy = keras.Input(shape=(None, None, channels), name="noisy")
    h = noisy
    if block > 1:
        h = PadToEven(name="pad_to_even")(noisy)
        h = keras.ops.space_to_depth(h, block)  # (N, H, W, C) -> (N, H/2, W/2, 4C)
    h = layers.Conv2D(filters, 3, padding="same", activation="relu", name="conv1")(h)
    for i in range(2, depth):
        h = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{i}")(h)
        h = layers.BatchNormalization(name=f"bn{i}")(h)
        h = layers.ReLU(name=f"relu{i}")(h)
    # zero-initialised: the untrained model is the identity (it predicts no noise)
    noise = layers.Conv2D(channels * block * block, 3, padding="same", kernel_initializer="zeros",
                          name="noise")(h)
    if block > 1:
        noise = keras.ops.depth_to_space(noise, block)
        noise = CropLike(name="crop")([noise, noisy])
    # The output computes in float32 whatever the dtype policy: under mixed precision the
    # identity of the untrained model stays exact, and losses see float32 images.
    clean = layers.Subtract(name="clean", dtype="float32")([noisy, noise])
    return keras.Model(noisy, clean, name=name)


def build_espcn(scale: int = 3, filters: tuple[int, int] = (64, 32), channels: int = 1,
                name: str = "espcn"):
    """ESPCN x ``scale``: 5x5 conv, 3x3 conv (tanh), 3x3 conv to scale^2 channels, depth_to_space.

    Input (N, h, w, channels) low-resolution, output (N, scale h, scale w, channels). The
    sub-pixel layer rearranges ``scale**2`` feature maps at low resolution into one map at high
    resolution. We add a bilinear upscaling of the input (``BilinearUpsample``), so the
    convolutions learn only the residual detail; this speeds up training a lot on a CPU.
    """
    import keras
    from keras import layers

    f1, f2 = filters
    low = keras.Input(shape=(None, None, channels), name="low_res")
    h = layers.Conv2D(f1, 5, padding="same", activation="tanh", name="conv1")(low)
    h = layers.Conv2D(f2, 3, padding="same", activation="tanh", name="conv2")(h)
    h = layers.Conv2D(channels * scale * scale, 3, padding="same", name="conv3")(h)
    detail = keras.ops.depth_to_space(h, scale)  # (N, h, w, s*s*C) -> (N, s*h, s*w, C)
    base = BilinearUpsample(scale, name="upsample")(low)
    high = layers.Add(name="high_res", dtype="float32")([base, detail])  # float32 output
    return keras.Model(low, high, name=name)


def build_inpaint_unet(filters: tuple[int, ...] = (16, 32, 64), name: str = "inpaint_unet"):
    """A small U-Net for inpainting grayscale images with a known mask.

    Input (N, H, W, 2): channel 0 the image with the hole set to 0, channel 1 the mask (1 =
    missing); H and W divisible by 2 ** (len(filters) - 1). Output (N, H, W, 1): the known pixels
    copied from the input and the network's prediction in the hole.
    """
    import keras
    from keras import layers

    inp = keras.Input(shape=(None, None, 2), name="masked_and_mask")
    h, skips = inp, []
    for i, f in enumerate(filters):
        if i > 0:
            h = layers.MaxPooling2D(name=f"down{i}")(h)
        h = layers.Conv2D(f, 3, padding="same", activation="relu", name=f"enc{i}a")(h)
        h = layers.Conv2D(f, 3, padding="same", activation="relu", name=f"enc{i}b")(h)
        skips.append(h)
    for i in range(len(filters) - 2, -1, -1):
        h = layers.UpSampling2D(name=f"up{i}")(h)
        h = layers.Concatenate(name=f"skip{i}")([h, skips[i]])
        h = layers.Conv2D(filters[i], 3, padding="same", activation="relu", name=f"dec{i}a")(h)
        h = layers.Conv2D(filters[i], 3, padding="same", activation="relu", name=f"dec{i}b")(h)
    pred = layers.Conv2D(1, 1, activation="sigmoid", name="pred", dtype="float32")(h)
    image, mask = inp[..., :1], inp[..., 1:]
    out = layers.Add(name="composite", dtype="float32")([image * (1.0 - mask), pred * mask])
    return keras.Model(inp, out, name=name)


def predict_image(model, image: np.ndarray, batch_tile: int | None = None) -> np.ndarray:
    """Run a one-channel image model on a (H, W) image; returns (H', W') float32."""
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 2:
        raise ValueError(f"image must be (H, W) grayscale; got shape {image.shape}")
    out = model.predict_on_batch(image[None, :, :, None])
    return np.asarray(out)[0, :, :, 0]


# Settings of the classical denoisers at each noise level (0-255 scale), tuned for mean PSNR on
# 160x160 centre crops of the 15 *training* photos (one seeded noise draw) by
# ``python -m course_utils.pretrain baselines``, a grid search (see ``tune_baselines``); the
# held-out photos are never used. Gaussian: sigma in pixels; median: disk radius; TV
# (Chambolle): weight; NLM: h = factor * estimate_noise_sigma(noisy), 7x7 patches, search
# distance 11 (a 23x23 window), fast mode. At sigma=50 the Gaussian (2.26 px, within 0.05 dB of
# its neighbour) and the median (radius 3) sit at the edge of their grids.
BASELINE_SETTINGS: dict[int, dict[str, float]] = {
    15: {"gaussian": 0.77, "median": 2, "tv": 0.048, "nlm": 0.6},
    25: {"gaussian": 1.2, "median": 3, "tv": 0.1, "nlm": 0.5},
    50: {"gaussian": 2.26, "median": 3, "tv": 0.2, "nlm": 0.5},
}
NLM_PATCH = {"patch_size": 7, "patch_distance": 11, "fast_mode": True}
# Chambolle's iterations run to convergence (skimage's default stops after 200 iterations
# or at eps=2e-4, which leaves smooth images visibly unconverged).
TV_SOLVER = {"eps": 1e-5, "max_num_iter": 500}


def estimate_noise_sigma(noisy: np.ndarray) -> float:
    """Estimate the standard deviation of white Gaussian noise in a (H, W) image.

    The robust wavelet estimator of Donoho & Johnstone (1994), as in
    ``skimage.restoration.estimate_sigma`` (which needs PyWavelets): the finest diagonal Haar
    detail coefficients ``(a - b - c + d) / 2`` of each 2x2 block are mostly noise, with the same
    standard deviation as the noise, and ``median(|d|) / 0.6745`` estimates it robustly.
    Returns sigma in the image's units (e.g. about 25/255 for sigma = 25 on [0, 1] images).
    """
    noisy = np.asarray(noisy, dtype=np.float64)
    if noisy.ndim != 2 or min(noisy.shape) < 2:
        raise ValueError(f"noisy must be a (H, W) image with H, W >= 2; got shape {noisy.shape}")
    h, w = noisy.shape[0] // 2 * 2, noisy.shape[1] // 2 * 2
    x = noisy[:h, :w]
    d = (x[0::2, 0::2] - x[0::2, 1::2] - x[1::2, 0::2] + x[1::2, 1::2]) / 2
    return float(np.median(np.abs(d)) / 0.6745)


def denoise_baseline(noisy: np.ndarray, method: str, sigma: float = 25,
                     setting: float | None = None) -> np.ndarray:
    """Denoise a grayscale image in [0, 1] with a classical method; returns float32 (H, W).

    ``method``: "gaussian" (``scipy.ndimage.gaussian_filter``), "median"
    (``skimage.filters.median`` with a disk), "tv" (``skimage.restoration.denoise_tv_chambolle``)
    or "nlm" (``skimage.restoration.denoise_nl_means``, h from ``estimate_noise_sigma``). ``sigma`` (0-255
    scale) picks the tuned ``setting`` from ``BASELINE_SETTINGS`` (nearest level) unless given.
    """
    from scipy import ndimage
    from skimage import filters, morphology, restoration

    noisy = np.asarray(noisy, dtype=np.float32)
    if noisy.ndim != 2:
        raise ValueError(f"noisy must be a (H, W) grayscale image; got shape {noisy.shape}")
    if method not in ("gaussian", "median", "tv", "nlm"):
        raise ValueError(f"method must be 'gaussian', 'median', 'tv' or 'nlm'; got {method!r}")
    if setting is None:
        level = min(BASELINE_SETTINGS, key=lambda s: abs(s - sigma))
        setting = BASELINE_SETTINGS[level][method]
    if method == "gaussian":
        out = ndimage.gaussian_filter(noisy, setting)
    elif method == "median":
        out = filters.median(np.clip(noisy, 0, 1), morphology.disk(int(setting)))
    elif method == "tv":
        out = restoration.denoise_tv_chambolle(noisy, weight=setting, **TV_SOLVER)
    else:
        sigma_est = estimate_noise_sigma(noisy)
        out = restoration.denoise_nl_means(noisy, h=setting * sigma_est, sigma=sigma_est,
                                           **NLM_PATCH)
    return np.asarray(out, dtype=np.float32)


def tune_baselines(clean_images: list[np.ndarray], sigma: float, seed: int = 0,
                   grid: dict[str, list[float]] | None = None) -> dict[str, Any]:
    """Grid-search each classical denoiser's setting for mean PSNR on ``clean_images``.

    Returns ``{method: {"best": value, "psnr": {value: mean dB}}}``. Use training images only.
    """
    from .degrade import add_gaussian_noise
    from .metrics.image import psnr

    s = sigma / 25.0
    grid = grid or {
        "gaussian": [round(v * s ** 0.5, 2) for v in (0.6, 0.8, 1.0, 1.2, 1.4, 1.6)],
        "median": [1, 2, 3],
        "tv": [round(v * s, 3) for v in (0.04, 0.06, 0.08, 0.10, 0.12)],
        "nlm": [0.4, 0.5, 0.6, 0.7, 0.8],
    }
    noisy = [add_gaussian_noise(x, sigma, seed=seed + i) for i, x in enumerate(clean_images)]
    result: dict[str, Any] = {}
    for method, values in grid.items():
        scores = {}
        for v in values:
            scores[v] = float(np.mean([psnr(x, denoise_baseline(y, method, sigma, v))
                                       for x, y in zip(clean_images, noisy)]))
        result[method] = {"best": max(scores, key=scores.get), "psnr": scores}
    return result
