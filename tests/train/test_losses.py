"""slimrlfn.train.losses: losses on known values, the teacher frozen, unknown names in one line."""
import pytest
import torch

from slimrlfn.arch.checkpoints import save_checkpoint
from slimrlfn.arch.config import build_model
from slimrlfn.arch.contract import Contract, RangeAdapter
from slimrlfn.arch.ref import load_model
from slimrlfn.core.errors import UserError
from slimrlfn.train.losses import SRLoss, build_loss, load_teacher

TINY_MODEL = {"arch": "slimrlfn", "feature_channels": 8, "num_blocks": 2, "prune_channels": [6, 8, 8, 8],
              "esa_channels": 4}


def test_losses_on_known_values():
    a, b = torch.tensor([0.0, 3.0]), torch.tensor([1.0, 1.0])
    assert build_loss("l1")(a, b).item() == pytest.approx(1.5)
    assert build_loss("L2")(a, b).item() == pytest.approx(2.5)
    assert build_loss("charbonnier", eps=0.0)(a, b).item() == pytest.approx(1.5)
    assert build_loss("charbonnier", eps=1.0)(a, a).item() == pytest.approx(1.0)
    sr, hr, teacher = torch.full((1, 1, 2, 2), 255.0), torch.zeros(1, 1, 2, 2), torch.full((1, 1, 2, 2), 127.5)
    total, terms = SRLoss("l1", None, 0.5, data_range=255.0)(sr, hr, teacher)
    assert terms["pixel"].item() == pytest.approx(1.0) and terms["distill"].item() == pytest.approx(0.5)
    assert total.item() == pytest.approx(1.25)


def test_unknown_loss_and_teacher():
    with pytest.raises(UserError, match="--loss 'l3': unknown loss; expected one of l1, charbonnier, l2"):
        SRLoss("l3", data_range=255.0)
    with pytest.raises(UserError, match="--teacher 'swinir': unknown teacher"):
        load_teacher("swinir", Contract(), torch.device("cpu"))
    with pytest.raises(UserError, match="no such file"):
        load_teacher("missing/teacher.pth", Contract(), torch.device("cpu"))


def test_checkpoint_teacher_is_frozen(tmp_path):
    path = save_checkpoint(build_model(TINY_MODEL), tmp_path / "t.pth")
    teacher, label = load_teacher(str(path), Contract(), torch.device("cpu"))
    assert not teacher.training and not any(p.requires_grad for p in teacher.parameters()) and label == str(path)
    save_checkpoint(build_model({**TINY_MODEL, "upscale": 2}), tmp_path / "x2.pth")
    with pytest.raises(UserError, match="upscales x2, the student x4"):
        load_teacher(str(tmp_path / "x2.pth"), Contract(), torch.device("cpu"))


def test_a_teacher_of_another_range_distills_into_slimrlfn_correctly(tmp_path):
    """A [0, 1] teacher (a user's class) distilling into SlimRLFN ([0, 255]): the teacher is adapted to the student's
    range, so the distillation term is what it is when both work in [0, 1]; fed raw, it would be 255 times off."""
    from tests.helpers import write_user_model

    user = write_user_model(tmp_path / "nets" / "tiny_sr.py")
    torch.manual_seed(0)
    source = load_model({"model": f"{user}:TinySR"})
    torch.save(source.model.state_dict(), tmp_path / "t.pth")
    reference = {"model": f"{user}:TinySR", "checkpoint": str(tmp_path / "t.pth")}
    teacher, _ = load_teacher(reference, Contract(255.0, 4), torch.device("cpu"))
    assert isinstance(teacher, RangeAdapter) and (teacher.inner, teacher.outer) == (1.0, 255.0)
    same, _ = load_teacher(reference, Contract(1.0, 4), torch.device("cpu"))
    assert not isinstance(same, RangeAdapter)  # a teacher of the student's range runs as it is
    lr = torch.rand(1, 3, 12, 12)
    with torch.no_grad():
        assert torch.allclose(teacher(lr * 255.0), 255.0 * source.model(lr), rtol=1e-5, atol=1e-3)
        student_sr = torch.rand(1, 3, 48, 48) * 255.0
        loss = SRLoss("l1", None, 1.0, data_range=255.0)
        _, terms = loss(student_sr, student_sr, teacher(lr * 255.0))
        expected = (student_sr / 255.0 - source.model(lr)).abs().mean()
        assert terms["distill"].item() == pytest.approx(expected.item(), rel=1e-4)
