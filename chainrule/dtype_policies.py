"""Dtype policies (``keras.dtype_policies``, ``keras.config.set_dtype_policy``).

A policy names the dtype a layer computes in and the dtype of its weights. chainrule
honours the policies whose two dtypes are the same float type NumPy has:
``"float16"``, ``"float32"`` and ``"float64"``. It refuses, with an error naming
the policy, ``"mixed_float16"``/``"mixed_bfloat16"`` (layers compute in the dtype of
their weights: there is no float16 compute with float32 weights) and ``"bfloat16"``
(NumPy has no bfloat16).

A global policy set with :func:`set_dtype_policy` is the dtype of every new layer
created without ``dtype=``; :func:`chainrule.backend.clear_session` resets it.

Example:
    >>> import chainrule as cr
    >>> cr.config.set_dtype_policy("float64")
    >>> cr.layers.Dense(2).dtype
    'float64'
    >>> cr.config.set_dtype_policy("float32")
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any

from chainrule import backend
from chainrule.backend import session
from chainrule.backend.dtypes import standardize_dtype

__all__ = ["DTypePolicy", "FloatDTypePolicy", "dtype_policy", "set_dtype_policy", "get",
           "serialize", "deserialize", "DTypePolicyMap"]

_global: list[DTypePolicy | None] = [None]


class DTypePolicy:
    """A layer's compute dtype and variable dtype, by name.

    Args:
        name: a dtype name (``"float32"``, ``"float64"``, ...), ``"mixed_float16"`` or
            ``"mixed_bfloat16"``; None takes the global policy's name.

    Attributes:
        name: the policy's name.
        compute_dtype: the dtype layers compute in.
        variable_dtype: the dtype of layers' weights.

    Raises:
        TypeError: if ``name`` is not a string.
        ValueError: if it names no dtype or mixed policy.

    Example:
        >>> p = DTypePolicy("mixed_float16")
        >>> p.compute_dtype, p.variable_dtype
        ('float16', 'float32')
        >>> DTypePolicy("float64")
        <DTypePolicy "float64">
    """

    def __init__(self, name: str | None = None) -> None:
        if name is None:
            name = dtype_policy().name
        if not isinstance(name, str):
            raise TypeError("'name' must be a string, such as 'float32'. "
                            f"Received: name={name!r} (of type {type(name).__name__})")
        if name == "mixed_float16":
            compute, variable = "float16", "float32"
        elif name == "mixed_bfloat16":
            compute, variable = "bfloat16", "float32"
        else:
            try:
                compute = variable = standardize_dtype(name)
            except ValueError:
                raise ValueError(f"Cannot convert '{name}' to a DTypePolicy. Valid policies "
                                 "include 'mixed_float16', 'mixed_bfloat16', and the name of "
                                 f"any float dtype such as 'float32'. Received: name={name!r}"
                                 ) from None
        self._name, self._compute_dtype, self._variable_dtype = name, compute, variable

    @property
    def name(self) -> str:
        """The policy's name."""
        return self._name

    @property
    def compute_dtype(self) -> str:
        """The dtype layers compute in."""
        return self._compute_dtype

    @property
    def variable_dtype(self) -> str:
        """The dtype layers create their weights in."""
        return self._variable_dtype

    @property
    def quantization_mode(self) -> None:
        """None: chainrule has no quantized policies."""
        return None

    def get_config(self) -> dict[str, Any]:
        """``{"name": ...}``."""
        return {"name": self._name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> DTypePolicy:
        """The policy :meth:`get_config` describes."""
        return cls(**config)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.name == self.name

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._name))

    def __repr__(self) -> str:
        return f'<{type(self).__name__} "{self._name}">'


class FloatDTypePolicy(DTypePolicy):
    """Keras's older name of :class:`DTypePolicy` (kept for code that uses it).

    Example:
        >>> FloatDTypePolicy("float32").compute_dtype
        'float32'
    """


def check_supported(policy: DTypePolicy, what: str = "dtype policy") -> DTypePolicy:
    """``policy`` when chainrule can honour it; else a ValueError naming it.

    Example:
        >>> check_supported(DTypePolicy("float16")).name
        'float16'
    """
    if policy.compute_dtype != policy.variable_dtype:
        raise ValueError(
            f"chainrule cannot honour the {what} {policy.name!r}: its layers compute in "
            "the dtype of their weights, so a policy that computes in "
            f"{policy.compute_dtype} with {policy.variable_dtype} weights is not "
            "available. Use 'float16' (weights and compute in float16) or 'float32'. "
            f"Received: policy={policy.name!r}")
    if policy.compute_dtype == "bfloat16":
        raise ValueError(f"chainrule cannot honour the {what} 'bfloat16': NumPy has no "
                         "bfloat16 type. Use 'float16' or 'float32'. "
                         f"Received: policy={policy.name!r}")
    return policy


