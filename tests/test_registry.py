"""The one registry behind get/serialize/deserialize of every kind, and the custom-object API."""

from __future__ import annotations

import json

import numpy as np
import pytest

import chainrule as cr
from chainrule import activations, initializers, losses, metrics, optimizers, regularizers
from chainrule._registry import (
    _GLOBAL_CUSTOM_NAMES,
    _GLOBAL_CUSTOM_OBJECTS,
    Registry,
    lookup,
    unknown_name_error,
)
from chainrule.optimizers import schedules
from chainrule.saving import (
    UnsafeFileError,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    load_model,
    register_keras_serializable,
)


@pytest.fixture(autouse=True)
def _clean_registrations():
    """Each test starts and ends with the registered objects it found."""
    objects, names = dict(_GLOBAL_CUSTOM_OBJECTS), dict(_GLOBAL_CUSTOM_NAMES)
    yield
    _GLOBAL_CUSTOM_OBJECTS.clear()
    _GLOBAL_CUSTOM_OBJECTS.update(objects)
    _GLOBAL_CUSTOM_NAMES.clear()
    _GLOBAL_CUSTOM_NAMES.update(names)


def _round_trip(module, obj, **kwargs):
    return module.deserialize(json.loads(json.dumps(module.serialize(obj))), **kwargs)


# -- a registry of its own ------------------------------------------------------------------------


class Shape:
    def __init__(self, sides: int = 3) -> None:
        self.sides = sides

    def get_config(self) -> dict:
        return {"sides": self.sides}

    @classmethod
    def from_config(cls, config: dict) -> Shape:
        return cls(**config)


class Square(Shape):
    def __init__(self) -> None:
        super().__init__(4)

    def get_config(self) -> dict:
        return {}


def area(x):
    return x * x


SHAPES = Registry(
    kind="shape",
    module="tests.shapes",
    base=Shape,
    classes={"Shape": Shape, "Square": Square},
    abstract=(Shape,),
    names={"square": Square, "box": Square},
    functions={"area": area},
    serialize_error=(TypeError, "serialize expects a Shape. Received: shape={value!r}"),
)


def test_unknown_names_suggest_the_closest():
    with pytest.raises(ValueError) as e:
        SHAPES.get("sqare")
    assert str(e.value) == "Unknown shape: 'sqare'. Did you mean 'square'? Known: box, square."
    with pytest.raises(ValueError) as e:
        SHAPES.deserialize({"class_name": "Sqare", "config": {}})
    assert str(e.value) == (
        "Unknown shape class: 'Sqare'. Did you mean 'Square'? Known: Shape, Square."
    )
    with pytest.raises(ValueError) as e:
        SHAPES.deserialize({"class_name": "function", "config": "aera"})
    assert str(e.value) == "Unknown shape: 'aera'. Did you mean 'area'? Known: area."
    with pytest.raises(ValueError, match=r"^Unknown shape: 'zzz'\. Known: box, square\.$"):
        SHAPES.get("zzz")  # nothing close: no suggestion


def test_the_building_blocks():
    assert str(unknown_name_error("loss", "msee", ["mse", "mae"])) == (
        "Unknown loss: 'msee'. Did you mean 'mse'? Known: mae, mse."
    )
    assert lookup("loss", "MSE", {"mse": 1}) == 1
    with pytest.raises(ValueError, match="Unknown loss: 3"):
        lookup("loss", 3, {"mse": 1})


def test_names_aliases_classes_and_abstract_classes():
    assert type(SHAPES.get("box")) is Square  # an alias
    assert type(SHAPES.get("SQUARE")) is Square  # names are case-insensitive
    assert type(SHAPES.get("Square")) is Square  # a class name
    with pytest.raises(ValueError, match=r"^Unknown shape: 'Shape'\."):
        SHAPES.get("Shape")  # abstract: not made from its name
    assert SHAPES.deserialize({"class_name": "Shape", "config": {"sides": 5}}).sides == 5
    assert SHAPES.get(None) is None
    s = Square()
    assert SHAPES.get(s) is s
    assert type(SHAPES.get(Square)) is Square
    assert SHAPES.get(area) is area
    with pytest.raises(TypeError, match=r"^Could not interpret shape identifier\. Received: "):
        SHAPES.get(3)


