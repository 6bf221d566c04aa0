"""Course-weight recipes, one small module per model family.

``restoration`` (notebook 07: ``denoiser``, ``espcn``) and ``gan`` (notebook 06: ``dcgan``, ``cgan``).
Each module holds ``RECIPES``, ``build(name)``, a ``Trainer`` and its evaluation;
:mod:`course_utils.pretrain` runs, checkpoints and publishes them.
"""
