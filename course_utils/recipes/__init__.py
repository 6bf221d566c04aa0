"""Course-weight recipes, one small module per model family.

``restoration`` (notebook 07: ``denoiser``, ``espcn``), ``gan`` (notebook 06: ``dcgan``, ``cgan``),
``diffusion`` (notebook 09: ``diffusion``, ``diffusion-cond``) and ``judge`` (the digit classifier
that scores the generative models).
Each module holds ``RECIPES``, ``build(name)``, a ``Trainer`` and its evaluation;
:mod:`course_utils.pretrain` runs, checkpoints and publishes them.
"""
