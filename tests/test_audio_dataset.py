"""utils.audio_dataset_from_directory and read_wav on wav files the tests write."""

from __future__ import annotations

import struct
import wave

import numpy as np
import pytest

from chainrule.utils import audio_dataset_from_directory
from chainrule.utils.audio_dataset_utils import read_wav


def write_wav(path, ints, width=2, channels=1, rate=8000):
    """Little-endian PCM written sample by sample with struct (independent of read_wav)."""
    frames = bytearray()
    for v in np.asarray(ints).ravel().tolist():
        if width == 1:
            frames += struct.pack("<B", v)
        elif width == 2:
            frames += struct.pack("<h", v)
        elif width == 3:
            frames += struct.pack("<i", v)[:3]
        else:
            frames += struct.pack("<i", v)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(bytes(frames))


@pytest.mark.parametrize("width,ints,expected", [
    (1, [0, 128, 255, 129], [-1.0, 0.0, 127 / 128, 1 / 128]),
    (2, [-32768, 0, 32767, 1], [-1.0, 0.0, 32767 / 32768, 1 / 32768]),
    (3, [-2**23, 0, 2**23 - 1, -1], [-1.0, 0.0, (2**23 - 1) / 2**23, -1 / 2**23]),
    (4, [-2**31, 0, 2**31 - 1, 5], [-1.0, 0.0, (2**31 - 1) / 2**31, 5 / 2**31]),
])
def test_read_wav_bit_depths(tmp_path, width, ints, expected):
    path = tmp_path / "a.wav"
    write_wav(path, ints, width=width, rate=22050)
    audio, rate = read_wav(path)
    assert rate == 22050 and audio.dtype == np.float32 and audio.shape == (4, 1)
    np.testing.assert_allclose(audio[:, 0], np.float32(expected), rtol=0, atol=0)


def test_read_wav_stereo_and_desired_samples(tmp_path):
    path = tmp_path / "s.wav"
    write_wav(path, [[1, 2], [3, 4], [5, 6]], channels=2)
    audio, _ = read_wav(path)
    np.testing.assert_array_equal(audio * 32768, [[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(read_wav(path, 2)[0] * 32768, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(read_wav(path, 5)[0] * 32768,
                                  [[1, 2], [3, 4], [5, 6], [0, 0], [0, 0]])


def make_tree(root, lengths=None):
    """cats/0..3.wav and dogs/0..3.wav, the value of each sample = its file's id."""
    lengths = lengths or {}
    ids = {}
    for c, cls in enumerate(["cats", "dogs"]):
        (root / cls).mkdir(parents=True)
        for i in range(4):
            ident = 10 * (c + 1) + i
            n = lengths.get(ident, 5)
            write_wav(root / cls / f"{i}.wav", [ident] * n)
            ids[str(root / cls / f"{i}.wav")] = ident
    return ids


def test_labels_and_padding_per_batch(tmp_path):
    ids = make_tree(tmp_path, lengths={10: 3, 11: 7, 20: 9})
    ds = audio_dataset_from_directory(tmp_path, batch_size=3, shuffle=False, verbose=False)
    assert ds.class_names == ["cats", "dogs"]
    batches = list(ds)
    assert [b[0].shape for b in batches] == [(3, 7, 1), (3, 9, 1), (2, 5, 1)]
    x, y = batches[0]
    assert y.dtype == np.int32 and y.tolist() == [0, 0, 0]
    # file 10 (3 frames) is zero-padded to the batch's longest (7 frames)
    np.testing.assert_array_equal(x[0, :, 0] * 32768, [10, 10, 10, 0, 0, 0, 0])
    labels = np.concatenate([b[1] for b in batches])
    firsts = np.concatenate([b[0][:, 0, 0] for b in batches]) * 32768
    assert [ids[p] for p in ds.file_paths] == firsts.astype(int).tolist()
    assert labels.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]


def test_output_sequence_length_and_label_modes(tmp_path):
    make_tree(tmp_path, lengths={10: 3, 21: 12})
    ds = audio_dataset_from_directory(tmp_path, batch_size=8, output_sequence_length=6,
                                      label_mode="categorical", shuffle=False, verbose=False)
    x, y = next(iter(ds))
    assert x.shape == (8, 6, 1) and x.dtype == np.float32
    assert y.shape == (8, 2) and y.dtype == np.float32 and y.sum(axis=1).tolist() == [1.0] * 8
    ds = audio_dataset_from_directory(tmp_path, label_mode="binary", batch_size=8,
                                      shuffle=False, verbose=False)
    assert next(iter(ds))[1].shape == (8, 1)
    only = audio_dataset_from_directory(tmp_path, labels=None, batch_size=4,
                                        output_sequence_length=4, verbose=False)
    first = next(iter(only))
    assert isinstance(first, np.ndarray) and first.shape == (4, 4, 1)


def test_single_samples_and_validation_split(tmp_path):
    make_tree(tmp_path)
    one = audio_dataset_from_directory(tmp_path, batch_size=None, shuffle=False, verbose=False)
    x, y = next(iter(one))
    assert x.shape == (5, 1) and int(y) == 0
    train, val = audio_dataset_from_directory(tmp_path, validation_split=0.25, subset="both",
                                              seed=3, verbose=False)
    assert len(train.file_paths) == 6 and len(val.file_paths) == 2
    assert not set(train.file_paths) & set(val.file_paths)
    again = audio_dataset_from_directory(tmp_path, validation_split=0.25, subset="validation",
                                         seed=3, verbose=False)
    assert again.file_paths == val.file_paths


def test_sampling_rate_check(tmp_path):
    make_tree(tmp_path)
    ok = audio_dataset_from_directory(tmp_path, sampling_rate=8000, verbose=False)
    assert next(iter(ok))[0].shape[0] == 8
    wrong = audio_dataset_from_directory(tmp_path, sampling_rate=16000, verbose=False)
    with pytest.raises(ValueError, match=r"sampled at 8000 Hz.*Received: sampling_rate=16000$"):
        next(iter(wrong))


def test_channel_mismatch_in_a_batch(tmp_path):
    make_tree(tmp_path)
    write_wav(tmp_path / "cats" / "0.wav", [[1, 2]] * 5, channels=2)
    ds = audio_dataset_from_directory(tmp_path, batch_size=8, verbose=False)
    with pytest.raises(ValueError, match="different numbers of channels"):
        next(iter(ds))


def test_trains_a_model(tmp_path):
    import chainrule as cr

    make_tree(tmp_path)
    ds = audio_dataset_from_directory(tmp_path, batch_size=4, output_sequence_length=5,
                                      seed=0, verbose=False)
    model = cr.Sequential([cr.layers.Input((5, 1)), cr.layers.Flatten(),
                           cr.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
