"""``audio_dataset_from_directory``: ``.wav`` files in class subfolders, in batches.

Example:
    >>> from chainrule.utils import audio_dataset_from_directory
    >>> train, val = audio_dataset_from_directory("speech_commands", batch_size=32,
    ...                                           output_sequence_length=16000,
    ...                                           validation_split=0.2, subset="both",
    ...                                           seed=0)  # doctest: +SKIP
"""

from __future__ import annotations

import os
import wave
from typing import Any

import numpy as np

from chainrule.utils.image_dataset_utils import from_directory

__all__ = ["audio_dataset_from_directory", "read_wav"]

ALLOWED_FORMATS = (".wav",)


def read_wav(path: str | os.PathLike, desired_samples: int | None = None) -> tuple:
    """A PCM ``.wav`` file as float32 samples in ``[-1, 1)`` and its sampling rate.

    Like ``tf.audio.decode_wav``: 16-bit samples are divided by 32768, and with
    ``desired_samples`` the audio is cut or zero-padded to that many frames.
    8-bit (unsigned), 24-bit and 32-bit PCM files are read too, scaled by their
    full range (TensorFlow reads 16-bit files only).

    Args:
        path: the file.
        desired_samples: the number of frames to return (None: all of them).

    Returns:
        ``(audio, sampling_rate)``: a float32 array of shape ``(frames, channels)``
        and an int.

    Raises:
        ValueError: for a file that is not a PCM wav file (naming it).

    Example:
        >>> import io, wave
        >>> buf = io.BytesIO()
        >>> with wave.open(buf, "wb") as w:
        ...     w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
        ...     w.writeframes(np.array([0, 16384, -32768], "<i2").tobytes())
        >>> _ = buf.seek(0)
        >>> audio, rate = read_wav(buf)
        >>> audio.ravel().tolist(), rate
        ([0.0, 0.5, -1.0], 8000)
    """
    name = os.fspath(path) if isinstance(path, (str, os.PathLike)) else "<file object>"
    try:
        with wave.open(path if not isinstance(path, os.PathLike) else os.fspath(path),
                       "rb") as w:
            channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
            raw = w.readframes(w.getnframes())
    except (wave.Error, EOFError) as e:
        raise ValueError(f"Cannot read {name} as a PCM wav file ({e}). "
                         f"Received: path={name!r}") from None
    if width == 1:
        samples = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 2:
        samples = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    elif width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        ints = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        ints = np.where(ints >= 1 << 23, ints - (1 << 24), ints)
        samples = (ints.astype(np.float64) / float(1 << 23)).astype(np.float32)
    elif width == 4:
        samples = (np.frombuffer(raw, "<i4").astype(np.float64) / float(1 << 31)).astype(
            np.float32)
    else:
        raise ValueError(f"{name}: only 8, 16, 24 and 32-bit PCM wav files can be read. "
                         f"Received: a sample width of {width * 8} bits")
    audio = samples[: len(samples) // channels * channels].reshape(-1, channels)
    if desired_samples is not None:
        audio = _fit_length(audio, desired_samples)
    return audio, rate


def _fit_length(audio: np.ndarray, length: int) -> np.ndarray:
    if len(audio) >= length:
        return audio[:length]
    out = np.zeros((length, audio.shape[1]), dtype=np.float32)
    out[: len(audio)] = audio
    return out


def audio_dataset_from_directory(
    directory: str | os.PathLike,
    labels: Any = "inferred",
    label_mode: str | None = "int",
    class_names: list[str] | None = None,
    batch_size: int | None = 32,
    sampling_rate: int | None = None,
    output_sequence_length: int | None = None,
    ragged: bool = False,
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    follow_links: bool = False,
    verbose: bool = True,
) -> Any:
    """``.wav`` files from a folder with one subfolder per class, in batches.

    Keras's labelling, splitting and shuffling rules (see
    :func:`chainrule.utils.image_dataset_from_directory`). Each file is read
    with :func:`read_wav` (float32 in ``[-1, 1)``, shape ``(frames, channels)``).
    Without ``output_sequence_length`` the sequences of a batch are zero-padded
    to the longest of the batch, as Keras's ``padded_batch``.

    Args:
        directory: the folder.
        labels: ``"inferred"``, None or a list of labels in sorted path order.
        label_mode: ``"int"``, ``"categorical"``, ``"binary"`` or None.
        class_names: the subfolders to use, in label order.
        batch_size: files per batch (None: single files).
        sampling_rate: the sampling rate every file must have (chainrule does not
            resample: a file at another rate is an error).
        output_sequence_length: cut or zero-pad every file to this many frames.
        ragged: must be False (chainrule has no ragged tensors).
        shuffle: shuffle the file list (with ``seed``) and each epoch.
        seed: seed of the shuffling (needed with ``validation_split``).
        validation_split: fraction of the files kept for validation.
        subset: ``"training"``, ``"validation"`` or ``"both"``.
        follow_links: follow symbolic links to folders.
        verbose: print how many files were found and used.

    Returns:
        A :class:`~chainrule.utils.BatchDataset` of ``(audio, labels)`` batches,
        audio of shape ``(batch, sequence_length, channels)``, with
        ``class_names`` and ``file_paths``; a list ``[train, validation]`` for
        ``subset="both"``.

    Raises:
        ValueError: ``ragged=True``, a bad ``sampling_rate`` or
            ``output_sequence_length``, a file at another sampling rate, files of
            one batch with different channel counts, and the folder errors of
            ``image_dataset_from_directory``.
    """
    if ragged:
        raise ValueError("audio_dataset_from_directory: ragged=True is not supported, "
                         "chainrule has no ragged tensors. Leave output_sequence_length=None "
                         "to pad each batch to its longest file, or set it to cut and pad "
                         f"every file to one length. Received: ragged={ragged!r}")
    if sampling_rate is not None and (isinstance(sampling_rate, bool) or not isinstance(
            sampling_rate, (int, np.integer)) or sampling_rate <= 0):
        raise ValueError("`sampling_rate` should be a positive integer. "
                         f"Received: sampling_rate={sampling_rate!r}")
    if output_sequence_length is not None and (
            isinstance(output_sequence_length, bool) or not isinstance(
                output_sequence_length, (int, np.integer)) or output_sequence_length < 1):
        raise ValueError("`output_sequence_length` should be a positive integer or None. "
                         f"Received: output_sequence_length={output_sequence_length!r}")

    def read(paths: list) -> np.ndarray:
        clips = []
        for path in paths:
            audio, rate = read_wav(path, output_sequence_length)
            if sampling_rate is not None and rate != sampling_rate:
                raise ValueError(f"{path} is sampled at {rate} Hz, not at sampling_rate="
                                 f"{sampling_rate}; chainrule does not resample audio. "
                                 f"Received: sampling_rate={sampling_rate!r}")
            clips.append(audio)
        if len({c.shape[1] for c in clips}) > 1:
            raise ValueError("audio_dataset_from_directory: the files of one batch have "
                             "different numbers of channels. Received: "
                             f"{ {p: c.shape[1] for p, c in zip(paths, clips)} }")
        length = max(len(c) for c in clips)
        return np.stack([_fit_length(c, length) for c in clips])

    return from_directory(directory, labels, label_mode, class_names, batch_size, shuffle, seed,
                          validation_split, subset, follow_links, verbose, ALLOWED_FORMATS,
                          "audio files", read)
