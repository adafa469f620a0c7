"""clone_model copies a layer's plain-function constraint in memory (saving still refuses it)."""
import numpy as np
import pytest

import chainrule as cr


def clip_small(w):
    return cr.ops.clip(w, -0.05, 0.05)


def _models():
    seq = cr.Sequential([cr.Input((3,)), cr.layers.Dense(4, kernel_constraint=clip_small,
                                                         bias_constraint=lambda b: b * 0.0,
                                                         name="d")])
    i = cr.Input((3,))
    h = cr.layers.Dense(4, kernel_constraint=clip_small, name="d")(i)
    func = cr.Model(i, cr.layers.BatchNormalization(gamma_constraint=clip_small, name="bn")(h))
    return {"sequential": seq, "functional": func}


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_clone_keeps_a_plain_function_constraint_and_applies_it(kind, tmp_path):
    model = _models()[kind]
    clone = cr.models.clone_model(model)
    dense = clone.get_layer("d")
    assert dense.kernel_constraint is clip_small and dense is not model.get_layer("d")
    assert dense.kernel.constraint is clip_small
    clone.compile(optimizer=cr.optimizers.SGD(1.0), loss="mse")
    rng = np.random.default_rng(0)
    clone.fit(rng.normal(size=(16, 3)), rng.normal(size=(16, 4)) * 10, epochs=2, verbose=0)
    assert np.abs(dense.kernel.numpy()).max() <= 0.05 + 1e-7
    if kind == "sequential":
        assert not dense.bias.numpy().any()  # the lambda constraint too
    else:
        assert np.abs(clone.get_layer("bn").gamma.numpy()).max() <= 0.05 + 1e-7
    # saving still needs the function registered, as before cloning, and says so
    with pytest.raises(ValueError, match=r'Layer "d" \(Dense\): its kernel_constraint cannot be '
                                         r"saved in a config"):
        clone.save(str(tmp_path / "m.keras"))


def test_get_config_outside_clone_model_still_refuses_a_plain_function():
    with pytest.raises(ValueError, match=r"its kernel_constraint cannot be saved in a config"):
        _models()["sequential"].get_layer("d").get_config()


def test_a_clone_function_that_goes_through_get_config_works_too():
    seen = []

    def clone_function(layer):
        config = layer.get_config()
        seen.append(config.get("kernel_constraint"))
        return type(layer).from_config(config)

    clone = cr.models.clone_model(_models()["sequential"], clone_function=clone_function)
    assert seen == [clip_small] and clone.get_layer("d").kernel_constraint is clip_small
