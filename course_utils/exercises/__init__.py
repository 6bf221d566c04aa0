"""Checkers for the notebooks' exercises.

Each checker takes the student's answer, prints one line of feedback and returns ``True``
or ``False``; an answer left as ``None`` prints "not answered yet" and returns ``False``
without raising, so a notebook always runs top to bottom. Checkers live in one submodule
per notebook and are re-exported here.
"""

from ._check import feedback, not_answered

from .nb01 import (  # notebook 01
    check_avg_pool_as_conv, check_horizontal_edge_kernel, check_im2col_dilated, check_output_size, check_param_count,
    check_weight_gradient,
)
from .nb02 import check_half_params, check_layer_shapes, check_random_shift, check_stable_softmax  # notebook 02
from .nb03 import check_anchor_match, check_iou, check_nms  # notebook 03
from .nb04 import check_dice_from_iou, check_iou_dice, check_transposed_output_size  # notebook 04
from .nb05 import check_beta_bound, check_beta_kl, check_kl_gaussians, check_reparam_sample  # notebook 05
from .nb06 import (  # notebook 06
    check_fair_floor, check_generator_output_shape, check_mode_collapse, check_optimal_discriminator,
)
from .nb07 import (  # notebook 07
    check_depth_to_space_shape, check_perception_distortion, check_psnr_of_error, check_residual_learning,
)
from .nb08 import check_eer, check_far_frr, check_triplet_loss  # notebook 08
from .nb09 import check_alpha_bar, check_ddim_update, check_guidance_weight  # notebook 09
from .nb10 import check_bleu, check_bptt_gradient, check_lstm_layer  # notebook 10
from .nb11 import check_attention_cost, check_attention_weights, check_vit_params  # notebook 11
