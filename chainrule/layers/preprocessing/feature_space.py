"""``FeatureSpace``: one object that preprocesses and encodes a table of features (Keras's).

Each named feature gets a preprocessing layer (``Normalization``, ``Discretization``,
``StringLookup``, ``IntegerLookup``, ``Hashing``, ``Rescaling``, or one of your own),
optional feature crosses get a ``HashedCrossing``, categorical outputs are one-hot
encoded with ``CategoryEncoding`` and everything is concatenated into one vector (or
returned as a dict). It works on NumPy data: ``adapt`` takes a dict of arrays or an
iterable of dict batches, and calling it takes a dict of arrays.
"""

from __future__ import annotations

import builtins
from typing import Any, Iterable

import numpy as np

from chainrule.autograd.engine import Tensor
from chainrule.layers.base import Layer, unique_name

__all__ = ["FeatureSpace", "Feature", "Cross"]

_FEATURE_TYPES = ("float", "float_normalized", "float_rescaled", "float_discretized",
                  "integer_categorical", "string_categorical", "integer_hashed",
                  "string_hashed")


def _layers() -> Any:
    import chainrule.layers as layers  # noqa: PLC0415  (the layers package imports this one)

    return layers


def _deserialize_layer(config: Any) -> Any:
    """A preprocessing layer from its config (chainrule's or a Keras file's)."""
    layers = _layers()
    if isinstance(config, dict) and config.get("class_name") == "TFDIdentity":
        return layers.Identity(**{k: v for k, v in config.get("config", {}).items()
                                  if k in ("name", "dtype", "trainable")})
    return layers.deserialize(config)


class Cross:
    """A feature cross: the named features hashed together into ``crossing_dim`` bins.

    Args:
        feature_names: the names of the features to cross (two or more).
        crossing_dim: the number of hashing bins.
        output_mode: ``"one_hot"`` (default) or ``"int"``.

    Example:
        >>> Cross(("a", "b"), crossing_dim=8).name
        'a_X_b'
    """

    def __init__(self, feature_names: Iterable[str], crossing_dim: int,
                 output_mode: str = "one_hot") -> None:
        if output_mode not in ("int", "one_hot"):
            raise ValueError("Invalid value for argument `output_mode`. Expected one of "
                             f"{{'int', 'one_hot'}}. Received: output_mode={output_mode!r}")
        if isinstance(feature_names, str) or not isinstance(feature_names, Iterable):
            raise TypeError("FeatureSpace.cross: `feature_names` must be a tuple of feature "
                            f"names. Received: feature_names={feature_names!r}")
        self.feature_names = tuple(feature_names)
        self.crossing_dim = crossing_dim
        self.output_mode = output_mode

    @property
    def name(self) -> str:
        """The features' names joined by ``"_X_"``."""
        return "_X_".join(self.feature_names)

    def get_config(self) -> dict:
        """``feature_names``, ``crossing_dim`` and ``output_mode``."""
        return {"feature_names": self.feature_names, "crossing_dim": self.crossing_dim,
                "output_mode": self.output_mode}

    @classmethod
    def from_config(cls, config: dict) -> Cross:
        """A cross from :meth:`get_config`'s dict."""
        return cls(**config)


class Feature:
    """A feature: its input dtype, its preprocessing layer and how its output is encoded.

    Args:
        dtype: the input's dtype (``"float32"``, ``"int32"``, ``"string"``).
        preprocessor: a layer (or a layer's serialized config).
        output_mode: ``"float"``, ``"int"`` or ``"one_hot"``.

    Example:
        >>> import chainrule as cr
        >>> f = Feature("float32", cr.layers.Rescaling(2.0), "float")
        >>> f.output_mode
        'float'
    """

    def __init__(self, dtype: str, preprocessor: Any, output_mode: str) -> None:
        if output_mode not in ("int", "one_hot", "float"):
            raise ValueError("Invalid value for argument `output_mode`. Expected one of "
                             "{'int', 'one_hot', 'float'}. Received: "
                             f"output_mode={output_mode!r}")
        if isinstance(preprocessor, dict):
            preprocessor = _deserialize_layer(preprocessor)
        if not callable(preprocessor):
            raise TypeError("FeatureSpace.feature: `preprocessor` must be a layer. Received: "
                            f"preprocessor of type {type(preprocessor).__name__}")
        self.dtype = dtype
        self.preprocessor = preprocessor
        self.output_mode = output_mode

    def get_config(self) -> dict:
        """``dtype``, the serialized ``preprocessor`` and ``output_mode``."""
        return {"dtype": self.dtype, "preprocessor": _layers().serialize(self.preprocessor),
                "output_mode": self.output_mode}

    @classmethod
    def from_config(cls, config: dict) -> Feature:
        """A feature from :meth:`get_config`'s dict."""
        return cls(**config)


