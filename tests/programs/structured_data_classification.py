# ruff: noqa: UP031  (the original program's own style, kept as written)
"""keras-io "Structured data classification from scratch" (the version without FeatureSpace).

(examples/structured_data/structured_data_classification_from_scratch.py, 2021 revision.) The
original's code with its imports renamed to chainrule. Its data (the Cleveland heart-disease CSV
in a pandas DataFrame) is replaced by a dict of synthetic NumPy columns of the same dtypes (303
rows); ``tf.data.Dataset.from_tensor_slices`` becomes ``keras.utils.BatchDataset.from_arrays``
``tf.expand_dims`` becomes ``keras.ops.expand_dims`` and ``tf.convert_to_tensor``
``np.asarray``. Epochs are cut.
"""

import numpy as np

import chainrule as keras
from chainrule import layers
from chainrule.layers import IntegerLookup, Normalization, StringLookup

# Synthetic stand-in for pd.read_csv(".../heart.csv"): 303 rows, 14 columns.
_rng = np.random.default_rng(0)
_n = 303
_target = _rng.integers(0, 2, _n)
dataframe = {
    "age": _rng.integers(29, 77, _n),
    "sex": _rng.integers(0, 2, _n),
    "cp": _rng.integers(0, 5, _n),
    "trestbps": _rng.integers(94, 200, _n),
    "chol": _rng.integers(126, 564, _n),
    "fbs": _rng.integers(0, 2, _n),
    "restecg": _rng.integers(0, 3, _n),
    "thalach": (_rng.normal(150, 20, _n) - 25 * _target).astype(np.int64),
    "exang": np.where(_rng.random(_n) < 0.8, _target, 1 - _target),
    "oldpeak": np.round(_rng.exponential(1.0, _n) + _target, 1),
    "slope": _rng.integers(1, 4, _n),
    "ca": _rng.integers(0, 4, _n),
    "thal": np.where(_target == 1, "reversible", _rng.choice(["fixed", "normal"], _n)),
    "target": _target,
}
print((_n, len(dataframe)))

# val_dataframe = dataframe.sample(frac=0.2, random_state=1337); train = the rest
_val = np.zeros(_n, bool)
_val[np.random.default_rng(1337).permutation(_n)[: int(0.2 * _n)]] = True
val_dataframe = {k: v[_val] for k, v in dataframe.items()}
train_dataframe = {k: v[~_val] for k, v in dataframe.items()}

print(
    "Using %d samples for training and %d for validation"
    % (len(train_dataframe["target"]), len(val_dataframe["target"]))
)


def dataframe_to_dataset(dataframe):
    dataframe = dict(dataframe)
    labels = dataframe.pop("target")
    ds = keras.utils.BatchDataset.from_arrays((dict(dataframe), labels))
    ds = ds.shuffle(buffer_size=len(labels))
    return ds


train_ds = dataframe_to_dataset(train_dataframe)
val_ds = dataframe_to_dataset(val_dataframe)

for x, y in train_ds.take(1):
    print("Input:", x)
    print("Target:", y)

train_ds = train_ds.batch(32)
val_ds = val_ds.batch(32)


def encode_numerical_feature(feature, name, dataset):
    # Create a Normalization layer for our feature
    normalizer = Normalization()

    # Prepare a Dataset that only yields our feature
    feature_ds = dataset.map(lambda x, y: x[name])
    feature_ds = feature_ds.map(lambda x: keras.ops.expand_dims(x, -1))

    # Learn the statistics of the data
    normalizer.adapt(feature_ds)

    # Normalize the input feature
    encoded_feature = normalizer(feature)
    return encoded_feature


def encode_categorical_feature(feature, name, dataset, is_string):
    lookup_class = StringLookup if is_string else IntegerLookup
    # Create a lookup layer which will turn strings into integer indices
    lookup = lookup_class(output_mode="binary")

    # Prepare a Dataset that only yields our feature
    feature_ds = dataset.map(lambda x, y: x[name])
    feature_ds = feature_ds.map(lambda x: keras.ops.expand_dims(x, -1))

    # Learn the set of possible string values and assign them a fixed integer index
    lookup.adapt(feature_ds)

    # Turn the string input into integer indices
    encoded_feature = lookup(feature)
    return encoded_feature


