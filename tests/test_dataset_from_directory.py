"""image/text_dataset_from_directory, timeseries_dataset_from_array, split_dataset, BatchDataset.

Folders of small files are written by the tests; resizing is compared with
TensorFlow's results recorded in tests/fixtures/tf_image_resize.npz
(tools/record_image_resize.py).
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.utils import (
    BatchDataset,
    image_dataset_from_directory,
    split_dataset,
    text_dataset_from_directory,
    timeseries_dataset_from_array,
)
from chainrule.utils.image_dataset_utils import resize_images

Image = pytest.importorskip("PIL.Image")
FIXTURE = Path(__file__).parent / "fixtures" / "tf_image_resize.npz"


def write_images(root: Path, spec: dict[str, int], size=(6, 5), seed=0) -> dict[str, np.ndarray]:
    """spec: class folder -> number of PNGs; returns path -> pixels (h, w, 3) uint8."""
    rng = np.random.default_rng(seed)
    pixels = {}
    for cls, n in spec.items():
        for i in range(n):
            sub = root / cls / ("nested" if i % 3 == 2 else "")
            sub.mkdir(parents=True, exist_ok=True)
            arr = rng.integers(0, 256, size + (3,), dtype=np.uint8)
            path = sub / f"img{i}.png"
            Image.fromarray(arr).save(path)
            pixels[str(path)] = arr
    (root / "cats" / "notes.txt").write_text("not an image")
    return pixels


def keras_order(root: Path, classes: list[str], seed: int, formats=(".png",)):
    """Keras's listing spelled out: class folders sorted, os.walk sorted, RandomState shuffle."""
    paths, labels = [], []
    for label, cls in enumerate(classes):
        top = os.path.join(str(root), cls)
        for dirpath, _, files in sorted(os.walk(top), key=lambda e: e[0]):
            for name in sorted(files):
                if name.lower().endswith(formats):
                    paths.append(os.path.join(str(root), cls, os.path.relpath(
                        os.path.join(dirpath, name), top)))
                    labels.append(label)
    np.random.RandomState(seed).shuffle(paths)
    np.random.RandomState(seed).shuffle(labels)
    return paths, labels


@pytest.fixture
def photos(tmp_path):
    root = tmp_path / "photos"
    return root, write_images(root, {"dogs": 4, "cats": 5, "birds": 3})


def test_labels_order_and_pixels_follow_keras(photos, capsys):
    root, pixels = photos
    ds = image_dataset_from_directory(root, image_size=(6, 5), batch_size=4, seed=11)
    assert "Found 12 files belonging to 3 classes." in capsys.readouterr().out
    assert ds.class_names == ["birds", "cats", "dogs"]
    paths, labels = keras_order(root, ds.class_names, 11)
    assert ds.file_paths == paths
    ds = image_dataset_from_directory(root, image_size=(6, 5), batch_size=4, seed=11,
                                      shuffle=False, verbose=False)
    xs, ys = zip(*ds)
    x, y = np.concatenate(xs), np.concatenate(ys)
    assert x.shape == (12, 6, 5, 3) and x.dtype == np.float32 and y.dtype == np.int32
    assert len(ds) == 3 and [len(b) for b in xs] == [4, 4, 4]
    for path, image, label in zip(ds.file_paths, x, y):
        np.testing.assert_array_equal(image, pixels[path])  # same size: resizing is exact
        assert ds.class_names[label] == Path(path).relative_to(root).parts[0]


def test_every_epoch_is_reshuffled(photos):
    root, _ = photos
    ds = image_dataset_from_directory(root, image_size=(6, 5), batch_size=None, seed=1,
                                      verbose=False)
    first = [tuple(img.ravel()[:4]) for img, _ in ds]
    second = [tuple(img.ravel()[:4]) for img, _ in ds]
    assert sorted(first) == sorted(second) and first != second


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_resizing_matches_tensorflow(mode):
    with np.load(FIXTURE) as f:
        data = dict(f)
    keys = [k for k in data if k.startswith(mode + "_")]
    assert keys
    for key in keys:
        h, w = map(int, key.split("_")[1].split("x"))
        np.testing.assert_allclose(resize_images(data["image"], (h, w), mode), data[key],
                                   rtol=1e-6, atol=1e-4, err_msg=key)


