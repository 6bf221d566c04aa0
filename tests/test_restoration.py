"""The restoration models of course_utils (notebook 07) under every dtype policy."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from course_utils import restoration


@pytest.fixture(params=["float32", "mixed_float16"])
def policy(request):
    keras.mixed_precision.set_global_policy(request.param)
    yield request.param
    keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("shape", [(1, 17, 23, 1), (2, 16, 16, 1)])
def test_untrained_dncnn_is_the_identity_in_float32(policy, shape):
    model = restoration.build_dncnn(depth=3, filters=4)
    x = np.random.default_rng(0).uniform(0, 1, shape).astype(np.float32)
    y = model(x)
    assert y.dtype == "float32" and tuple(y.shape) == shape
    # the noise branch starts at zero and the subtraction runs in float32: exact, even in float16
    np.testing.assert_array_equal(np.asarray(y), x)


def test_espcn_and_inpainting_outputs_are_float32(policy):
    low = np.random.default_rng(1).uniform(0, 1, (1, 5, 7, 1)).astype(np.float32)
    high = restoration.build_espcn(scale=3, filters=(4, 4))(low)
    assert high.dtype == "float32" and tuple(high.shape) == (1, 15, 21, 1)
    image = np.random.default_rng(2).uniform(0, 1, (1, 16, 16, 1)).astype(np.float32)
    mask = np.zeros_like(image)
    mask[:, 4:9, 4:9] = 1.0
    out = restoration.build_inpaint_unet(filters=(4, 8))(np.concatenate([image * (1 - mask), mask], -1))
    assert out.dtype == "float32"
    # the known pixels are copied through unchanged
    np.testing.assert_array_equal(np.asarray(out)[mask == 0], image[mask == 0])
    kernel_dtypes = {layer.compute_dtype for layer in restoration.build_espcn(scale=2).layers}
    assert ("float16" in kernel_dtypes) == (policy == "mixed_float16")  # the body does use the policy