def test_serialize_and_deserialize_layout():
    config = SHAPES.serialize(Shape(6))
    assert config == {"module": "tests.shapes", "class_name": "Shape", "config": {"sides": 6},
                      "registered_name": None}
    assert SHAPES.deserialize(config).sides == 6
    assert SHAPES.serialize(area)["config"] == "area"
    assert SHAPES.deserialize(SHAPES.serialize(area)) is area
    with pytest.raises(TypeError, match=r"^serialize expects a Shape\. Received: shape=3$"):
        SHAPES.serialize(3)
    with pytest.raises(TypeError, match="Received: config=\\[1\\]$"):
        SHAPES.deserialize([1])


# -- the seven kinds keep their words ------------------------------------------------------------


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: losses.get("msee"), "Unknown loss: 'msee'. Did you mean 'mse'?"),
        (lambda: metrics.get("acuracy"), "Unknown metric: 'acuracy'. Did you mean 'accuracy'?"),
        (lambda: optimizers.get("adma"), "Unknown optimizer: 'adma'. Did you mean 'adam'?"),
        (lambda: activations.get("rleu"), "Unknown activation: 'rleu'. Did you mean 'relu'?"),
        (lambda: initializers.get("glorot_unifrom"),
         "Unknown initializer: 'glorot_unifrom'. Did you mean 'glorot_uniform'?"),
        (lambda: regularizers.get("l22"), "Unknown regularizer: 'l22'. Did you mean 'l2'?"),
        (lambda: schedules.deserialize({"class_name": "ExponentialDecy", "config": {}}),
         "Unknown learning rate schedule: 'ExponentialDecy'. Did you mean 'ExponentialDecay'?"),
        (lambda: metrics.deserialize({"class_name": "function", "config": "acuracy"}),
         "Unknown metric function: 'acuracy'. Did you mean 'accuracy'?"),
    ],
)
def test_every_kind_suggests_in_the_same_words(call, message):
    with pytest.raises(ValueError) as e:
        call()
    assert str(e.value).startswith(message)


def test_aliases_of_every_kind():
    assert losses.get("mse") is losses.mean_squared_error
    assert losses.get("kld") is losses.kl_divergence
    assert metrics.get("acc").name == "acc"
    assert type(metrics.get("rmse")) is metrics.RootMeanSquaredError
    assert activations.get("swish") is activations.silu
    assert type(initializers.get("normal")) is initializers.RandomNormal
    assert regularizers.get("l1_l2").get_config() == {"l1": 0.01, "l2": 0.01}
    assert type(optimizers.get("SGD")) is optimizers.SGD


def test_get_none_per_kind():
    assert activations.get(None) is activations.linear
    for module in (losses, metrics, optimizers, initializers, regularizers):
        assert module.get(None) is None


# -- custom objects -------------------------------------------------------------------------------


def test_custom_objects_are_found_by_class_name_and_registered_name():
    class Cube(Square):
        pass

    config = {"class_name": "Cube", "config": {}, "registered_name": "mine>Cube"}
    assert type(SHAPES.deserialize(config, custom_objects={"Cube": Cube})) is Cube
    assert type(SHAPES.deserialize(config, custom_objects={"mine>Cube": Cube})) is Cube
    with pytest.raises(ValueError, match=r"^Unknown shape class: 'Cube'"):
        SHAPES.deserialize(config)
    assert SHAPES.deserialize("area2", custom_objects={"area2": area}) is area


def test_custom_objects_win_over_built_ins_and_reach_nested_configs():
    def my_mse(y_true, y_pred):
        return losses.mean_squared_error(y_true, y_pred) * 2

    wrapped = losses.LossFunctionWrapper(my_mse, name="doubled")
    config = losses.serialize(wrapped)
    with pytest.raises(ValueError, match="Unknown loss: 'my_mse'"):
        losses.deserialize(config)
    assert losses.deserialize(config, custom_objects={"my_mse": my_mse}).fn is my_mse
    with custom_object_scope({"my_mse": my_mse}):
        assert losses.deserialize(config).fn is my_mse
        assert losses.get("my_mse") is my_mse
    with pytest.raises(ValueError):
        losses.get("my_mse")  # the scope is over