def test_label_modes_and_color_modes(photos):
    root, _ = photos
    cat = image_dataset_from_directory(root, image_size=(3, 3), label_mode="categorical",
                                       color_mode="grayscale", shuffle=False, verbose=False)
    x, y = next(iter(cat))
    assert x.shape == (12, 3, 3, 1) and y.shape == (12, 3) and y.dtype == np.float32
    assert (y.sum(1) == 1).all()
    two = image_dataset_from_directory(root, image_size=(3, 3), label_mode="binary",
                                       class_names=["dogs", "cats"], shuffle=False,
                                       verbose=False, color_mode="rgba")
    x, y = next(iter(two))
    assert x.shape == (9, 3, 3, 4) and y.shape == (9, 1) and set(y.ravel()) == {0.0, 1.0}
    assert [Path(p).relative_to(root).parts[0] for p in two.file_paths][:4] == ["dogs"] * 4
    only = image_dataset_from_directory(root, image_size=(3, 3), labels=None, shuffle=False,
                                        verbose=False, batch_size=5)
    assert only.class_names is None and next(iter(only)).shape == (5, 3, 3, 3)
    first = image_dataset_from_directory(root, image_size=(3, 3), data_format="channels_first",
                                         shuffle=False, verbose=False)
    assert next(iter(first))[0].shape == (12, 3, 3, 3)


def test_validation_split_subsets_are_disjoint_and_keras_sized(photos, capsys):
    root, _ = photos
    kw = dict(image_size=(4, 4), validation_split=0.25, seed=5)
    train = image_dataset_from_directory(root, subset="training", **kw)
    val = image_dataset_from_directory(root, subset="validation", **kw)
    out = capsys.readouterr().out
    assert "Using 9 files for training." in out and "Using 3 files for validation." in out
    assert len(train.file_paths) == 9 and len(val.file_paths) == 3
    assert not set(train.file_paths) & set(val.file_paths)
    paths, _ = keras_order(root, ["birds", "cats", "dogs"], 5)
    assert train.file_paths == paths[:9] and val.file_paths == paths[9:]
    both = image_dataset_from_directory(root, subset="both", verbose=False, **kw)
    assert [d.file_paths for d in both] == [paths[:9], paths[9:]]


