"""Exercise checkers for notebook 07 (image restoration)."""

from __future__ import annotations

import numpy as np

from ._check import feedback, multiple_choice, not_answered

__all__ = ["check_depth_to_space_shape", "check_perception_distortion", "check_psnr_of_error",
           "check_residual_learning"]


def check_psnr_of_error(answer: float | None, rmse: float = 10 / 255, data_range: float = 1.0) -> bool:
    """PSNR (dB) of an estimate whose root-mean-square error is ``rmse`` (default 10 grey levels)."""
    name = "PSNR of a given error"
    if answer is None:
        return not_answered(name)
    expected = 20 * np.log10(data_range / rmse)
    try:
        ok = abs(float(answer) - expected) <= 0.05
    except (TypeError, ValueError):
        ok = False
    return feedback(name, ok, hint="PSNR = 10 log10(peak^2 / MSE) and MSE = RMSE^2, with peak 1 "
                    "for images in [0, 1].", detail=f"{expected:.2f} dB")


def check_depth_to_space_shape(answer: tuple | None, input_shape: tuple = (2, 10, 12, 27),
                               block: int = 3) -> bool:
    """Output shape of ``depth_to_space(x, block)`` for ``x`` of ``input_shape`` (NHWC)."""
    name = "depth_to_space output shape"
    if answer is None:
        return not_answered(name)
    n, h, w, c = input_shape
    expected = (n, h * block, w * block, c // (block * block))
    try:
        ok = tuple(int(v) for v in answer) == expected
    except (TypeError, ValueError):
        ok = False
    return feedback(name, ok, hint="each group of block*block channels becomes a block x block "
                    "tile of pixels: H and W grow by block, C shrinks by block**2.")


_RESIDUAL = {"b"}


def check_residual_learning(answer: str | None) -> bool:
    """Multiple choice: why does predicting the noise (residual learning) help a denoiser?

    a) it makes the network smaller; b) the target (the noise) is simple, zero-mean and close to
    what an identity-at-initialisation network outputs, so optimisation is easier and faster;
    c) it removes the need for training data; d) it makes the output always lie in [0, 1].
    """
    name = "why residual learning helps"
    if answer is None:
        return not_answered(name)
    ok = isinstance(answer, str) and answer.strip().lower().strip(")") in _RESIDUAL
    return feedback(name, ok, hint="compare the target the network must output in each case: "
                    "a whole clean image, or a zero-mean noise field.")


PERCEPTION_CHOICES = {
    "a": "the MSE-optimal output is the average of all clean images consistent with the input "
         "(the posterior mean): lowest expected error, but not itself a plausible sharp image",
    "b": "the MSE network is under-trained; trained long enough it would be as sharp as the GAN",
    "c": "PSNR cannot see blur, so blurry and sharp outputs get the same score",
    "d": "the adversarial loss adds random noise, which raises PSNR",
}
PERCEPTION_ANSWER = "a"


def check_perception_distortion(answer: str | None) -> bool:
    """Multiple choice: why is an MSE-trained restorer blurrier, yet higher in PSNR, than an adversarial one?

    Choices in :data:`PERCEPTION_CHOICES`; the answer is the posterior-mean argument behind the
    perception-distortion trade-off (Blau and Michaeli, 2018).
    """
    hints = {
        "b": "ask what the best possible MSE output is, for an input that several clean images could explain.",
        "c": "PSNR is a function of the MSE, and blurring an edge does change the squared error.",
        "d": "added noise raises the squared error, and PSNR falls when the error rises.",
    }
    return multiple_choice("MSE, blur and PSNR", answer, PERCEPTION_CHOICES, PERCEPTION_ANSWER, hints,
                           detail="the minimiser of the expected squared error is E[x | y], "
                           "an average; any sharp guess pays in MSE when it is wrong.")