def test_scopes_nest_and_the_call_wins():
    def a(x):
        return x

    def b(x):
        return x

    with custom_object_scope({"f": a}):
        assert activations.get("f") is a
        with custom_object_scope({"f": b}):
            assert activations.get("f") is b
            assert activations.deserialize("f", custom_objects={"f": activations.relu}) is (
                activations.relu
            )
        assert activations.get("f") is a
    assert get_registered_object("f") is None


def test_a_config_naming_an_unknown_class_is_refused():
    config = {"module": "os", "class_name": "system", "config": {}, "registered_name": "os>system"}
    for module, kind in ((losses, "loss class"), (metrics, "metric class"),
                         (initializers, "initializer class"), (regularizers, "regularizer class"),
                         (optimizers, "optimizer"), (schedules, "learning rate schedule")):
        with pytest.raises(ValueError, match=rf"^Unknown {kind}: 'system'\."):
            module.deserialize(config)
    # the module is never imported: a name not known is not looked up anywhere else
    with pytest.raises(ValueError, match=r"^Unknown activation: 'os\.system'\."):
        activations.deserialize({"class_name": "function", "config": "os.system"})


# -- register_keras_serializable round trips -----------------------------------------------------


def test_registered_loss_round_trips_without_custom_objects():
    @register_keras_serializable(package="tests")
    class ScaledMSE(losses.Loss):
        def __init__(self, scale=1.0, **kwargs):
            super().__init__(**kwargs)
            self.scale = scale

        def call(self, y_true, y_pred):
            return cr.ops.mean((y_pred - y_true) ** 2, axis=-1) * self.scale

        def get_config(self):
            return {**super().get_config(), "scale": self.scale}

    config = losses.serialize(ScaledMSE(scale=3.0))
    assert config["class_name"] == "ScaledMSE"
    assert config["registered_name"] == "tests>ScaledMSE"
    back = _round_trip(losses, ScaledMSE(scale=3.0))
    assert type(back) is ScaledMSE and back.scale == 3.0
    assert get_custom_objects()["tests>ScaledMSE"] is ScaledMSE
    assert get_registered_name(ScaledMSE) == "tests>ScaledMSE"
    assert type(losses.get("tests>ScaledMSE")) is ScaledMSE


def test_registered_metric_round_trips_without_custom_objects():
    @register_keras_serializable("tests")
    class Count(metrics.Sum):
        pass

    back = _round_trip(metrics, Count(name="n"))
    assert type(back) is Count and back.name == "n"


def test_registered_initializer_and_regularizer_round_trip():
    @register_keras_serializable("tests")
    class Twos(initializers.Initializer):
        def __call__(self, shape, dtype=None):
            return initializers.Constant(2.0)(shape, dtype)

    @register_keras_serializable("tests", name="Halved")
    class HalfL2(regularizers.Regularizer):
        def __init__(self, l2=0.5):
            self.l2 = l2

        def __call__(self, w):
            return cr.ops.sum(w * w) * self.l2 / 2

        def get_config(self):
            return {"l2": self.l2}

    assert type(_round_trip(initializers, Twos())) is Twos
    back = _round_trip(regularizers, HalfL2(0.25))
    assert type(back) is HalfL2 and back.l2 == 0.25
    assert regularizers.serialize(HalfL2())["registered_name"] == "tests>Halved"


def test_registered_optimizer_schedule_and_functions_round_trip():
    @register_keras_serializable("tests")
    class SlowSGD(optimizers.SGD):
        pass

    @register_keras_serializable("tests")
    class Halving(schedules.ExponentialDecay):
        pass

    @register_keras_serializable("tests")
    def cubed(x):
        return x * x * x

    @register_keras_serializable("tests")
    def abs_error(y_true, y_pred):
        return cr.ops.mean(cr.ops.abs(y_pred - y_true), axis=-1)

    opt = SlowSGD(learning_rate=Halving(0.1, 10, 0.5))
    back = _round_trip(optimizers, opt)
    assert type(back) is SlowSGD and type(back._lr_schedule) is Halving
    assert activations.serialize(cubed) == "tests>cubed"
    assert activations.deserialize(activations.serialize(cubed)) is cubed
    assert losses.serialize(abs_error)["registered_name"] == "tests>abs_error"
    assert _round_trip(losses, abs_error) is abs_error


