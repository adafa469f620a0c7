"""Utilities: seeding, label encoding, data splits, progress bars, model summaries.

Keras's custom-object helpers are here too, as in ``keras.utils``.
"""

from chainrule import _lazy
from chainrule._registry import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from chainrule.backend import set_random_seed
from chainrule.backend.dtypes import standardize_dtype
from chainrule.layers.base import clear_session
from chainrule.models.custom_steps import pack_x_y_sample_weight, unpack_x_y_sample_weight
from chainrule.saving.serialization import deserialize_keras_object, serialize_keras_object
from chainrule.utils.config import Config
from chainrule.utils.data_utils import normalize, to_categorical, train_test_split
from chainrule.utils.io_utils import (
    disable_interactive_logging,
    enable_interactive_logging,
    is_interactive_logging_enabled,
)
from chainrule.utils.keras_tensors import get_source_inputs, is_keras_tensor
from chainrule.utils.progbar import Progbar
from chainrule.utils.py_dataset import PyDataset, Sequence

# The dataset builders, file download, image files, plots and sequence padding load
# with their modules when first named
_lazy.attach(
    globals(),
    {
        ".dataset_utils": ["BatchDataset", "split_dataset"],
        ".file_utils": ["get_file", "validate_file"],
        ".image_dataset_utils": [
            "array_to_img", "image_dataset_from_directory", "img_to_array", "load_img", "save_img",
        ],
        ".model_visualization": ["plot_model"],
        ".sequence_utils": ["pad_sequences"],
        ".text_dataset_utils": ["text_dataset_from_directory"],
        ".timeseries_dataset_utils": ["timeseries_dataset_from_array"],
    },
)

__all__ = ["Config", "standardize_dtype", "enable_interactive_logging", "disable_interactive_logging",
           "is_interactive_logging_enabled",
           "set_random_seed", "clear_session", "to_categorical", "normalize", "train_test_split",
           "Progbar", "CustomObjectScope", "custom_object_scope", "get_custom_objects",
           "get_registered_name", "get_registered_object", "register_keras_serializable",
           # datasets and data utilities (Keras 3 names)
           "pad_sequences", "get_file", "validate_file", "PyDataset", "Sequence", "BatchDataset",
           "split_dataset", "timeseries_dataset_from_array", "image_dataset_from_directory",
           "text_dataset_from_directory", "load_img", "img_to_array", "array_to_img", "save_img",
           "pack_x_y_sample_weight", "unpack_x_y_sample_weight", "plot_model",
           "serialize_keras_object", "deserialize_keras_object", "is_keras_tensor",
           "get_source_inputs"]

# Structured data, audio files and graph drawing (Keras 3 names), loaded when first named
_lazy.attach(
    globals(),
    {
        "chainrule.layers.preprocessing.feature_space": ["FeatureSpace"],
        ".audio_dataset_utils": ["audio_dataset_from_directory"],
        ".dot_graph": ["model_to_dot"],
    },
)

__all__ += ["FeatureSpace", "audio_dataset_from_directory", "model_to_dot"]

# Bounding-box utilities (keras.utils.bounding_boxes), loaded when first named
_lazy.attach(globals(), submodules=("bounding_boxes",))
__all__ += ["bounding_boxes"]
