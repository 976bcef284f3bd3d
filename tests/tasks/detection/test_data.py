"""Pedestrian data: Parse-27k loader on a fixture, Penn-Fudan parsing/split, procedural scenes."""
from pathlib import Path

import pytest
import torch

from evosynth_lib.tasks.detection.data import (
    PARSE27K_SPLITS,
    Parse27k,
    PennFudan,
    augment_batch,
    augment_sample,
    collate_detection,
    hflip,
    letterbox,
    parse_pennfudan_annotation,
    pennfudan_split,
)
from evosynth_lib.tasks.detection.scenes import SyntheticScenes

torch.set_num_threads(1)


@pytest.fixture
def parse_root(parse27k_root):
    return parse27k_root


def _db_boxes(root):
    import sqlite3

    conn = sqlite3.connect(root / "annotations.sqlite3")
    rows = conn.execute(
        """SELECT s.directory, i.filename, p.box_min_x, p.box_min_y, p.box_max_x, p.box_max_y
           FROM Pedestrian p JOIN Image i ON p.imageID = i.imageID
           JOIN Sequence s ON s.sequenceID = i.sequenceID ORDER BY p.pedestrianID"""
    ).fetchall()
    conn.close()
    out = {}
    for d, f, *b in rows:
        out.setdefault(f"{d}/{f}", []).append(b)
    return out


# --------------------------------------------------------------------------------------- Parse-27k


def test_parse27k_splits_follow_sequences(parse_root):
    seen = {}
    for split, seqs in PARSE27K_SPLITS.items():
        ds = Parse27k(parse_root, split, image_size=(48, 64))
        assert len(ds) == 2 * len(seqs)  # every fixture frame has >= 1 pedestrian
        assert {ds.sequence_of(i) for i in range(len(ds))} == set(seqs)
        seen[split] = {str(p) for p, _, _ in ds.items}
    assert PARSE27K_SPLITS == {"train": (1, 4, 5), "val": (2, 7, 8), "test": (3, 6)}
    assert not (seen["train"] & seen["val"]) and not (seen["train"] & seen["test"]) and not (seen["val"] & seen["test"])


def test_parse27k_boxes_after_resize(parse_root):
    db = _db_boxes(parse_root)
    # 96x128 frames -> 48x64: exact factor 1/2, no padding
    ds = Parse27k(parse_root, "train", image_size=(48, 64))
    for i in range(len(ds)):
        img, boxes = ds[i]
        path = ds.items[i][0]
        expected = torch.tensor(db[f"{path.parent.name}/{path.name}"], dtype=torch.float32) / 2
        assert img.shape == (3, 48, 64) and img.dtype == torch.float32
        assert 0.0 <= img.min() and img.max() <= 1.0
        torch.testing.assert_close(boxes, expected)
    # square 128 letterbox: scale 1, 16 pixels of padding above and below
    sq = Parse27k(parse_root, "test", image_size=128)
    img, boxes = sq[0]
    path = sq.items[0][0]
    expected = torch.tensor(db[f"{path.parent.name}/{path.name}"], dtype=torch.float32)
    expected[:, 1::2] += 16
    torch.testing.assert_close(boxes, expected)
    # the drawn pedestrian is where its box says (bright), the padding is grey
    x0, y0, x1, y1 = boxes[0].round().int().tolist()
    assert img[:, y0:y1, x0:x1].mean() > 0.6
    assert torch.allclose(img[:, :16], torch.tensor(0.5))


def test_parse27k_missing_paths_name_the_variable(tmp_path):
    with pytest.raises(FileNotFoundError, match="EVOSYNTH_DATA") as e:
        Parse27k(tmp_path / "nope", "train")
    assert "nope" in str(e.value)
    tmp_path.joinpath("empty").mkdir()
    with pytest.raises(FileNotFoundError, match="annotations.sqlite3"):
        Parse27k(tmp_path / "empty", "train")
    with pytest.raises(ValueError, match="split"):
        Parse27k(tmp_path, "trainval")


def test_parse27k_missing_frame(parse_root, tmp_path):
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(parse_root, root)
    ds = Parse27k(root, "val", image_size=64)
    ds.items[0][0].unlink()
    with pytest.raises(FileNotFoundError, match="EVOSYNTH_DATA"):
        ds[0]


# -------------------------------------------------------------------------------------- Penn-Fudan

ANNOTATION = """# Compatible with PASCAL Annotation Version 1.00
Image filename : "PennFudanPed/PNGImages/FudanPed00001.png"
Image size (X x Y x C) : 559 x 536 x 3
Objects with ground truth : 2 { "PASpersonWalking" "PASpersonWalking" }
# Top left pixel co-ordinates : (1, 1)
Original label for object 2 "PASpersonWalking" : "PennFudanPed"
Bounding box for object 2 "PASpersonWalking" (Xmin, Ymin) - (Xmax, Ymax) : (420, 171) - (535, 486)
Pixel mask for object 2 "PASpersonWalking" : "PennFudanPed/PedMasks/FudanPed00001_mask.png"
Bounding box for object 1 "PASpersonStanding" (Xmin, Ymin) - (Xmax, Ymax) : (160, 182) - (302, 431)
"""


