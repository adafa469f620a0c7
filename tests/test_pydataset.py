"""utils.PyDataset (and Sequence) and other iterables of batches in fit / evaluate / predict."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import chainrule as cr
from chainrule.utils import PyDataset, Sequence

RNG = np.random.default_rng(0)
X = RNG.random((100, 4)).astype("float32")
Y = (X.sum(1) > 2).astype("int64")


class Batches(PyDataset):
    def __init__(self, n_batches=4, bad_index=None, bad_value=None, x_only=False, **kwargs):
        super().__init__(**kwargs)
        self.n, self.bad_index, self.bad_value, self.x_only = n_batches, bad_index, bad_value, x_only
        self.calls, self.begins, self.ends, self.threads = [], 0, 0, set()

    def __len__(self):
        return self.n

    def __getitem__(self, index):
        self.calls.append(index)
        self.threads.add(threading.get_ident())
        if index == self.bad_index:
            return self.bad_value
        s = slice(index * 25, (index + 1) * 25)
        return X[s] if self.x_only else (X[s], Y[s])

    def on_epoch_begin(self):
        self.begins += 1

    def on_epoch_end(self):
        self.ends += 1


def model(built=True):
    cr.utils.set_random_seed(1)
    layers = [cr.layers.Dense(8, activation="relu"), cr.layers.Dense(2, activation="softmax")]
    if built:
        layers.insert(0, cr.layers.Input((4,)))
    m = cr.Sequential(layers)
    m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def generator():
    while True:
        for i in range(4):
            yield X[i * 25:(i + 1) * 25], Y[i * 25:(i + 1) * 25]


@pytest.mark.parametrize("built", [True, False])
def test_fit_on_a_pydataset_equals_fit_on_the_same_batches(built):
    ds = Batches()
    a = model(built)
    history = a.fit(ds, epochs=3, shuffle=False, verbose=0).history
    b = model(built)
    expected = b.fit(generator(), steps_per_epoch=4, epochs=3, verbose=0).history
    assert history == expected
    assert history["loss"][0] != history["loss"][-1]  # it trained
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert ds.calls == [0, 1, 2, 3] * 3 or ds.calls == [0] + [0, 1, 2, 3] * 3
    assert ds.begins == ds.ends == 3


def test_evaluate_and_predict_take_a_pydataset():
    m = model()
    ds = Batches()
    loss, acc = m.evaluate(ds, verbose=0)
    ref_loss, ref_acc = m.evaluate(X, Y, batch_size=25, verbose=0)
    assert loss == pytest.approx(ref_loss, rel=1e-6) and acc == pytest.approx(ref_acc)
    pred = m.predict(Batches(x_only=True), verbose=0)
    np.testing.assert_allclose(pred, m.predict(X, batch_size=25, verbose=0), rtol=1e-6)
    assert ds.ends == 1


def test_shuffle_visits_batches_in_a_new_seeded_order_each_epoch():
    orders = []
    for _ in range(2):
        ds = Batches(n_batches=4)
        model().fit(ds, epochs=3, verbose=0)  # shuffle=True is fit's default, as in Keras
        epochs = [ds.calls[i:i + 4] for i in range(0, 12, 4)]
        assert all(sorted(e) == [0, 1, 2, 3] for e in epochs)
        orders.append(epochs)
    assert orders[0] == orders[1]  # set_random_seed in model() makes it reproducible
    assert len({tuple(e) for e in orders[0]}) > 1


def test_workers_compute_ahead_in_threads_with_the_same_result():
    ds = Batches(workers=3, max_queue_size=2)
    h = model().fit(ds, epochs=2, shuffle=False, verbose=0).history
    ref = model().fit(Batches(), epochs=2, shuffle=False, verbose=0).history
    assert h == ref
    assert threading.get_ident() not in ds.threads
    assert ds.workers == 3 and ds.max_queue_size == 2 and ds.use_multiprocessing is False


def test_progress_bar_knows_the_number_of_batches(capsys):
    model().fit(Batches(), epochs=1, verbose=1)
    assert "4/4" in capsys.readouterr().out


def test_validation_data_and_steps_per_epoch():
    ds = Batches()
    h = model().fit(Batches(), validation_data=ds, epochs=2, steps_per_epoch=2, verbose=0)
    assert len(h.history["val_loss"]) == 2 and ds.ends == 2


class Endless(PyDataset):
    @property
    def num_batches(self):
        return None

    def __getitem__(self, index):
        i = index % 4
        return X[i * 25:(i + 1) * 25], Y[i * 25:(i + 1) * 25]


def test_an_endless_pydataset_runs_with_steps_per_epoch():
    h = model().fit(Endless(), steps_per_epoch=3, epochs=2, verbose=0)
    assert len(h.history["loss"]) == 2


@pytest.mark.parametrize("bad,received", [
    (None, "Received: NoneType None"),
    ((X[:25], Y[:25], None, None), "Received: a tuple of 4 items"),
    ("images", "Received: str 'images'"),
    ((), "Received: a tuple of 0 items"),
])
def test_a_batch_of_the_wrong_structure_names_the_index(bad, received):
    with pytest.raises(ValueError, match=r"Batches\.__getitem__\(2\) must return x, \(x,\), "
                       r"\(x, y\) or \(x, y, sample_weight\).*" + received.replace("(", r"\(")
                       .replace(")", r"\)")):
        model().fit(Batches(bad_index=2, bad_value=bad), epochs=1, shuffle=False, verbose=0)


def test_sequence_is_the_old_name_and_super_init_is_checked():
    assert Sequence is PyDataset

    class NoSuper(PyDataset):
        def __init__(self):
            pass

        def __len__(self):
            return 1

        def __getitem__(self, index):
            return X[:5], Y[:5]

    with pytest.warns(UserWarning, match=r"should call super\(\).__init__"):
        model().fit(NoSuper(), verbose=0)
    with pytest.raises(ValueError, match="Received: workers=-1"):
        Batches(workers=-1)
    with pytest.raises(ValueError, match="Received: max_queue_size=0"):
        Batches(max_queue_size=0)


class LoaderLike:
    """What a PyTorch DataLoader looks like to fit: re-iterable, a length, lists of tensors."""

    def __len__(self):
        return 4

    def __iter__(self):
        for i in range(4):
            yield [X[i * 25:(i + 1) * 25], Y[i * 25:(i + 1) * 25]]


def test_any_reiterable_of_batches_is_taken_and_its_length_used(capsys):
    h = model(built=False).fit(LoaderLike(), epochs=2, verbose=1).history
    ref = model(built=False).fit(generator(), steps_per_epoch=4, epochs=2, verbose=0).history
    assert h == ref
    assert "4/4" in capsys.readouterr().out


def test_a_torch_dataloader_when_torch_is_installed():
    torch = pytest.importorskip("torch")
    data = torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(Y))
    loader = torch.utils.data.DataLoader(data, batch_size=25)
    h = model().fit(loader, epochs=2, verbose=0).history
    ref = model().fit(generator(), steps_per_epoch=4, epochs=2, verbose=0).history
    assert h == ref
