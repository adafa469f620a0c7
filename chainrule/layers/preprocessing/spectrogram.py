"""Spectrogram layers: ``STFTSpectrogram`` (trainable STFT kernels) and ``MelSpectrogram``.

``STFTSpectrogram`` computes the short-time Fourier transform of each channel as a
strided 1-D convolution with two kernels (the cosine and sine parts of the DFT,
windowed, from :class:`chainrule.initializers.STFT`), so its kernels are weights
a model can fine-tune, as in Keras. ``MelSpectrogram`` is a preprocessing layer
without weights: :func:`chainrule.ops.stft`, the magnitude, a mel filter bank and
an optional decibel scale.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Sequence

import numpy as np

from chainrule import ops
from chainrule.autograd.engine import Tensor
from chainrule.backend.settings import image_data_format
from chainrule.layers.convolutional import ShapedLayer
from chainrule.ops.conv import conv_output_length, normalize_data_format

__all__ = ["STFTSpectrogram", "MelSpectrogram"]

_MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")
_EPSILON = 1e-7  # Keras's backend.epsilon(), the floor of the magnitude before its log


def _positive_int(value: Any, arg: str, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{owner}: `{arg}` must be a positive integer. "
                         f"Received: {arg}={value!r}")
    return int(value)


def _rank_error(layer: Any, want: str, shape: Sequence[Any], hint: str = "") -> ValueError:
    shape = tuple(shape)
    return ValueError(f'Input 0 of layer "{layer.name}" is incompatible with the layer: '
                      f"{type(layer).__name__} expects {want}, received shape {shape}.{hint} "
                      f"Received: inputs of shape {shape}")


class STFTSpectrogram(ShapedLayer):
    """The spectrogram of each channel of a 1-D signal, by STFT as a convolution (Keras's).

    The signal of each channel is convolved, at a stride of ``frame_step``, with a
    ``real_kernel`` and an ``imag_kernel`` of shape ``(frame_length, 1, fft_length // 2 + 1)``
    (initialized by :class:`chainrule.initializers.STFT`: the windowed DFT), giving the
    real and imaginary parts of the STFT; ``mode`` says what is returned. The kernels
    are trainable unless the layer is built with ``trainable=False``.

    Args:
        mode: ``"log"`` (default: the log of the magnitude), ``"magnitude"``, ``"psd"``
            (the power, non-edge bins doubled), ``"real"``, ``"imag"``, ``"angle"`` or
            ``"stft"`` (real and imaginary parts stacked on the frequency axis).
        frame_length: the window length in samples; default 256.
        frame_step: the hop between frames, in ``[1, frame_length]``; default
            ``frame_length // 2``.
        fft_length: the DFT size, at least ``frame_length``; default the smallest power
            of two not below ``frame_length`` (a non-power of two warns, as in Keras).
        window: a window name (``"hann"`` default, ``"hamming"``, ... as SciPy names
            them), an array of ``frame_length`` values, or None.
        periodic: use the periodic form of a named window; default False.
        scaling: ``"density"`` (default), ``"spectrum"`` or None (see the initializer).
        padding: ``"valid"`` (default) or ``"same"``.
        expand_dims: return the channels on their own axis (an image per signal).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: layer arguments (``name``, ``trainable``, ``dtype``, ...).

    Input shape:
        ``(batch, time, channels)`` (channels last) or ``(batch, channels, time)``.

    Output shape:
        ``(batch, frames, channels * bins)`` (channels last) or
        ``(batch, channels * bins, frames)``; with ``expand_dims``,
        ``(batch, frames, bins, channels)`` or ``(batch, channels, frames, bins)``;
        ``bins = fft_length // 2 + 1`` (twice that for ``"stft"``).

    Weights:
        ``real_kernel`` (not for ``"imag"``) then ``imag_kernel`` (not for ``"real"``),
        each ``(frame_length, 1, fft_length // 2 + 1)``.

    Raises:
        ValueError: for a bad argument (naming it), or an input that is not 3-D.
        TypeError: for an input that is not floating point.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> layer = cr.layers.STFTSpectrogram(frame_length=16, frame_step=8)
        >>> layer(np.zeros((2, 64, 1), "float32")).shape
        (2, 7, 9)
        >>> [w.name for w in layer.weights]
        ['real_kernel', 'imag_kernel']
    """

    def __init__(self, mode: str = "log", frame_length: int = 256, frame_step: int | None = None,
                 fft_length: int | None = None, window: Any = "hann", periodic: bool = False,
                 scaling: str | None = "density", padding: str = "valid",
                 expand_dims: bool = False, data_format: str | None = None,
                 **kwargs: Any) -> None:
        from chainrule.initializers import _check_window_name  # noqa: PLC0415

        owner = "STFTSpectrogram"
        frame_length = _positive_int(frame_length, "frame_length", owner)
        if frame_step is not None and (
                isinstance(frame_step, bool) or not isinstance(frame_step, (int, np.integer))
                or not 1 <= frame_step <= frame_length):
            raise ValueError(f"{owner}: `frame_step` must be a positive integer not greater "
                             f"than `frame_length` ({frame_length}). "
                             f"Received: frame_step={frame_step!r}")
        if fft_length is not None:
            if (isinstance(fft_length, bool) or not isinstance(fft_length, (int, np.integer))
                    or fft_length < frame_length):
                raise ValueError(f"{owner}: `fft_length` must be an integer not less than "
                                 f"`frame_length` ({frame_length}). "
                                 f"Received: fft_length={fft_length!r}")
            if fft_length & (fft_length - 1):
                warnings.warn("`fft_length` is recommended to be a power of two. "
                              f"Received fft_length={fft_length}", stacklevel=2)
        if mode not in _MODES:
            raise ValueError(f"{owner}: `mode` must be one of {', '.join(_MODES)}. "
                             f"Received: mode={mode!r}")
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError(f"{owner}: `scaling` must be None, 'density' or 'spectrum'. "
                             f"Received: scaling={scaling!r}")
        if padding not in ("valid", "same"):
            raise ValueError(f"{owner}: `padding` must be 'valid' or 'same'. "
                             f"Received: padding={padding!r}")
        _check_window_name(window, owner)
        super().__init__(**kwargs)
        self.mode = mode
        self.frame_length = frame_length
        self.frame_step = None if frame_step is None else int(frame_step)
        self._frame_step = self.frame_step or frame_length // 2
        self.fft_length = None if fft_length is None else int(fft_length)
        self._fft_length = self.fft_length or 2 ** int(math.ceil(math.log2(frame_length)))
        self.window = (np.asarray(window).tolist()
                       if window is not None and not isinstance(window, str) else window)
        self.periodic = bool(periodic)
        self.scaling = scaling
        self.padding = padding
        self.expand_dims = bool(expand_dims)
        self.data_format = normalize_data_format(
            image_data_format() if data_format is None else data_format, owner)
        self.real_kernel: Any = None
        self.imag_kernel: Any = None

    def _check_shape(self, input_shape: Sequence[Any]) -> tuple:
        shape = tuple(input_shape)
        if len(shape) != 3:
            layout = ("(batch, time, channels)" if self.data_format == "channels_last"
                      else "(batch, channels, time)")
            hint = ""
            if len(shape) == 2:
                hint = (" Add a channel axis: x[..., None]." if self.data_format ==
                        "channels_last" else " Add a channel axis: x[:, None].")
            raise _rank_error(self, f"3-D input {layout}", shape, hint)
        time = shape[1] if self.data_format == "channels_last" else shape[2]
        if self.padding == "valid" and time is not None and time < self.frame_length:
            raise ValueError(f'Layer "{self.name}" (STFTSpectrogram): the signal has {time} '
                             f"samples, fewer than frame_length={self.frame_length} (use "
                             f"padding='same' or a shorter frame). Received: input_shape={shape}")
        return shape

    def build(self, input_shape: Any) -> None:
        from chainrule import initializers  # noqa: PLC0415

        self._check_shape(input_shape)
        shape = (self.frame_length, 1, self._fft_length // 2 + 1)
        for side in ("real", "imag"):
            if self.mode != ("imag" if side == "real" else "real"):
                init = initializers.STFT(side, self.window, self.scaling, self.periodic)
                setattr(self, f"{side}_kernel",
                        self.add_weight(shape, init, name=f"{side}_kernel"))
        self.built = True

    def _check_input(self, inputs: Any) -> None:
        self._check_shape(inputs.shape)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """The output shape (see the class docstring)."""
        shape = self._check_shape(input_shape)
        last = self.data_format == "channels_last"
        channels, time = (shape[2], shape[1]) if last else (shape[1], shape[2])
        bins = self._fft_length // 2 + 1
        if self.mode == "stft":
            bins *= 2
        frames = conv_output_length(time, self.frame_length, self._frame_step, 1, self.padding)
        if self.expand_dims:
            return (shape[0], frames, bins, channels) if last else (
                shape[0], channels, frames, bins)
        flat = None if channels is None else channels * bins
        return (shape[0], frames, flat) if last else (shape[0], flat, frames)

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        if inputs.ndim != 3:
            raise _rank_error(self, "3-D input", inputs.shape)
        dtype = np.dtype(inputs.dtype)
        if dtype.kind != "f":
            raise TypeError(f'Layer "{self.name}" (STFTSpectrogram): the input must be '
                            f"float16, float32 or float64. Received: input type={dtype.name}")
        last = self.data_format == "channels_last"
        channels = inputs.shape[2] if last else inputs.shape[1]
        time = inputs.shape[1] if last else inputs.shape[2]
        kernels = [k for k in (self.real_kernel, self.imag_kernel) if k is not None]
        kernel = kernels[0] if len(kernels) == 1 else ops.concatenate(kernels, axis=-1)
        if np.dtype(kernel.dtype) != dtype:
            kernel = ops.cast(kernel, dtype)
        # every channel is its own one-channel signal: (batch * channels, time, 1)
        if last:
            signal = ops.reshape(ops.transpose(inputs, (0, 2, 1)), (-1, time, 1))
        else:
            signal = ops.reshape(inputs, (-1, 1, time))
        y = ops.conv(signal, kernel, strides=self._frame_step, padding=self.padding,
                     data_format=self.data_format)
        if last:  # (batch * channels, frames, k) -> (batch * channels, k, frames)
            y = ops.transpose(y, (0, 2, 1))
        frames = y.shape[-1]
        y = ops.reshape(y, (-1, channels, y.shape[1], frames))  # (batch, channels, k, frames)
        bins = self._fft_length // 2 + 1
        if len(kernels) == 2:
            real, imag = y[:, :, :bins, :], y[:, :, bins:, :]
        else:
            real = imag = y
        if self.mode in ("real", "imag", "stft"):
            out = y
        elif self.mode == "angle":
            out = ops.arctan2(imag, real)
        else:
            power = ops.square(real) + ops.square(imag)
            if self.mode == "psd":  # one-sided: the bins between DC and Nyquist count twice
                double = np.full((1, 1, bins, 1), 2.0, dtype)
                double[:, :, 0], double[:, :, -1] = 1.0, 1.0
                out = power * double
            else:
                out = ops.sqrt(ops.maximum(power, _EPSILON))
        out = self._arrange(out)
        if self.mode == "log":
            out = ops.log(ops.maximum(out, _EPSILON))
        return out

    def _arrange(self, y: Tensor) -> Tensor:
        """``(batch, channels, bins, frames)`` to the layer's output layout."""
        _, channels, bins, frames = y.shape
        if self.data_format == "channels_last":
            if self.expand_dims:
                return ops.transpose(y, (0, 3, 2, 1))
            return ops.transpose(ops.reshape(y, (-1, channels * bins, frames)), (0, 2, 1))
        if self.expand_dims:
            return ops.transpose(y, (0, 1, 3, 2))
        return ops.reshape(y, (-1, channels * bins, frames))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "mode": self.mode, "frame_length": self.frame_length, "frame_step": self.frame_step,
            "fft_length": self.fft_length, "window": self.window, "periodic": self.periodic,
            "scaling": self.scaling, "padding": self.padding, "data_format": self.data_format,
            "expand_dims": self.expand_dims,
        })
        return config


_MEL_BREAK_FREQUENCY_HERTZ = 700.0
_MEL_HIGH_FREQUENCY_Q = 1127.0


def _hertz_to_mel(hertz: Any) -> Any:
    return _MEL_HIGH_FREQUENCY_Q * np.log(1.0 + np.asarray(hertz, np.float64)
                                          / _MEL_BREAK_FREQUENCY_HERTZ)


def linear_to_mel_weight_matrix(num_mel_bins: int, num_spectrogram_bins: int,
                                sampling_rate: float, lower_edge_hertz: float,
                                upper_edge_hertz: float) -> np.ndarray:
    """The ``(num_spectrogram_bins, num_mel_bins)`` triangular mel filter bank (HTK's mel scale).

    Bin ``k`` of a one-sided spectrum (frequency ``k * sampling_rate / 2 /
    (num_spectrogram_bins - 1)``) feeds mel band ``j`` by a triangle rising from band
    edge ``j`` to its centre ``j + 1`` and falling to edge ``j + 2``, the
    ``num_mel_bins + 2`` edges equally spaced in mels between the two edge
    frequencies; the DC bin feeds none. Keras's and TensorFlow's construction.

    Returns:
        A float64 NumPy array.

    Example:
        >>> m = linear_to_mel_weight_matrix(4, 9, 8000, 100.0, 4000.0)
        >>> m.shape, float(m[0].sum()), bool(m.max() <= 1.0)
        ((9, 4), 0.0, True)
    """
    freqs = np.linspace(0.0, sampling_rate / 2.0, num_spectrogram_bins)[1:]
    bins_mel = _hertz_to_mel(freqs)[:, None]
    edges = np.linspace(_hertz_to_mel(lower_edge_hertz), _hertz_to_mel(upper_edge_hertz),
                        num_mel_bins + 2)
    lower, center, upper = edges[None, :-2], edges[None, 1:-1], edges[None, 2:]
    rising = (bins_mel - lower) / (center - lower)
    falling = (upper - bins_mel) / (upper - center)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return np.pad(weights, [(1, 0), (0, 0)])


class MelSpectrogram(ShapedLayer):
    """The mel-scaled spectrogram of a signal (Keras's ``MelSpectrogram``), in decibels by default.

    The signal is framed with ``sequence_length`` samples every ``sequence_stride``
    (centered: reflect-padded by ``fft_length // 2``), windowed and transformed
    (:func:`chainrule.ops.stft`); the magnitude raised to ``mag_exp`` is mapped
    onto ``num_mel_bins`` triangular mel bands between ``min_freq`` and ``max_freq``,
    then, with ``power_to_db``, turned into decibels relative to ``ref_power`` and
    floored at ``top_db`` below the largest value of the batch (as Keras). No weights.

    Args:
        fft_length: the DFT size; default 2048.
        sequence_stride: the hop between frames; default 512.
        sequence_length: the window length, at most ``fft_length``; default
            ``fft_length``.
        window: ``"hann"`` (default), ``"hamming"`` or None.
        sampling_rate: samples per second of the signal; default 16000.
        num_mel_bins: the number of mel bands; default 128.
        min_freq: the lower edge of the lowest band, in Hz; default 20.0.
        max_freq: the upper edge of the highest band; default ``sampling_rate / 2``.
        power_to_db: return decibels; default True.
        top_db: the range kept below the maximum, in dB; default 80.0.
        mag_exp: the exponent of the magnitude (2.0: power); default 2.0.
        min_power: the floor of the power before the log; default 1e-10.
        ref_power: the power of 0 dB; default 1.0.
        **kwargs: layer arguments.

    Input shape:
        ``(batch, samples)`` or ``(samples,)``.

    Output shape:
        ``(batch, num_mel_bins, 1 + samples // sequence_stride)`` (or without the batch).

    Raises:
        ValueError: for a bad argument, naming it, or an input of another rank.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> layer = cr.layers.MelSpectrogram(fft_length=64, sequence_stride=16,
        ...                                  num_mel_bins=10, sampling_rate=8000)
        >>> layer(np.zeros((2, 160), "float32")).shape
        (2, 10, 11)
    """

    def __init__(self, fft_length: int = 2048, sequence_stride: int = 512,
                 sequence_length: int | None = None, window: str | None = "hann",
                 sampling_rate: int = 16000, num_mel_bins: int = 128, min_freq: float = 20.0,
                 max_freq: float | None = None, power_to_db: bool = True, top_db: float = 80.0,
                 mag_exp: float = 2.0, min_power: float = 1e-10, ref_power: float = 1.0,
                 **kwargs: Any) -> None:
        owner = "MelSpectrogram"
        self.fft_length = _positive_int(fft_length, "fft_length", owner)
        self.sequence_stride = _positive_int(sequence_stride, "sequence_stride", owner)
        self.sequence_length = (self.fft_length if sequence_length is None else
                                _positive_int(sequence_length, "sequence_length", owner))
        if self.fft_length < self.sequence_length:
            raise ValueError(f"{owner}: `fft_length` must be greater than or equal to "
                             f"`sequence_length` ({self.sequence_length}). "
                             f"Received: fft_length={fft_length!r}")
        if window not in ("hann", "hamming", None):
            raise ValueError(f"{owner}: `window` must be 'hann', 'hamming' or None. "
                             f"Received: window={window!r}")
        self.num_mel_bins = _positive_int(num_mel_bins, "num_mel_bins", owner)
        if isinstance(sampling_rate, bool) or not isinstance(sampling_rate, (int, float)) or \
                not sampling_rate > 0:
            raise ValueError(f"{owner}: `sampling_rate` must be a positive number. "
                             f"Received: sampling_rate={sampling_rate!r}")
        max_freq = max_freq or int(sampling_rate / 2)
        if not 0 <= min_freq < max_freq:
            raise ValueError(f"{owner}: `min_freq` must be non-negative and below `max_freq` "
                             f"({max_freq}). Received: min_freq={min_freq!r}")
        super().__init__(**kwargs)
        self.window = window
        self.sampling_rate = sampling_rate
        self.min_freq = min_freq
        self.max_freq = max_freq
        self.power_to_db = bool(power_to_db)
        self.top_db = top_db
        self.mag_exp = mag_exp
        self.min_power = min_power
        self.ref_power = ref_power

    def _check_shape(self, input_shape: Sequence[Any]) -> tuple:
        shape = tuple(input_shape)
        if len(shape) not in (1, 2):
            raise _rank_error(self, "1-D (samples,) or 2-D (batch, samples) input", shape)
        return shape

    def build(self, input_shape: Any) -> None:
        self._check_shape(input_shape)
        self.built = True

    def _check_input(self, inputs: Any) -> None:
        self._check_shape(inputs.shape)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """``(batch, num_mel_bins, frames)``, ``frames = 1 + samples // sequence_stride``."""
        shape = self._check_shape(input_shape)
        frames = None if shape[-1] is None else 1 + shape[-1] // self.sequence_stride
        return shape[:-1] + (self.num_mel_bins, frames)

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        if inputs.ndim not in (1, 2):
            raise _rank_error(self, "1-D (samples,) or 2-D (batch, samples) input",
                              inputs.shape)
        dtype = np.dtype(self.dtype or "float32")
        if dtype not in (np.float32, np.float64):
            dtype = np.dtype("float32")
        x = inputs if np.dtype(inputs.dtype) == dtype else ops.cast(inputs, dtype)
        real, imag = ops.stft(x, self.sequence_length, self.sequence_stride, self.fft_length,
                              window=self.window, center=True)
        power = ops.square(real) + ops.square(imag)
        spec = power if self.mag_exp == 2 else ops.power(ops.sqrt(power), self.mag_exp)
        matrix = linear_to_mel_weight_matrix(self.num_mel_bins, self.fft_length // 2 + 1,
                                             self.sampling_rate, self.min_freq, self.max_freq)
        mel = ops.matmul(spec, matrix.astype(dtype))
        if self.power_to_db:
            ref = 10.0 * math.log10(max(abs(float(self.ref_power)), self.min_power))
            db = 10.0 * ops.log10(ops.maximum(mel, self.min_power)) - ref
            mel = ops.maximum(db, ops.max(db) - self.top_db)
        return ops.swapaxes(mel, -1, -2)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "fft_length": self.fft_length, "sequence_stride": self.sequence_stride,
            "sequence_length": self.sequence_length, "window": self.window,
            "sampling_rate": self.sampling_rate, "num_mel_bins": self.num_mel_bins,
            "min_freq": self.min_freq, "max_freq": self.max_freq,
            "power_to_db": self.power_to_db, "top_db": self.top_db, "mag_exp": self.mag_exp,
            "min_power": self.min_power, "ref_power": self.ref_power,
        })
        return config
