"""Figures for the lessons, drawn with matplotlib (the optional ``plot`` extra).

Every function returns a :class:`matplotlib.figure.Figure` and, given
``path=``, also writes it as a PNG. Figures are created directly (not through
``pyplot``), so nothing opens a window and they work headless. matplotlib is
imported only when a figure is drawn; without it, the functions raise an
ImportError that says to ``pip install "chainrule[plot]"``.

* :func:`activations`: activation functions and their derivatives (seed 002 §2.3).
* :func:`history`, :func:`compare`: training curves of one run, or of several.
* :func:`decision_boundary`: what a classifier predicts over the plane (gates, XOR, moons).
* :func:`image_grid`: the seed's 3×3 grid of Fashion-MNIST images.
* :func:`gradient_flow`: per-layer gradient norms from a :class:`~chainrule.explain.GradientMonitor`,
  or (``over="time"``) the gradient reaching each time step of a recurrent layer.
* :func:`gradient_descent_path`: contour lines of ``f`` and the path descent took (seed 004).
* :func:`network`: a small dense network with its weights on the edges.
* :func:`filters`, :func:`feature_maps`: a convnet's kernels, and what one layer makes of an image.

Example:
    >>> from chainrule import plot
    >>> fig = plot.activations(["sigmoid", "tanh"])
    >>> len(fig.axes)
    2
"""

from chainrule.plot.activations import activation_curves, activations
from chainrule.plot.boundary import decision_boundary
from chainrule.plot.conv import feature_maps, filters
from chainrule.plot.gradients import gradient_descent_path, gradient_flow
from chainrule.plot.images import FASHION_MNIST_CLASSES, image_grid
from chainrule.plot.network import network
from chainrule.plot.training import compare, history

__all__ = [
    "activations", "activation_curves", "history", "compare", "decision_boundary", "image_grid",
    "FASHION_MNIST_CLASSES", "gradient_flow", "gradient_descent_path", "network",
    "filters", "feature_maps",
]