def test_fit_consumes_an_image_dataset(photos):
    root, _ = photos
    ds = image_dataset_from_directory(root, image_size=(4, 4), batch_size=4, seed=3,
                                      verbose=False)
    cr.utils.set_random_seed(0)
    model = cr.Sequential([cr.layers.Flatten(), cr.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(ds.map(lambda x, y: (x / 255.0, y)).prefetch(2), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert model.predict(ds.map(lambda x, y: x / 255.0), verbose=0).shape == (12, 3)


@pytest.mark.parametrize("kwargs,message", [
    ({"label_mode": "binary"}, r'label_mode="binary" needs exactly 2 classes\. Received: '
                               r"class_names=\['birds', 'cats', 'dogs'\]"),
    ({"label_mode": "sparse"}, r"Received: label_mode='sparse'"),
    ({"color_mode": "cmyk"}, r"Received: color_mode='cmyk'"),
    ({"image_size": (0, 4)}, r"Received: image_size=\(0, 4\)"),
    ({"interpolation": "cubic"}, r"Received: interpolation='cubic'"),
    ({"validation_split": 0.2, "subset": "training"}, r"pass a seed.*Received: seed=None"),
    ({"validation_split": 0.2}, r"set both or neither"),
    ({"subset": "test", "validation_split": 0.2, "seed": 1}, r"Received: subset='test'"),
    ({"class_names": ["cats", "wolves"]}, r"Received: class_names=\['cats', 'wolves'\]"),
    ({"labels": [0, 1]}, r"one label per file \(12 files.*Received: labels of length 2"),
    ({"crop_to_aspect_ratio": True, "pad_to_aspect_ratio": True}, r"Only one of"),
])
def test_bad_arguments(photos, kwargs, message):
    root, _ = photos
    with pytest.raises(ValueError, match=message):
        image_dataset_from_directory(root, verbose=False, **kwargs)


def test_a_directory_without_class_folders(tmp_path):
    folder = tmp_path / "flat"
    folder.mkdir()
    Image.fromarray(np.zeros((2, 2, 3), np.uint8)).save(folder / "a.png")
    with pytest.raises(ValueError, match=r"has no class subfolders.*labels=None.*Received: "
                       r"directory='.*flat' holding 1 images and no subfolders"):
        image_dataset_from_directory(folder, verbose=False)
    ds = image_dataset_from_directory(folder, labels=None, image_size=(2, 2), verbose=False)
    assert next(iter(ds)).shape == (1, 2, 2, 3)
    with pytest.raises(ValueError, match=r"directory must be an existing folder"):
        image_dataset_from_directory(tmp_path / "absent")


def test_missing_pillow_names_the_extra(photos, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r"chainrule\[image\]"):
        image_dataset_from_directory(photos[0])


def test_crop_and_pad_to_aspect_ratio(tmp_path):
    folder = tmp_path / "c" / "a"
    folder.mkdir(parents=True)
    arr = np.arange(4 * 8 * 3, dtype=np.uint8).reshape(4, 8, 3)
    Image.fromarray(arr).save(folder / "x.png")
    crop = image_dataset_from_directory(tmp_path / "c", image_size=(4, 4), verbose=False,
                                        crop_to_aspect_ratio=True)
    np.testing.assert_array_equal(next(iter(crop))[0][0], arr[:, 2:6])
    pad = image_dataset_from_directory(tmp_path / "c", image_size=(8, 8), verbose=False,
                                       pad_to_aspect_ratio=True)
    got = next(iter(pad))[0][0]
    np.testing.assert_array_equal(got[2:6], arr)
    assert not got[:2].any() and not got[6:].any()


# --------------------------------------------------------------------------- text


def test_text_dataset(tmp_path, capsys):
    texts = {"neg": ["bad film", "awful"], "pos": ["great", "loved it", "wonderful ünïcode"]}
    for cls, items in texts.items():
        (tmp_path / "t" / cls).mkdir(parents=True)
        for i, text in enumerate(items):
            (tmp_path / "t" / cls / f"{i}.txt").write_text(text, encoding="utf-8")
    (tmp_path / "t" / "pos" / "skip.md").write_text("ignored")
    ds = text_dataset_from_directory(tmp_path / "t", batch_size=2, shuffle=False, max_length=6)
    assert "Found 5 files belonging to 2 classes." in capsys.readouterr().out
    batches = list(ds)
    x = [t for b in batches for t in b[0]]
    y = np.concatenate([b[1] for b in batches])
    assert x == ["bad fi", "awful", "great", "loved ", "wonder"]
    assert y.tolist() == [0, 0, 1, 1, 1] and ds.class_names == ["neg", "pos"]
    binary = text_dataset_from_directory(tmp_path / "t", label_mode="binary", seed=2,
                                         verbose=False)
    texts_b, labels_b = next(iter(binary))
    assert labels_b.shape == (5, 1) and texts_b.dtype == object
    with pytest.raises(ValueError, match="Received: max_length=0"):
        text_dataset_from_directory(tmp_path / "t", max_length=0)


# --------------------------------------------------------------------------- time series


def windows_reference(data, targets, length, stride, rate, start, end):
    start = start or 0
    end = len(data) if end is None else end
    out_x, out_y = [], []
    i = 0
    while True:
        first = start + i * stride
        last = first + (length - 1) * rate
        if last >= end or (targets is not None and first - start >= len(targets)):
            break
        out_x.append([data[first + k * rate] for k in range(length)])
        if targets is not None:
            out_y.append(targets[first])
        i += 1
    return np.array(out_x), np.array(out_y)


@pytest.mark.parametrize("length,stride,rate,start,end,batch", [
    (3, 1, 1, None, None, 4), (4, 2, 1, None, None, 3), (3, 1, 2, None, None, 128),
    (5, 3, 2, 2, 18, 2), (2, 1, 1, 5, None, None),
])
def test_timeseries_windows_match_the_reference(length, stride, rate, start, end, batch):
    data = np.arange(20) * 10
    targets = np.arange(20)
    ds = timeseries_dataset_from_array(data, targets, length, sequence_stride=stride,
                                       sampling_rate=rate, batch_size=batch, start_index=start,
                                       end_index=end)
    ref_x, ref_y = windows_reference(data, targets, length, stride, rate, start, end)
    if batch is None:
        got_x = np.array([x for x, _ in ds])
        got_y = np.array([y for _, y in ds])
    else:
        got_x = np.concatenate([x for x, _ in ds])
        got_y = np.concatenate([y for _, y in ds])
    np.testing.assert_array_equal(got_x, ref_x)
    np.testing.assert_array_equal(got_y, ref_y)


def test_timeseries_without_targets_shuffled_and_multivariate():
    data = np.arange(30).reshape(15, 2)
    ds = timeseries_dataset_from_array(data, None, 4, batch_size=5, shuffle=True, seed=3)
    got = np.concatenate(list(ds))
    assert got.shape == (12, 4, 2)
    ref, _ = windows_reference(data, None, 4, 1, 1, None, None)
    assert sorted(map(lambda w: w.tobytes(), got)) == sorted(map(lambda w: w.tobytes(), ref))


@pytest.mark.parametrize("kwargs,message", [
    ({"sequence_length": 0}, r"Received: sequence_length=0"),
    ({"sampling_rate": 0}, r"Received: sampling_rate=0"),
    ({"sequence_stride": 10}, r"Received: sequence_stride=10"),
    ({"start_index": 12}, r"Received: start_index=12"),
    ({"start_index": 3, "end_index": 2}, r"Received: start_index=3, end_index=2"),
])
def test_timeseries_bad_arguments(kwargs, message):
    kwargs = {"sequence_length": 3, **kwargs}
    with pytest.raises(ValueError, match=message):
        timeseries_dataset_from_array(np.arange(10), None, **kwargs)


# --------------------------------------------------------------------------- split_dataset


def test_split_dataset_sizes_and_keras_shuffle():
    x, y = np.arange(10), np.arange(10) * 2
    left, right = split_dataset((x, y), left_size=0.7, shuffle=True, seed=4)
    order = list(range(10))
    random.Random(4).shuffle(order)
    assert [int(a) for a, _ in left] == order[:7]
    assert [int(b) for _, b in right] == [2 * i for i in order[7:]]
    left, right = split_dataset(x, left_size=3, right_size=2)
    assert [int(v) for v in left] == [0, 1, 2] and [int(v) for v in right] == [8, 9]
    batched = BatchDataset.from_arrays((x, y), batch_size=4)
    left, right = split_dataset(batched, right_size=0.5)
    assert [len(b[0]) for b in left] == [4, 1] and len(right) == 2


@pytest.mark.parametrize("kwargs,error,message", [
    ({}, ValueError, r"Received: left_size=None and right_size=None"),
    ({"left_size": 1.5}, ValueError, r"Received: left_size=1\.5"),
    ({"left_size": 10}, ValueError, r"Received: left_size=10"),
    ({"left_size": 0.6, "right_size": 0.6}, ValueError, r"at most 1"),
    ({"left_size": "half"}, TypeError, r"Received: left_size='half'"),
])
def test_split_dataset_bad_sizes(kwargs, error, message):
    with pytest.raises(error, match=message):
        split_dataset(np.arange(10), **kwargs)


def test_batch_dataset_methods():
    ds = BatchDataset.from_arrays((np.arange(7), np.arange(7) % 2), batch_size=3)
    assert len(ds) == ds.cardinality() == 3
    assert [len(x) for x, _ in ds.unbatch().batch(2)] == [2, 2, 2, 1]
    assert [x.tolist() for x, _ in ds.take(1)] == [[0, 1, 2]]
    assert len(ds.skip(1)) == 2 and len(ds.take(5)) == 3
    assert [x.tolist() for x in ds.map(lambda x, y: x + y).take(1)] == [[0, 2, 2]]
    assert [len(x) for x, _ in ds.unbatch().batch(3, drop_remainder=True)] == [3, 3]
    assert sum(len(x) for x, _ in ds.shuffle(10, seed=1)) == 7
    assert len(list(ds.repeat(2))) == 6
    with pytest.raises(ValueError, match="Received: arrays with lengths"):
        BatchDataset.from_arrays((np.arange(3), np.arange(4)))


# --------------------------------------------------------------------------- recorded from Keras

RECORDED = Path(__file__).parent / "fixtures" / "keras_directory_datasets.json"


def test_listing_splits_windows_and_split_dataset_equal_keras(tmp_path):
    import json

    record = json.loads(RECORDED.read_text())
    for kind, names in (("img", record["images"]), ("txt", record["texts"])):
        for name in names:
            path = tmp_path / kind / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("x")  # never decoded: only the listing is compared
    checked = 0
    for case in record["cases"]:
        kwargs = dict(case["kwargs"])
        if case["kind"] in ("image", "text"):
            root = tmp_path / ("img" if case["kind"] == "image" else "txt")
            make = image_dataset_from_directory if case["kind"] == "image" else \
                text_dataset_from_directory
            ds = make(root, verbose=False, **kwargs)
            got = [Path(p).relative_to(root).as_posix() for p in ds.file_paths]
            assert got == case["file_paths"], case["kwargs"]
            assert ds.class_names == case["class_names"]
        elif case["kind"] == "timeseries":
            ds = timeseries_dataset_from_array(np.arange(40).reshape(20, 2), np.arange(100, 120),
                                               **kwargs)
            assert [x.tolist() for x, _ in ds] == case["x"]
            assert [y.tolist() for _, y in ds] == case["y"]
        else:
            left, right = split_dataset(np.arange(12), **kwargs)
            assert [int(v) for v in left] == case["left"]
            assert [int(v) for v in right] == case["right"]
        checked += 1
    assert checked == len(record["cases"]) >= 10


def test_batches_answer_numpy_like_tf_tensors(photos):
    root, _ = photos
    ds = image_dataset_from_directory(root, image_size=(6, 5), batch_size=4, seed=1,
                                      verbose=False)
    images, labels = next(iter(ds.take(1)))
    first = images[0].numpy().astype("uint8")
    assert type(first) is np.ndarray and first.shape == (6, 5, 3)
    assert type(labels.numpy()) is np.ndarray
    assert type(np.asarray(images)) is np.ndarray


def test_fit_on_a_batch_dataset_equals_fit_on_arrays():
    rng = np.random.default_rng(4)
    x, y = rng.random((40, 3)).astype("float32"), rng.integers(0, 2, 40)

    def trained(data, **kw):
        cr.utils.set_random_seed(2)
        m = cr.Sequential([cr.layers.Input((3,)), cr.layers.Dense(2, activation="softmax")])
        m.compile("sgd", "sparse_categorical_crossentropy")
        m.fit(data, epochs=2, verbose=0, **kw)
        return m.get_weights()

    got = trained(BatchDataset.from_arrays((x, y), batch_size=8))
    ref = trained(x, y=y, batch_size=8, shuffle=False)
    for a, b in zip(got, ref):
        np.testing.assert_array_equal(a, b)


def test_load_img_img_to_array_array_to_img_save_img(tmp_path):
    from chainrule.utils import array_to_img, img_to_array, load_img, save_img

    arr = np.random.default_rng(1).integers(0, 256, (5, 6, 3)).astype("float32")
    save_img(tmp_path / "a.png", arr, scale=False)
    img = load_img(tmp_path / "a.png")
    np.testing.assert_array_equal(img_to_array(img), arr)
    assert img_to_array(img, data_format="channels_first").shape == (3, 5, 6)
    gray = load_img(tmp_path / "a.png", color_mode="grayscale", target_size=(2, 3))
    assert img_to_array(gray).shape == (2, 3, 1)
    scaled = img_to_array(array_to_img(np.array([[[0.0], [0.5]], [[1.0], [0.25]]])))
    assert scaled[:, :, 0].tolist() == [[0, 128], [255, 64]]
    with pytest.raises(ValueError, match=r"Received: x of shape \(2, 2\)"):
        array_to_img(np.zeros((2, 2)))


def test_from_arrays_takes_dicts_of_columns_as_tf_data_does():
    # tf.data.Dataset.from_tensor_slices((dict(dataframe), labels)), as Keras's structured-data
    # examples build their datasets
    cols = {"age": np.arange(5.0), "thal": np.array(["a", "b", "c", "d", "e"])}
    ds = BatchDataset.from_arrays((cols, np.arange(5) % 2))
    x, y = next(iter(ds))
    assert set(x) == {"age", "thal"} and x["age"] == 0.0 and x["thal"] == "a" and y == 0
    batched = list(ds.batch(2))
    assert [b[0]["age"].tolist() for b in batched] == [[0.0, 1.0], [2.0, 3.0], [4.0]]
    assert batched[0][0]["thal"].tolist() == ["a", "b"]
    # a mapped dataset batches dict elements too
    again = list(ds.map(lambda x, y: (x, y)).batch(4))
    assert again[0][0]["thal"].tolist() == ["a", "b", "c", "d"]
    assert again[0][1].tolist() == [0, 1, 0, 1]
    feature = list(ds.batch(5).map(lambda x, y: x["age"]))
    assert feature[0].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    with pytest.raises(ValueError, match=r"Received: arrays with lengths \[5, 4, 5\]"):
        BatchDataset.from_arrays(({"a": np.arange(5), "b": np.arange(4)}, np.arange(5)))


def test_dataset_elements_answer_numpy_and_hash_as_values():
    # `for x, y in ds.take(1): y[0].numpy()`: an element of a batch is still tensor-like
    _, y = next(iter(BatchDataset.from_arrays((np.zeros((3, 2)), np.array([0.5, 1.0, 2.0])),
                                              batch_size=3)))
    assert y[0].numpy() == 0.5 and isinstance(y[0].numpy(), np.ndarray)
    assert set(y.ravel()) == {0.5, 1.0, 2.0}
    with pytest.raises(TypeError, match="unhashable"):
        hash(y)