def test_parse_pennfudan_annotation():
    boxes = parse_pennfudan_annotation(ANNOTATION)
    # sorted by object index; 1-based inclusive pixels -> 0-based continuous
    torch.testing.assert_close(boxes, torch.tensor([[159.0, 181, 302, 431], [419, 170, 535, 486]]))
    assert parse_pennfudan_annotation("no boxes here").shape == (0, 4)
    with pytest.raises(ValueError):
        parse_pennfudan_annotation(ANNOTATION.replace("(535, 486)", "(35, 486)"))


def test_pennfudan_split_is_fixed_and_disjoint():
    names = [f"Img{i:05d}.png" for i in range(170)]
    train, test = pennfudan_split(names, "train"), pennfudan_split(list(reversed(names)), "test")
    assert len(train) == 120 and len(test) == 50
    assert not set(train) & set(test) and set(train) | set(test) == set(names)
    assert pennfudan_split(names, "test") == test  # input order does not matter
    with pytest.raises(ValueError):
        pennfudan_split(names, "val")


def test_real_pennfudan_folder(pennfudan_dir):
    train = PennFudan(pennfudan_dir, "train", image_size=128)
    test = PennFudan(pennfudan_dir, "test", image_size=128)
    assert len(train) == 120 and len(test) == 50
    assert len(list((pennfudan_dir / "PNGImages").glob("*.png"))) == 170
    assert sum(len(b) for b in train.boxes + test.boxes) == 423
    # every object of added-object-list.txt is already in its annotation file
    lines = (pennfudan_dir / "added-object-list.txt").read_text().splitlines()[1:]
    for line in filter(str.strip, lines):
        name, idx = line.split()
        text = (pennfudan_dir / "Annotation" / (Path(name).stem + ".txt")).read_text()
        assert f'Bounding box for object {idx} "' in text
    img, boxes = train[0]
    assert img.shape == (3, 128, 128) and boxes.shape[1] == 4 and len(boxes) >= 1
    assert (boxes[:, 2] > boxes[:, 0]).all() and boxes.min() >= 0 and boxes.max() <= 128


def test_pennfudan_augmentation_is_seeded(pennfudan_dir):
    """Training batches are augmented by the task (augment_batch), reproducibly by generator seed."""
    plain = PennFudan(pennfudan_dir, "train", image_size=64)
    images, boxes = collate_detection([plain[i] for i in range(4)])
    a = augment_batch(images, boxes, torch.Generator().manual_seed(3))
    b = augment_batch(images, boxes, torch.Generator().manual_seed(3))
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    differs = [not torch.equal(a[0][i], images[i]) for i in range(4)]
    assert any(differs)
    other = augment_batch(images, boxes, torch.Generator().manual_seed(4))  # another generation's draws
    assert any(not torch.equal(other[0][i], a[0][i]) for i in range(4))


def test_missing_pennfudan_names_the_variable(tmp_path):
    with pytest.raises(FileNotFoundError, match="EVOSYNTH_DATA"):
        PennFudan(tmp_path / "PennFudanPed", "train")


# ------------------------------------------------------------------------- transforms and scenes


def test_letterbox_maps_boxes():
    img = torch.zeros(3, 50, 100, dtype=torch.uint8)
    img[:, 10:30, 20:40] = 255
    out, boxes = letterbox(img, torch.tensor([[20.0, 10, 40, 30]]), 64)
    # scale 0.64 -> 32 x 64 placed 16 pixels down
    torch.testing.assert_close(boxes, torch.tensor([[12.8, 22.4, 25.6, 35.2]]))
    assert out.shape == (3, 64, 64) and out[:, 25:33, 14:24].min() > 0.9 and out[:, :15].eq(0.5).all()
    with pytest.raises(ValueError):
        letterbox(img, torch.zeros(0, 4), (64,))


def test_hflip_and_augment():
    img = torch.rand(3, 8, 10)
    boxes = torch.tensor([[1.0, 2, 4, 6]])
    fimg, fboxes = hflip(img, boxes)
    torch.testing.assert_close(fboxes, torch.tensor([[6.0, 2, 9, 6]]))
    torch.testing.assert_close(hflip(fimg, fboxes)[0], img)
    a = augment_sample(img, boxes, torch.Generator().manual_seed(1))
    b = augment_sample(img, boxes, torch.Generator().manual_seed(1))
    torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_synthetic_scenes_deterministic_by_seed():
    a, b, c = SyntheticScenes(6, 64, seed=5), SyntheticScenes(6, 64, seed=5), SyntheticScenes(6, 64, seed=6)
    for i in range(6):
        torch.testing.assert_close(a[i], b[i], rtol=0, atol=0)
    assert any(not torch.equal(a[i][0], c[i][0]) for i in range(6))
    for i in range(6):
        img, boxes = a[i]
        assert img.shape == (3, 64, 64) and 1 <= len(boxes) <= 3
        assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all()
        assert boxes.min() >= 0 and boxes.max() <= 64
        assert ((boxes[:, 3] - boxes[:, 1]) > (boxes[:, 2] - boxes[:, 0])).all()  # upright
    rect = SyntheticScenes(2, (48, 80), seed=0)
    assert rect[0][0].shape == (3, 48, 80)


def test_collate_detection():
    ds = SyntheticScenes(3, 32, seed=0)
    images, boxes = collate_detection([ds[0], ds[1], ds[2]])
    assert images.shape == (3, 3, 32, 32) and isinstance(boxes, list) and len(boxes) == 3
    assert all(b.shape[1] == 4 for b in boxes)
