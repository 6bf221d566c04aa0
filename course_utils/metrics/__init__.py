"""Metrics taught in the notebooks, written from scratch and tested against libraries.

Grouped by task in submodules and re-exported here, so ``course_utils.metrics.iou`` style
names work: ``detection`` (mAP, notebook 03), ``segmentation`` (pixel accuracy, IoU, Dice,
notebook 04), ``generative`` (Frechet distance, notebook 06), ``image`` (PSNR, SSIM,
notebook 07), ``verification`` (ROC, AUC, EER, TAR at a FAR, rank-k identification,
notebook 08) and ``text`` (BLEU, notebook 10).
"""

from .detection import MeanAP, average_precision, coco_map, mean_average_precision, precision_recall_curve  # detection (notebook 03)
from .segmentation import confusion_matrix, dice, mean_iou, per_class_dice, per_class_iou, pixel_accuracy  # segmentation (notebook 04)
from .generative import (  # generative (notebook 06)
    feature_statistics, frechet_distance, frechet_distance_at, frechet_distance_interval, gaussian_frechet_distance,
)
from .image import mse, psnr, psnr_y, rgb_to_y, ssim  # image (notebook 07)
from .verification import (  # verification and identification (notebook 08)
    EER, choose_threshold, eer, far_frr, identification_ranks, rank_k_accuracy, roc_auc, roc_curve, tar_at_far,
    verification_accuracy,
)
from .text import corpus_bleu, sentence_bleu  # text (notebook 10)