# Categorical features encoded as integers
sex = keras.Input(shape=(1,), name="sex", dtype="int64")
cp = keras.Input(shape=(1,), name="cp", dtype="int64")
fbs = keras.Input(shape=(1,), name="fbs", dtype="int64")
restecg = keras.Input(shape=(1,), name="restecg", dtype="int64")
exang = keras.Input(shape=(1,), name="exang", dtype="int64")
ca = keras.Input(shape=(1,), name="ca", dtype="int64")

# Categorical feature encoded as string
thal = keras.Input(shape=(1,), name="thal", dtype="string")

# Numerical features
age = keras.Input(shape=(1,), name="age")
trestbps = keras.Input(shape=(1,), name="trestbps")
chol = keras.Input(shape=(1,), name="chol")
thalach = keras.Input(shape=(1,), name="thalach")
oldpeak = keras.Input(shape=(1,), name="oldpeak")
slope = keras.Input(shape=(1,), name="slope")

all_inputs = [
    sex,
    cp,
    fbs,
    restecg,
    exang,
    ca,
    thal,
    age,
    trestbps,
    chol,
    thalach,
    oldpeak,
    slope,
]

# Integer categorical features
sex_encoded = encode_categorical_feature(sex, "sex", train_ds, False)
cp_encoded = encode_categorical_feature(cp, "cp", train_ds, False)
fbs_encoded = encode_categorical_feature(fbs, "fbs", train_ds, False)
restecg_encoded = encode_categorical_feature(restecg, "restecg", train_ds, False)
exang_encoded = encode_categorical_feature(exang, "exang", train_ds, False)
ca_encoded = encode_categorical_feature(ca, "ca", train_ds, False)

# String categorical features
thal_encoded = encode_categorical_feature(thal, "thal", train_ds, True)

# Numerical features
age_encoded = encode_numerical_feature(age, "age", train_ds)
trestbps_encoded = encode_numerical_feature(trestbps, "trestbps", train_ds)
chol_encoded = encode_numerical_feature(chol, "chol", train_ds)
thalach_encoded = encode_numerical_feature(thalach, "thalach", train_ds)
oldpeak_encoded = encode_numerical_feature(oldpeak, "oldpeak", train_ds)
slope_encoded = encode_numerical_feature(slope, "slope", train_ds)

all_features = layers.concatenate(
    [
        sex_encoded,
        cp_encoded,
        fbs_encoded,
        restecg_encoded,
        exang_encoded,
        slope_encoded,
        ca_encoded,
        thal_encoded,
        age_encoded,
        trestbps_encoded,
        chol_encoded,
        thalach_encoded,
        oldpeak_encoded,
    ]
)
x = layers.Dense(32, activation="relu")(all_features)
x = layers.Dropout(0.5)(x)
output = layers.Dense(1, activation="sigmoid")(x)
model = keras.Model(all_inputs, output)
model.compile("adam", "binary_crossentropy", metrics=["accuracy"])

history = model.fit(train_ds, epochs=8, validation_data=val_ds)

sample = {
    "age": 60,
    "sex": 1,
    "cp": 1,
    "trestbps": 145,
    "chol": 233,
    "fbs": 1,
    "restecg": 2,
    "thalach": 150,
    "exang": 0,
    "oldpeak": 2.3,
    "slope": 3,
    "ca": 0,
    "thal": "fixed",
}

input_dict = {name: np.asarray([value]) for name, value in sample.items()}  # tf.convert_to_tensor
predictions = model.predict(input_dict)

print(
    "This particular patient had a %.1f percent probability "
    "of having a heart disease, as evaluated by our model." % (100 * predictions[0][0],)
)
