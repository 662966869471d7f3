"""What the QAT and sensitivity tests share: two HR photos (the tiny model is :func:`tests.helpers.tiny_slimrlfn`)."""
from __future__ import annotations

import pytest

from slimrlfn.data.images import write_image
from tests.helpers import textured_image


@pytest.fixture(scope="session")
def photos(tmp_path_factory):
    """A folder of two 144x160 textured HR photos."""
    folder = tmp_path_factory.mktemp("hr")
    for seed in range(2):
        write_image(folder / f"{seed}.png", textured_image(144, 160, seed=seed))
    return folder
