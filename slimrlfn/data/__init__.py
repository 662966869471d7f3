"""Data: images, MATLAB bicubic, NTIRE-layout pairs, training patches, the sample set.

Modules: :mod:`~slimrlfn.data.images` (RGB uint8 IO), :mod:`~slimrlfn.data.bicubic`
(MATLAB ``imresize``), :mod:`~slimrlfn.data.pairs` (the NTIRE layout), :mod:`~slimrlfn.data.sample` (the embedded sample, real photos
for checks), :mod:`~slimrlfn.data.patches` (training patches and their sampler),
:mod:`~slimrlfn.data.validation` (validation images in memory), :mod:`~slimrlfn.data.command`
(``slimrlfn data``).
"""
from slimrlfn.data.bicubic import imresize_matlab
from slimrlfn.data.images import IMAGE_EXTENSIONS, list_images, modcrop, read_image, write_image
from slimrlfn.data.pairs import ImagePair, find_pairs, make_pairs, write_pairs
from slimrlfn.data.patches import PatchDataset, ShardSampler
from slimrlfn.data.sample import example_images, make_sample, real_input
from slimrlfn.data.validation import ValidationImage, load_validation

__all__ = ["IMAGE_EXTENSIONS", "ImagePair", "PatchDataset", "ShardSampler", "ValidationImage", "example_images",
           "find_pairs", "imresize_matlab", "list_images", "load_validation", "make_pairs", "make_sample",
           "modcrop", "read_image", "real_input", "write_image", "write_pairs"]
