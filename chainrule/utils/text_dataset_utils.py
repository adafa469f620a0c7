"""``text_dataset_from_directory``: text files in class subfolders, in batches.

Example:
    >>> from chainrule.utils import text_dataset_from_directory
    >>> train = text_dataset_from_directory("aclImdb/train", batch_size=32,
    ...                                     validation_split=0.2, subset="training",
    ...                                     seed=42)  # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from chainrule.utils.image_dataset_utils import from_directory

__all__ = ["text_dataset_from_directory"]


def text_dataset_from_directory(
    directory: str | os.PathLike,
    labels: Any = "inferred",
    label_mode: str | None = "int",
    class_names: list[str] | None = None,
    batch_size: int | None = 32,
    max_length: int | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    follow_links: bool = False,
    verbose: bool = True,
) -> Any:
    """``.txt`` files from a folder with one subfolder per class, in batches.

    Keras's labelling, splitting and shuffling rules (see
    :func:`chainrule.utils.image_dataset_from_directory`). Each text is read as
    UTF-8 (undecodable bytes replaced) and, with ``max_length``, cut to its
    first ``max_length`` characters.

    Args:
        directory: the folder.
        labels: ``"inferred"``, None or a list of labels in sorted path order.
        label_mode: ``"int"``, ``"categorical"``, ``"binary"`` or None.
        class_names: the subfolders to use, in label order.
        batch_size: texts per batch (None: single texts).
        max_length: keep at most this many characters of each text.
        shuffle: shuffle the file list (with ``seed``) and each epoch.
        seed: seed of the shuffling (needed with ``validation_split``).
        validation_split: fraction of the files kept for validation.
        subset: ``"training"``, ``"validation"`` or ``"both"``.
        follow_links: follow symbolic links to folders.
        verbose: print how many files were found and used.

    Returns:
        A :class:`~chainrule.utils.BatchDataset` of ``(texts, labels)`` batches
        (texts as an object array of ``str``; map them through a
        ``TextVectorization`` layer before training), with ``class_names`` and
        ``file_paths``; a list ``[train, validation]`` for ``subset="both"``.

    Raises:
        ValueError: a folder without class subfolders or text files, and bad
            arguments (each named).
    """
    if max_length is not None and (isinstance(max_length, bool) or not isinstance(
            max_length, int) or max_length < 1):
        raise ValueError(f"max_length must be a positive integer or None. "
                         f"Received: max_length={max_length!r}")

    def read(paths: list) -> np.ndarray:
        texts = []
        for path in paths:
            with open(path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
            texts.append(text if max_length is None else text[:max_length])
        out = np.empty(len(texts), dtype=object)
        out[:] = texts
        return out

    return from_directory(directory, labels, label_mode, class_names, batch_size, shuffle, seed,
                          validation_split, subset, follow_links, verbose, (".txt",), "text files",
                          read)
