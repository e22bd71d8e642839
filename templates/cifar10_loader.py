# CIFAR-10 loader: copy this cell into a chapter's setup (chapters never import repo files).
# The official dataset first; the offline JPEG mirror only when the download fails, and it says which.
import os
from pathlib import Path

import torch
import torchvision

CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
DATA_ROOT = Path(os.environ.get("DL_BOOK_DATA", "data"))  # git-ignored
MIRROR_VARIABLE = "CIFAR10_JPEG_MIRROR"


def load_cifar10(train):
    """All of CIFAR-10's train or test split as (uint8 images N×3×32×32, int64 labels N)."""
    split = "train" if train else "test"
    try:
        dataset = torchvision.datasets.CIFAR10(DATA_ROOT, train=train, download=True)
    except Exception as error:  # no network, or a broken download
        download_error = error
    else:
        print(
            f"CIFAR-10 {split}: official torchvision download in {DATA_ROOT.resolve()}"
        )
        images = torch.from_numpy(dataset.data).permute(0, 3, 1, 2).contiguous()
        return images, torch.tensor(dataset.targets)
    mirror = os.environ.get(MIRROR_VARIABLE)
    if not mirror:
        raise RuntimeError(
            f"CIFAR-10 could not be downloaded ({download_error}) and ${MIRROR_VARIABLE} is not set. "
            f"Connect to the internet, or unpack the JPEG mirror (train/<class>/*.jpg, test/<class>/*.jpg) "
            f"and set {MIRROR_VARIABLE} to its folder."
        ) from download_error
    folder = Path(mirror) / split
    if not folder.is_dir():
        raise RuntimeError(
            f"${MIRROR_VARIABLE}={mirror} has no '{split}' folder; it must hold "
            f"train/<class>/ and test/<class>/ as in the JPEG mirror."
        )
    dataset = torchvision.datasets.ImageFolder(
        folder, loader=torchvision.io.decode_image
    )
    if tuple(dataset.classes) != CIFAR10_CLASSES:
        raise RuntimeError(
            f"{folder} has classes {dataset.classes}; expected CIFAR-10's {CIFAR10_CLASSES}."
        )
    images = torch.stack([image for image, _ in dataset])
    labels = torch.tensor(dataset.targets)
    print(
        f"CIFAR-10 {split}: download failed ({type(download_error).__name__}), so using the offline "
        f"JPEG mirror in {folder} ({len(labels):,} images; JPEG shifts pixel values slightly)"
    )
    return images, labels
