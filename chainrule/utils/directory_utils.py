"""Listing a folder of files by class, with Keras's labelling and splitting rules.

``labels="inferred"``: every subfolder of ``directory`` (sorted by name,
hidden ones skipped) is a class, and every file of an allowed type anywhere
below it is a sample of that class. Files are listed folder by folder in
sorted order, then (with ``shuffle``) shuffled with
``np.random.RandomState(seed)``, so the same folder and seed give the same
file order, labels and training/validation split as Keras.

Example:
    >>> check_validation_split_arg(0.2, "training", True, 1337)
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

__all__ = ["check_validation_split_arg", "index_directory", "split_for_subset"]


def check_validation_split_arg(validation_split: Any, subset: Any, shuffle: bool,
                               seed: Any) -> None:
    """Keras's checks of ``validation_split``, ``subset``, ``shuffle`` and ``seed``.

    Raises:
        ValueError: naming the argument.
    """
    if validation_split is not None and (
        isinstance(validation_split, bool) or not isinstance(validation_split, (int, float))
        or not 0 < validation_split < 1
    ):
        raise ValueError("validation_split must be a number in (0, 1). "
                         f"Received: validation_split={validation_split!r}")
    if bool(validation_split) != bool(subset):
        raise ValueError("subset and validation_split go together: set both or neither. "
                         f"Received: validation_split={validation_split!r}, subset={subset!r}")
    if subset not in ("training", "validation", "both", None):
        raise ValueError('subset must be "training", "validation" or "both". '
                         f"Received: subset={subset!r}")
    if validation_split and shuffle and seed is None:
        raise ValueError(
            "With validation_split and shuffle=True, pass a seed, so that the training and "
            "validation subsets (made by two calls) do not overlap. Received: seed=None"
        )


def _valid_files(directory: str, follow_links: bool, formats: tuple[str, ...]):
    for root, _, files in sorted(os.walk(directory, followlinks=follow_links),
                                 key=lambda entry: entry[0]):
        for name in sorted(files):
            if name.lower().endswith(formats):
                yield root, name


def index_directory(
    directory: str,
    labels: Any,
    formats: tuple[str, ...],
    class_names: Any = None,
    shuffle: bool = True,
    seed: int | None = None,
    follow_links: bool = False,
    verbose: bool = True,
    what: str = "files",
) -> tuple[list[str], Any, list[str] | None]:
    """List the samples below ``directory`` with their labels (see the module notes).

    Args:
        directory: the folder.
        labels: ``"inferred"``, None, or a list of labels, one per file in
            sorted path order.
        formats: allowed file name endings (lower case, with the dot).
        class_names: with ``labels="inferred"``, the subfolders to use, in this
            order (a subset of them).
        shuffle: shuffle the list with ``np.random.RandomState(seed)``.
        seed: the seed (None: a random one, as Keras).
        follow_links: follow symbolic links to folders.
        verbose: print ``Found N files belonging to M classes.``
        what: the word for the samples in messages ("images", "files").

    Returns:
        ``(file_paths, labels, class_names)``; labels is an int32 array (or the
        given list, or None).

    Raises:
        ValueError: a folder that is missing, has no class subfolders, or
            ``class_names``/``labels`` that do not fit it.
    """
    if not isinstance(directory, (str, os.PathLike)) or not os.path.isdir(directory):
        raise ValueError(f"directory must be an existing folder. Received: directory={directory!r}")
    directory = os.fspath(directory)
    inferred = isinstance(labels, str) and labels == "inferred"
    if inferred:
        subdirs = [d for d in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")]
        if not subdirs:
            count = sum(1 for _ in _valid_files(directory, follow_links, formats))
            raise ValueError(
                f"{directory} has no class subfolders: with labels=\"inferred\" each class is "
                f"a subfolder holding its {what} (e.g. {directory}/cats/, {directory}/dogs/). "
                "For a folder without classes pass labels=None. "
                f"Received: directory={directory!r} holding {count} {what} and no subfolders"
            )
        if class_names is not None:
            if not set(class_names) <= set(subdirs):
                raise ValueError(
                    f"class_names must name subfolders of {directory} (expected a subset of "
                    f"{subdirs}). Received: class_names={list(class_names)!r}"
                )
            subdirs = list(class_names)
    else:
        if class_names is not None:
            raise ValueError("class_names can only be given with labels=\"inferred\". "
                             f"Received: labels={labels!r}, class_names={class_names!r}")
        subdirs = [""]
    indices = {name: i for i, name in enumerate(subdirs)}
    paths: list[str] = []
    label_list: list[int] = []
    for sub in subdirs:
        top = os.path.join(directory, sub)
        for root, name in _valid_files(top, follow_links, formats):
            rel = os.path.relpath(os.path.join(root, name), top)
            paths.append(os.path.join(directory, sub, rel) if sub else os.path.join(directory, rel))
            label_list.append(indices[sub])
    if inferred:
        out_labels: Any = np.asarray(label_list, dtype="int32")
        names: list[str] | None = subdirs
    elif labels is None:
        out_labels, names = None, None
    else:
        if len(labels) != len(paths):
            raise ValueError(
                f"labels must have one label per file ({len(paths)} files in {directory}). "
                f"Received: labels of length {len(labels)}"
            )
        out_labels = list(labels)
        names = [str(v) for v in sorted(set(labels))]
    if verbose:
        if out_labels is None:
            print(f"Found {len(paths)} files.")
        else:
            print(f"Found {len(paths)} files belonging to {len(names or [])} classes.")
    if shuffle and paths:
        seed = seed if seed is not None else np.random.randint(10**6)
        np.random.RandomState(seed).shuffle(paths)
        if out_labels is not None:
            np.random.RandomState(seed).shuffle(out_labels)
    return paths, out_labels, names


def split_for_subset(paths: list, labels: Any, validation_split: Any, subset: Any,
                     verbose: bool = True) -> tuple[list, Any]:
    """Keras's split: the last ``int(validation_split * n)`` samples are the validation set."""
    if not validation_split:
        return paths, labels
    n_val = int(validation_split * len(paths))
    if subset == "training":
        if verbose:
            print(f"Using {len(paths) - n_val} files for training.")
        cut = slice(0, len(paths) - n_val)
    else:
        if verbose:
            print(f"Using {n_val} files for validation.")
        cut = slice(len(paths) - n_val, len(paths))
    return paths[cut], None if labels is None else labels[cut]