def get(identifier: Any) -> DTypePolicy:
    """A :class:`DTypePolicy` from a name, a config dict, a policy or None (the global one).

    Raises:
        ValueError: for anything else.

    Example:
        >>> get("float64").variable_dtype
        'float64'
        >>> get({"class_name": "DTypePolicy", "config": {"name": "float16"}})
        <DTypePolicy "float16">
    """
    if identifier is None:
        return dtype_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, str):
        return DTypePolicy(identifier)
    if isinstance(identifier, dict) and identifier.get("class_name") in (
            "DTypePolicy", "FloatDTypePolicy", "DTypePolicyMap") and isinstance(
            identifier.get("config"), dict):
        return deserialize(identifier)
    raise ValueError("Cannot interpret `dtype` argument. Expected a string, a dtype policy "
                     f"config dict or a DTypePolicy instance. Received: identifier={identifier!r}")


def serialize(policy: DTypePolicy) -> dict[str, Any]:
    """``{"module": ..., "class_name": ..., "config": {"name": ...}}`` (Keras's form).

    Example:
        >>> serialize(DTypePolicy("float16"))["config"]
        {'name': 'float16'}
    """
    if not isinstance(policy, DTypePolicy):
        raise ValueError(f"serialize expects a DTypePolicy. Received: policy={policy!r}")
    module = "keras.dtype_policies" if isinstance(policy, DTypePolicyMap) else "keras"
    return {"module": module, "class_name": type(policy).__name__,
            "config": policy.get_config(), "registered_name": None}


def deserialize(config: dict[str, Any], custom_objects: Any = None) -> DTypePolicy:
    """The policy :func:`serialize` describes.

    Example:
        >>> deserialize(serialize(DTypePolicy("float64")))
        <DTypePolicy "float64">
    """
    classes = {"DTypePolicy": DTypePolicy, "FloatDTypePolicy": FloatDTypePolicy,
               "DTypePolicyMap": DTypePolicyMap}
    if not isinstance(config, dict) or config.get("class_name") not in classes:
        raise ValueError("deserialize expects a dict with class_name 'DTypePolicy', "
                         f"'FloatDTypePolicy' or 'DTypePolicyMap'. Received: config={config!r}")
    return classes[config["class_name"]].from_config(config.get("config", {}))


def set_dtype_policy(policy: Any) -> None:
    """Set the dtype policy of every layer created from now on without ``dtype=``.

    Args:
        policy: a policy name or a :class:`DTypePolicy`.

    Raises:
        ValueError: for a policy chainrule cannot honour (mixed policies, bfloat16),
            naming it, or for anything that is not a policy.

    Example:
        >>> set_dtype_policy("float16"); dtype_policy()
        <DTypePolicy "float16">
        >>> set_dtype_policy("float32")
    """
    if isinstance(policy, str):
        policy = DTypePolicy(policy)
    elif not isinstance(policy, DTypePolicy):
        raise ValueError("Invalid `policy` argument. Expected the string name of a policy "
                         "(such as 'float64') or a `DTypePolicy` instance. "
                         f"Received: policy={policy!r}")
    _global[0] = check_supported(policy, "global dtype policy")


def dtype_policy() -> DTypePolicy:
    """The global dtype policy: the one last set, else one named after ``floatx()``.

    Example:
        >>> dtype_policy()
        <DTypePolicy "float32">
    """
    if _global[0] is None:
        return DTypePolicy(backend.floatx())
    return _global[0]


def default_layer_dtype() -> str | None:
    """The dtype a new layer without ``dtype=`` takes: the set policy's, or None (floatx)."""
    return None if _global[0] is None else _global[0].variable_dtype


@session.on_clear_session
def _reset_global_policy() -> None:
    _global[0] = None