def test_registered_layer_and_activation_load_without_custom_objects(tmp_path):
    @register_keras_serializable("tests")
    def doubled(x):
        return x * 2

    @register_keras_serializable("tests")
    class Scale(cr.layers.Dense):
        pass

    model = cr.Sequential([Scale(2, input_dim=3, activation=doubled)])
    model.compile(optimizer="sgd", loss="mse")
    model.save(tmp_path / "m.keras")
    x = np.ones((1, 3), dtype="float32")
    loaded = load_model(tmp_path / "m.keras")
    assert type(loaded.layers[0]) is Scale and loaded.layers[0].activation is doubled
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_registered_subclassed_model_loads_without_custom_objects(tmp_path):
    @register_keras_serializable("tests")
    class Tiny(cr.Model):
        def __init__(self, hidden=3, **kwargs):
            super().__init__(**kwargs)
            self.hidden = hidden
            self.d1 = cr.layers.Dense(hidden, activation="relu")
            self.d2 = cr.layers.Dense(1)

        def call(self, x, training=None):
            return self.d2(self.d1(x))

        def get_config(self):
            return {**super().get_config(), "hidden": self.hidden}

    model = Tiny(hidden=4)
    x = np.ones((2, 5), "float32")
    expected = model.predict(x, verbose=0)
    model.compile(optimizer="adam", loss="mse")
    model.save(tmp_path / "t.keras")
    loaded = load_model(tmp_path / "t.keras")
    assert type(loaded) is Tiny and loaded.hidden == 4
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)


def test_load_model_passes_custom_objects_to_nested_configs(tmp_path):
    def my_act(x):
        return cr.ops.tanh(x)

    class MyInit(initializers.Initializer):
        def __call__(self, shape, dtype=None):
            return initializers.Constant(0.5)(shape, dtype)

    model = cr.Sequential([cr.layers.Dense(2, input_dim=3, activation=my_act,
                                           kernel_initializer=MyInit())])
    model.save(tmp_path / "m.keras")
    with pytest.raises(UnsafeFileError, match="Unknown initializer class: 'MyInit'"):
        load_model(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras", custom_objects={"my_act": my_act, "MyInit": MyInit})
    assert loaded.layers[0].activation is my_act
    assert isinstance(loaded.layers[0].kernel_initializer, MyInit)
    with custom_object_scope({"my_act": my_act, "MyInit": MyInit}):
        assert load_model(tmp_path / "m.keras").layers[0].activation is my_act


# -- registration rules ---------------------------------------------------------------------------


def test_registration_is_checked():
    with pytest.raises(TypeError, match=r"^package must be a non-empty string\. Received: "):
        register_keras_serializable(package="")
    with pytest.raises(ValueError, match=r"Received: package='my\.pkg'$"):
        register_keras_serializable(package="my.pkg")
    with pytest.raises(ValueError, match="get_config"):
        register_keras_serializable("tests")(type("NoConfig", (), {}))
    with pytest.raises(ValueError, match="lambda"):
        register_keras_serializable("tests")(lambda x: x)
    with pytest.raises(TypeError, match="classes and functions"):
        register_keras_serializable("tests")(3)

    def f(x):
        return x

    def g(x):
        return x

    register_keras_serializable("tests", name="f")(f)
    with pytest.raises(ValueError, match=r"'tests>f' is already registered"):
        register_keras_serializable("tests", name="f")(g)


def test_bare_decorator_and_redefinition():
    @register_keras_serializable
    def again(x):
        return x

    assert get_registered_name(again) == "Custom>again"
    first = again

    @register_keras_serializable
    def again(x):  # noqa: F811 - a re-run cell defines it anew
        return x

    assert get_custom_objects()["Custom>again"] is again is not first


def test_scope_checks_its_argument():
    with pytest.raises(TypeError, match=r"Received: custom_objects=\[1\]$"):
        custom_object_scope([1])


def test_keras_spellings_are_in_utils_too():
    assert cr.utils.register_keras_serializable is register_keras_serializable
    assert cr.utils.custom_object_scope is custom_object_scope
    assert cr.utils.get_custom_objects is get_custom_objects