def _serialize(obj: Any) -> dict:
    return {"module": "chainrule.utils", "class_name": type(obj).__name__,
            "config": obj.get_config(), "registered_name": None}


def _deserialize(config: dict, what: str) -> Any:
    kinds = {"Feature": Feature, "Cross": Cross}
    cls = kinds.get(config.get("class_name")) if isinstance(config, dict) else None
    if cls is None:
        raise ValueError(f"FeatureSpace: cannot read {what} from this config: expected a "
                         f"serialized Feature or Cross. Received: {what}={config!r}")
    return cls.from_config(dict(config.get("config", {})))


def _as_array(x: Any) -> np.ndarray:
    """A column as a NumPy array (Tensors on any backend, lists, pandas objects)."""
    from chainrule.layers.preprocessing._utils import to_numpy  # noqa: PLC0415

    return to_numpy(x)


def _feature_batches(elements: list) -> list:
    """One feature's batches for ``adapt``, made as Keras makes them from a dataset.

    Scalar elements are grouped in batches of 32; every batch of rank 0 or 1 gets a
    last axis of size 1.
    """
    if elements[0].ndim == 0:
        column = np.stack(elements)
        elements = [column[i:i + 32] for i in range(0, len(column), 32)]
    return [e[..., None] if e.ndim == 1 else e for e in elements]