# -- Keras 3's DTypePolicyMap --
class DTypePolicyMap(DTypePolicy, MutableMapping):
    """A dict from layer paths to dtype policies (Keras's ``dtype_policies.DTypePolicyMap``).

    Keys are layer paths (``"encoder/dense"``) or regular expressions matched in full
    (``"encoder/.*"``). Looking a path up returns its own policy if it is a key, else
    the one policy whose pattern matches it, else :attr:`default_policy`. As a policy,
    the map stands for its default: a layer given ``dtype=DTypePolicyMap(...)`` takes
    the default policy (chainrule's layers hold one dtype each).

    Args:
        default_policy: the policy of paths no key matches (a name or a policy); None
            follows the global policy (:func:`dtype_policy`).
        policy_map: an optional dict of paths to policies.

    Raises:
        ValueError: for a map as ``default_policy``, a path matching several patterns, a
            key set twice, or a value that is not a policy.
        TypeError: for a ``policy_map`` that is not a dict.

    Example:
        >>> policy_map = DTypePolicyMap(default_policy="float32")
        >>> policy_map["encoder/dense"] = DTypePolicy("float64")
        >>> policy_map["encoder/.*"] = "float16"
        >>> policy_map["encoder/dense"].name, policy_map["encoder/norm"].name
        ('float64', 'float16')
        >>> policy_map["decoder/dense"].name, policy_map.name
        ('float32', 'map_float32')
    """

    def __init__(self, default_policy: Any = None, policy_map: dict | None = None) -> None:
        if isinstance(default_policy, DTypePolicyMap):
            raise ValueError("DTypePolicyMap: default_policy cannot be a DTypePolicyMap. "
                             f"Received: default_policy={default_policy!r}")
        if policy_map is not None and not isinstance(policy_map, dict):
            raise TypeError("DTypePolicyMap: policy_map must be a dict if given. Received: "
                            f"policy_map={policy_map!r} of type {type(policy_map).__name__}")
        self._default_policy_arg = default_policy
        self._default_policy = None if default_policy is None else get(default_policy)
        self._policy_map: dict = {}
        for key, policy in (policy_map or {}).items():
            self[key] = policy

    @property
    def default_policy(self) -> DTypePolicy:
        """The policy of unmatched paths (the global policy when none was given)."""
        return dtype_policy() if self._default_policy is None else self._default_policy

    @property
    def name(self) -> str:
        """``"map_"`` and the default policy's name."""
        return f"map_{self.default_policy.name}"

    @property
    def compute_dtype(self) -> str:
        """The default policy's compute dtype."""
        return self.default_policy.compute_dtype

    @property
    def variable_dtype(self) -> str:
        """The default policy's variable dtype."""
        return self.default_policy.variable_dtype

    def __getitem__(self, key: str) -> DTypePolicy:
        if key in self._policy_map:
            return self._policy_map[key]
        matching = [pattern for pattern in self._policy_map if re.fullmatch(pattern, key)]
        if len(matching) > 1:
            raise ValueError(f"Path '{key}' matches multiple dtype policy specification keys: "
                             f"{matching}. Please make sure each path only matches at most "
                             "one dtype policy specification key in the DTypePolicyMap. "
                             f"Received: key={key!r}")
        if matching:
            return self._policy_map[matching[0]]
        return self.default_policy

    def __setitem__(self, key: str, policy: Any) -> None:
        if key in self._policy_map:
            raise ValueError(f"{key} already exist in the DTypePolicyMap with value "
                             f"{self._policy_map[key]}. Please make sure to not use "
                             f"duplicated keys. Received: key={key!r}")
        try:
            value = get(policy) if policy is not None else None
        except (ValueError, TypeError):
            value = None
        if value is None or isinstance(value, DTypePolicyMap):
            raise ValueError("DTypePolicyMap: a value must be a dtype policy (a name, a "
                             f"config or a DTypePolicy). Received: {policy!r}")
        self._policy_map[key] = value

    def __delitem__(self, key: str) -> None:
        del self._policy_map[key]

    def __contains__(self, key: object) -> bool:
        return key in self._policy_map

    def __len__(self) -> int:
        return len(self._policy_map)

    def __iter__(self) -> Any:
        return iter(self._policy_map)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DTypePolicyMap) and other.name == self.name and dict(
            other._policy_map) == dict(self._policy_map)

    __hash__ = None  # a mutable mapping

    def get_config(self) -> dict[str, Any]:
        """Keras's config: ``default_policy`` as given, each policy serialized (with no
        name when the default follows the global policy, as Keras writes it)."""
        policies = {}
        for key, policy in self._policy_map.items():
            entry = serialize(policy)
            if self._default_policy_arg is None:
                entry["config"] = {**entry["config"], "name": None}
            policies[key] = entry
        default = self._default_policy_arg
        return {"default_policy": serialize(default) if isinstance(default, DTypePolicy)
                else default, "policy_map": policies}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> DTypePolicyMap:
        """The map :meth:`get_config` describes."""
        config = dict(config)
        config["policy_map"] = {k: deserialize(v) if isinstance(v, dict) else v
                                for k, v in (config.get("policy_map") or {}).items()}
        return cls(**config)

    def __repr__(self) -> str:
        mapping = [(k, v.name) for k, v in self._policy_map.items()]
        return f"<DTypePolicyMap default_policy={self.default_policy.name}, mapping={mapping}>"
# -- end of DTypePolicyMap --
