"""Reading CIFAR's "python version" batches without unpickling them.

CIFAR-10 and CIFAR-100 are published as a ``.tar.gz`` of pickled dicts (a
``data`` array of uint8 rows of 3,072 pixels, channel-major, and lists of
labels). Keras unpickles them; chainrule parses each pickle with
:func:`chainrule.datasets._safe_pickle.loads_safely`, which builds dicts, lists,
bytes and NumPy arrays and refuses anything else. The batches are read straight
from the archive (nothing is extracted), or from a folder a user or Keras
extracted it to.
"""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chainrule.datasets import _download
from chainrule.datasets._download import RemoteFile
from chainrule.datasets._errors import CorruptDatasetError, UnsafeDatasetError
from chainrule.datasets._safe_pickle import PickleFormatError, UnsafePickleError, loads_safely

__all__ = ["CifarDataset", "load_cifar"]

#: The largest batch file accepted (CIFAR's are about 31 MB and 155 MB).
MAX_MEMBER_BYTES = 1 << 30


@dataclass(frozen=True)
class CifarDataset:
    """Where a CIFAR dataset is published and what its archive holds.

    Attributes:
        name: chainrule's cache folder, e.g. ``"cifar10"``.
        title: the name in messages.
        archive: the published ``.tar.gz``.
        origin: its https address.
        folder: the folder inside the archive, e.g. ``"cifar-10-batches-py"``.
        train, test: the batch files inside ``folder``.
        keras_names: what Keras calls its download (``<name>-target``).
    """

    name: str
    title: str
    archive: RemoteFile
    origin: str
    folder: str
    train: tuple[str, ...]
    test: tuple[str, ...]
    keras_name: str


def _decode(raw: bytes, where: str) -> dict:
    try:
        value = loads_safely(raw)
    except UnsafePickleError as e:
        raise UnsafeDatasetError(
            f"{where} was refused: {e}. The file may have been tampered with; delete it "
            "(it will be downloaded again)."
        ) from None
    except PickleFormatError as e:
        raise CorruptDatasetError(f"{where} is damaged: {e}.") from None
    if not isinstance(value, dict):
        raise CorruptDatasetError(f"{where} should hold a dict; it holds {type(value).__name__}.")
    return {k.decode("utf-8", "replace") if isinstance(k, bytes) else k: v
            for k, v in value.items()}


def _batch(raw: bytes, where: str, label_key: str) -> tuple[np.ndarray, list]:
    d = _decode(raw, where)
    data, labels = d.get("data"), d.get(label_key)
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or (
        data.shape[1] != 3 * 32 * 32
    ):
        raise CorruptDatasetError(
            f"{where} should hold 'data', uint8 rows of 3072 pixels; found "
            f"{getattr(data, 'dtype', type(data).__name__)} {getattr(data, 'shape', '')}."
        )
    if not isinstance(labels, list) or len(labels) != len(data) or not all(
        type(v) is int and 0 <= v < 256 for v in labels
    ):
        raise CorruptDatasetError(f"{where} should hold '{label_key}', one integer per image.")
    return data.reshape(len(data), 3, 32, 32), labels


def _members_from_tar(path: Path, raw: bytes, spec: CifarDataset,
                      names: tuple[str, ...]) -> dict[str, bytes]:
    wanted = {f"{spec.folder}/{n}": n for n in names}
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:*") as tar:
            for member in tar:
                key = wanted.get(member.name.lstrip("./"))
                if key is None:
                    continue
                if not member.isfile() or member.size > MAX_MEMBER_BYTES:
                    raise CorruptDatasetError(f"{path}:{member.name} is not a plain batch file.")
                with tar.extractfile(member) as f:
                    found[key] = f.read(MAX_MEMBER_BYTES + 1)
    except (tarfile.TarError, EOFError, OSError) as e:
        raise CorruptDatasetError(f"{path} is not a readable .tar.gz ({e}).") from None
    missing = [n for n in names if n not in found]
    if missing:
        raise CorruptDatasetError(f"{path} lacks the {spec.title} files {missing}.")
    return found


def _sources(spec: CifarDataset) -> tuple[list[Path], list[Path]]:
    """Folders holding the batch files, and archives, in the order they are tried."""
    mine = _download.dataset_dir(spec.name)
    keras = _download.keras_home() / "datasets"
    folders = [mine / spec.folder, keras / spec.keras_name / spec.folder, keras / spec.folder]
    archives = [keras / f"{spec.keras_name}_archive", keras / f"{spec.folder}.tar.gz"]
    return folders, archives


def load_cifar(
    spec: CifarDataset, label_key: str
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load a CIFAR dataset: images (n, 32, 32, 3) uint8 and labels as a list per split."""
    names = spec.train + spec.test
    folders, archives = _sources(spec)
    members: dict[str, bytes] | None = None
    where = ""
    for folder in folders:
        if all((folder / n).is_file() for n in names):
            members = {n: (folder / n).read_bytes() for n in names}
            where = str(folder)
            break
    if members is None:
        path, raw = _download.cached_file(spec.archive, (spec.origin,),
                                          _download.dataset_dir(spec.name), spec.title,
                                          also=tuple(archives))
        members = _members_from_tar(path, raw, spec, names)
        where = f"{path}:{spec.folder}"
    parts = {n: _batch(members[n], f"{where}/{n}", label_key) for n in names}
    splits = []
    for group in (spec.train, spec.test):
        x = np.concatenate([parts[n][0] for n in group])
        y = [v for n in group for v in parts[n][1]]
        splits.append((np.ascontiguousarray(x.transpose(0, 2, 3, 1)), y))
    return splits[0], splits[1]