class FeatureSpace(Layer):
    """One-stop preprocessing and encoding of structured data (Keras's ``utils.FeatureSpace``).

    Each feature is named with its type, as a string (default arguments) or as one
    of the helpers below: ``FeatureSpace.float()``, ``float_rescaled(scale, offset)``,
    ``float_normalized()``, ``float_discretized(num_bins, bin_boundaries,
    output_mode)``, ``integer_categorical(max_tokens, num_oov_indices,
    output_mode)``, ``string_categorical(...)``, ``integer_hashed(num_bins,
    output_mode)``, ``string_hashed(num_bins, output_mode)`` and
    ``feature(dtype, preprocessor, output_mode)`` for your own layer. Crosses hash
    the preprocessed values of several features together.

    Call :meth:`adapt` on the data first, then call the space on a dict of arrays
    (batched or one sample), or build a model on :meth:`get_inputs` and
    :meth:`get_encoded_features`. Features are encoded in sorted name order,
    then the crosses in sorted name order.

    Args:
        features: dict mapping each feature's name to its type (a string or a helper's
            result).
        output_mode: ``"concat"`` (one float vector per sample) or ``"dict"``.
        crosses: the crosses, as tuples of feature names or ``FeatureSpace.cross(...)``.
        crossing_dim: the hashing size of crosses given as tuples. Defaults to 32.
        hashing_dim: the number of bins of ``"integer_hashed"`` and ``"string_hashed"``
            features named by string. Defaults to 32.
        num_discretization_bins: the bins of ``"float_discretized"`` features named by
            string. Defaults to 32.
        name: the object's name.

    Returns (when called):
        A float32 tensor of shape ``(batch, total_dim)`` in ``"concat"`` mode, else a
        dict of the encoded features (``(total_dim,)`` for one unbatched sample).

    Example:
        >>> fs = FeatureSpace({"x": "float_normalized", "c": "string_categorical"})
        >>> fs.adapt({"x": np.array([1.0, 2.0, 3.0]), "c": np.array(["a", "b", "a"])})
        >>> fs({"x": np.array([2.0]), "c": np.array(["b"])}).numpy().tolist()
        [[0.0, 0.0, 1.0, 0.0]]
    """

    # -- the feature helpers ----------------------------------------------------
    @classmethod
    def cross(cls, feature_names: Iterable[str], crossing_dim: int,
              output_mode: str = "one_hot") -> Cross:
        """A cross of ``feature_names`` hashed into ``crossing_dim`` bins."""
        return Cross(feature_names, crossing_dim, output_mode=output_mode)

    @classmethod
    def feature(cls, dtype: str, preprocessor: Any, output_mode: str) -> Feature:
        """A feature preprocessed by your own layer ``preprocessor``."""
        return Feature(dtype, preprocessor, output_mode)

    @classmethod
    def float(cls, name: str | None = None) -> Feature:
        """Plain float values, passed through."""
        name = name or unique_name("float")
        return Feature("float32", _layers().Identity(dtype="float32",
                                                     name=f"{name}_preprocessor"), "float")

    @classmethod
    def float_rescaled(cls, scale: builtins.float = 1.0, offset: builtins.float = 0.0,
                       name: str | None = None) -> Feature:
        """Float values times ``scale`` plus ``offset`` (a ``Rescaling`` layer)."""
        name = name or unique_name("float_rescaled")
        return Feature("float32", _layers().Rescaling(scale=scale, offset=offset,
                                                      name=f"{name}_preprocessor"), "float")

    @classmethod
    def float_normalized(cls, name: str | None = None) -> Feature:
        """Float values standardized by their adapted mean and variance (``Normalization``)."""
        name = name or unique_name("float_normalized")
        return Feature("float32", _layers().Normalization(axis=-1,
                                                          name=f"{name}_preprocessor"), "float")

    @classmethod
    def float_discretized(cls, num_bins: int, bin_boundaries: Any = None,
                          output_mode: str = "one_hot", name: str | None = None) -> Feature:
        """Float values bucketed into ``num_bins`` adapted quantile bins (``Discretization``)."""
        name = name or unique_name("float_discretized")
        layer = _layers().Discretization(num_bins=num_bins, bin_boundaries=bin_boundaries,
                                         name=f"{name}_preprocessor")
        return Feature("float32", layer, output_mode)

    @classmethod
    def integer_categorical(cls, max_tokens: int | None = None, num_oov_indices: int = 1,
                            output_mode: str = "one_hot", name: str | None = None) -> Feature:
        """Integer values indexed by an adapted vocabulary (``IntegerLookup``)."""
        name = name or unique_name("integer_categorical")
        layer = _layers().IntegerLookup(name=f"{name}_preprocessor", max_tokens=max_tokens,
                                        num_oov_indices=num_oov_indices)
        return Feature("int32", layer, output_mode)

    @classmethod
    def string_categorical(cls, max_tokens: int | None = None, num_oov_indices: int = 1,
                           output_mode: str = "one_hot", name: str | None = None) -> Feature:
        """String values indexed by an adapted vocabulary (``StringLookup``)."""
        name = name or unique_name("string_categorical")
        layer = _layers().StringLookup(name=f"{name}_preprocessor", max_tokens=max_tokens,
                                       num_oov_indices=num_oov_indices)
        return Feature("string", layer, output_mode)

    @classmethod
    def string_hashed(cls, num_bins: int, output_mode: str = "one_hot",
                      name: str | None = None) -> Feature:
        """String values hashed into ``num_bins`` bins (``Hashing``)."""
        name = name or unique_name("string_hashed")
        return Feature("string", _layers().Hashing(name=f"{name}_preprocessor",
                                                   num_bins=num_bins), output_mode)

    @classmethod
    def integer_hashed(cls, num_bins: int, output_mode: str = "one_hot",
                       name: str | None = None) -> Feature:
        """Integer values hashed into ``num_bins`` bins (``Hashing``)."""
        name = name or unique_name("integer_hashed")
        return Feature("int32", _layers().Hashing(name=f"{name}_preprocessor",
                                                  num_bins=num_bins), output_mode)

    # -- construction -----------------------------------------------------------
    def __init__(self, features: dict, output_mode: str = "concat", crosses: Any = None,
                 crossing_dim: int = 32, hashing_dim: int = 32,
                 num_discretization_bins: int = 32, name: str | None = None) -> None:
        super().__init__(name=name)
        if not features:
            raise ValueError("The `features` argument cannot be None or empty. "
                             f"Received: features={features!r}")
        if not isinstance(features, dict):
            raise TypeError("FeatureSpace: `features` must be a dict mapping feature names to "
                            f"types. Received: features of type {type(features).__name__}")
        if output_mode not in ("dict", "concat"):
            raise ValueError("Invalid value for argument `output_mode`. Expected one of "
                             f"{{'dict', 'concat'}}. Received: output_mode={output_mode!r}")
        self.crossing_dim = crossing_dim
        self.hashing_dim = hashing_dim
        self.num_discretization_bins = num_discretization_bins
        self.features = {n: self._standardize_feature(n, v) for n, v in features.items()}
        self.crosses = []
        for cross in crosses or []:
            if isinstance(cross, dict):
                cross = _deserialize(cross, "crosses")
            if not isinstance(cross, Cross):
                if not crossing_dim:
                    raise ValueError("When specifying `crosses`, the argument `crossing_dim` "
                                     "(dimensionality of the crossing space) should be "
                                     f"specified as well. Received: crossing_dim={crossing_dim!r}")
                cross = Cross(cross, crossing_dim=crossing_dim)
            unknown = [k for k in cross.feature_names if k not in self.features]
            if unknown:
                raise ValueError("All features referenced in the `crosses` argument should be "
                                 "present in the `features` dict. Received: unknown features "
                                 f"{unknown} in crosses={cross.feature_names!r}")
            self.crosses.append(cross)
        self.crosses_by_name = {c.name: c for c in self.crosses}
        self.output_mode = output_mode
        layers = _layers()
        self.inputs = {n: layers.Input(shape=(1,), dtype=f.dtype, name=n)
                       for n, f in self.features.items()}
        self.preprocessors = {n: f.preprocessor for n, f in self.features.items()}
        self.crossers = {c.name: layers.HashedCrossing(c.crossing_dim, name=c.name)
                         for c in self.crosses}
        self.encoded_features = None
        self.one_hot_encoders: dict = {}
        self.concat = None
        self._is_adapted = False
        self._sublayers_built = False

    def _standardize_feature(self, name: str, feature: Any) -> Feature:
        if isinstance(feature, Feature):
            return feature
        if isinstance(feature, dict):
            return _deserialize(feature, f"features[{name!r}]")
        makers = {
            "float": lambda: self.float(name=name),
            "float_normalized": lambda: self.float_normalized(name=name),
            "float_rescaled": lambda: self.float_rescaled(name=name),
            "float_discretized": lambda: self.float_discretized(
                num_bins=self.num_discretization_bins, name=name),
            "integer_categorical": lambda: self.integer_categorical(name=name),
            "string_categorical": lambda: self.string_categorical(name=name),
            "integer_hashed": lambda: self.integer_hashed(self.hashing_dim, name=name),
            "string_hashed": lambda: self.string_hashed(self.hashing_dim, name=name),
        }
        if isinstance(feature, str) and feature in makers:
            return makers[feature]()
        raise ValueError(f"Invalid feature type for feature {name!r}. Expected one of "
                         f"{', '.join(_FEATURE_TYPES)} or a FeatureSpace helper's result. "
                         f"Received: features[{name!r}]={feature!r}")

    # -- adapt ------------------------------------------------------------------
    def _list_adaptable_preprocessors(self) -> list:
        layers = _layers()
        names = []
        for name in self.features:
            pre = self.preprocessors[name]
            if isinstance(pre, layers.Normalization) and pre.input_mean is not None:
                continue  # preset mean and variance
            if isinstance(pre, layers.TextVectorization) and pre._lookup._has_input_vocabulary:
                continue  # a given vocabulary
            if hasattr(pre, "adapt"):
                names.append(name)
        return names

    def adapt(self, dataset: Any) -> None:
        """Adapt every adaptable preprocessor on its feature's values.

        Args:
            dataset: a dict of arrays or lists (one value per row), or an iterable
                (list, generator, ``BatchDataset``, ``PyDataset``) of dict batches or of
                ``(dict, labels)`` pairs. As in Keras, rows of a dict are read in
                batches of 32; a batch of rank 1 gets a last axis of size 1.

        Raises:
            TypeError: for anything else.
            ValueError: for an empty dataset or one missing a feature.
        """
        names = self._list_adaptable_preprocessors()
        if isinstance(dataset, dict):
            columns = {n: _as_array(v) for n, v in dataset.items()}
            per_feature = {}
            for name in names:
                column = self._column(columns, name)
                if column.ndim == 0 or len(column) == 0:
                    raise ValueError(f"FeatureSpace.adapt(): feature {name!r} has no rows. "
                                     f"Received: dataset[{name!r}] of shape {column.shape}")
                per_feature[name] = _feature_batches(list(column))
        elif isinstance(dataset, (str, bytes, np.ndarray, Tensor)) or not hasattr(
                dataset, "__iter__") and not hasattr(dataset, "__getitem__"):
            raise TypeError("`adapt()` can only be called on a dict of arrays/lists or an "
                            "iterable of dict batches. Received: dataset of type "
                            f"{type(dataset).__name__}")
        else:
            elements = []
            for batch in dataset:
                if isinstance(batch, tuple) and len(batch) in (2, 3):
                    batch = batch[0]
                if not isinstance(batch, dict):
                    raise TypeError("`adapt()` needs batches that are dicts of feature values. "
                                    f"Received: a batch of type {type(batch).__name__}")
                elements.append(batch)
            if not elements:
                raise ValueError("`adapt()` received an empty dataset (no batches). "
                                 f"Received: dataset of type {type(dataset).__name__}")
            per_feature = {n: _feature_batches([self._column(e, n) for e in elements])
                           for n in names}
        for name in names:
            self.preprocessors[name].adapt(iter(per_feature[name]))
        self._is_adapted = True
        self.get_encoded_features()  # finishes building the encoders and the concat
        self.built = True
        self._sublayers_built = True

    @staticmethod
    def _column(batch: dict, name: str) -> np.ndarray:
        if name not in batch:
            raise ValueError(f"FeatureSpace: the data has no feature {name!r}. Received: keys "
                             f"{sorted(batch)}")
        return _as_array(batch[name])

    # -- building ---------------------------------------------------------------
    def get_inputs(self) -> dict:
        """The dict of symbolic ``Input`` tensors, one of shape ``(None, 1)`` per feature."""
        self._check_if_built()
        return self.inputs

    def get_encoded_features(self) -> Any:
        """The encoded features as symbolic tensors: build a model on them.

        Returns:
            One ``(None, total_dim)`` tensor in ``"concat"`` mode, else a dict.

        Raises:
            ValueError: when the space has adaptable preprocessors and was not adapted.
        """
        self._check_if_adapted()
        if self.encoded_features is None:
            pre = self._preprocess_features(self.inputs)
            self.encoded_features = self._merge_features(pre, self._cross_features(pre))
        return self.encoded_features

    def _preprocess_features(self, features: dict) -> dict:
        return {name: self.preprocessors[name](features[name]) for name in features}

    def _cross_features(self, features: dict) -> dict:
        return {c.name: self.crossers[c.name]([features[n] for n in c.feature_names])
                for c in self.crosses}

    def _cardinality(self, name: str, spec: Any) -> int:
        layers = _layers()
        pre = self.preprocessors.get(name) or self.crossers.get(name)
        if isinstance(pre, (layers.IntegerLookup, layers.StringLookup)):
            return pre.vocabulary_size()
        if isinstance(pre, layers.CategoryEncoding):
            return pre.num_tokens
        if isinstance(pre, (layers.Discretization, layers.HashedCrossing, layers.Hashing)):
            if pre.num_bins is None and isinstance(pre, layers.Discretization):
                return len(pre.bin_boundaries) + 1
            return pre.num_bins
        raise ValueError(f"Feature '{name}' has `output_mode='one_hot'`. However it isn't a "
                         "standard feature and the dimensionality of its output space is not "
                         "known, thus it cannot be one-hot encoded. Try using "
                         f"`output_mode='int'`. Received: preprocessor={type(pre).__name__}")

    def _merge_features(self, preprocessed: dict, crossed: dict) -> Any:
        layers = _layers()
        pre_names, cross_names = sorted(preprocessed), sorted(crossed)
        names = pre_names + cross_names
        values = [preprocessed[n] for n in pre_names] + [crossed[n] for n in cross_names]
        specs = [self.features[n] for n in pre_names] + [self.crosses_by_name[n]
                                                         for n in cross_names]
        out = {}
        for name, value, spec in zip(names, values, specs):
            if not self._sublayers_built and spec.output_mode == "one_hot":
                dtype = str(value.dtype)
                if not dtype.startswith(("int", "uint")):
                    raise ValueError(f"Feature '{name}' has `output_mode='one_hot'`. Thus its "
                                     "preprocessor should return an integer dtype. Received: "
                                     f"a {dtype} dtype")
                self.one_hot_encoders[name] = layers.CategoryEncoding(
                    num_tokens=self._cardinality(name, spec), output_mode="multi_hot")
            encoder = self.one_hot_encoders.get(name)
            out[name] = encoder(value) if encoder is not None else value
        if self.output_mode == "dict":
            return out
        if not self._sublayers_built:
            for name, value in out.items():
                dtype = str(value.dtype)
                if dtype.startswith(("int", "uint")) or dtype in ("string", "str", "object"):
                    raise ValueError(f"Cannot concatenate features because feature '{name}' "
                                     f"has not been encoded (it has dtype {dtype}). Consider "
                                     "using `output_mode='dict'`. Received: "
                                     f"output_mode='concat'")
            self.concat = layers.Concatenate(axis=-1)
        return self.concat(list(out.values()))

    def _check_if_adapted(self) -> None:
        if not self._is_adapted:
            if self._list_adaptable_preprocessors():
                raise ValueError("You need to call `.adapt(dataset)` on the FeatureSpace "
                                 "before you can start using it. Received: an unadapted "
                                 f"FeatureSpace {self.name!r}")
            self._is_adapted = True

    def _check_if_built(self) -> None:
        if not self._sublayers_built:
            self._check_if_adapted()
            self.get_encoded_features()
            self._sublayers_built = True
            self.built = True

    # -- calling ----------------------------------------------------------------
    def __call__(self, data: Any) -> Any:  # type: ignore[override]
        """Encode a dict of arrays (``(batch,)``, ``(batch, 1)`` or one unbatched sample)."""
        self._check_if_built()
        if not isinstance(data, dict):
            raise ValueError("A FeatureSpace can only be called with a dict. Received: "
                             f"data of type {type(data).__name__}")
        from chainrule.layers.preprocessing._utils import keep_integers  # noqa: PLC0415

        missing = [n for n in self.features if n not in data]
        if missing:
            raise ValueError(f"FeatureSpace: the data has no feature(s) {missing}. Received: "
                             f"keys {sorted(data)}")
        batch, rebatched = {}, False
        for name, feature in self.features.items():
            arr = _as_array(data[name])
            if arr.dtype == object:
                arr = arr.astype(str)
            elif arr.dtype.kind == "f" and feature.dtype == "float32":
                arr = arr.astype(np.float32)  # the dtype of the feature's Input, as in Keras
            if arr.ndim == 0:
                arr = arr.reshape(1, 1)
                rebatched = True
            elif arr.ndim == 1:
                arr = arr[:, None]
            batch[name] = keep_integers(arr)
        pre = self._preprocess_features(batch)
        merged = self._merge_features(pre, self._cross_features(pre))
        if rebatched:
            if self.output_mode == "concat":
                return merged[0]
            return {n: v[0] if len(v.shape) == 2 and v.shape[0] == 1 else v
                    for n, v in merged.items()}
        return merged

    def call(self, inputs: Any, training: Any = None) -> Any:
        return self(inputs)

    # -- config -----------------------------------------------------------------
    def get_config(self) -> dict:
        """The features and crosses serialized, and the other constructor arguments."""
        return {"name": self.name,
                "features": {n: _serialize(f) for n, f in self.features.items()},
                "output_mode": self.output_mode,
                "crosses": [_serialize(c) for c in self.crosses],
                "crossing_dim": self.crossing_dim, "hashing_dim": self.hashing_dim,
                "num_discretization_bins": self.num_discretization_bins}

    @classmethod
    def from_config(cls, config: dict) -> FeatureSpace:
        """A FeatureSpace from :meth:`get_config`'s dict (or a Keras file's)."""
        config = dict(config)
        config.pop("trainable", None)
        config.pop("dtype", None)
        return cls(**config)
