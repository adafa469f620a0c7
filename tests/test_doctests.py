"""The examples in chainrule's docstrings run and print what they say (Google style, ``>>>``).

An example that needs an optional extra (onnx, h5py, ...) is skipped, naming it, where that
extra is not installed; the test extra installs them all.
"""

import doctest
import importlib
import pkgutil

import pytest

import chainrule

MODULES = sorted(m.name for m in pkgutil.walk_packages(chainrule.__path__, "chainrule."))


class _Runner(doctest.DocTestRunner):
    """Counts failures as doctest does, and notes examples that stop on a missing package."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.missing = []

    def report_unexpected_exception(self, out, test, example, exc_info):
        if issubclass(exc_info[0], ImportError):
            self.missing.append(str(exc_info[1]))
        super().report_unexpected_exception(out, test, example, exc_info)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    runner = _Runner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    for test in doctest.DocTestFinder().find(module, module.__name__):
        runner.run(test, out=lambda text: None)
    failed, attempted = runner.failures, runner.tries
    if failed and runner.missing:  # the module's examples need a package that is absent
        pytest.skip(f"examples of {name} need an optional package: {runner.missing[0]}")
    assert failed == 0, f"{failed} of {attempted} examples failed in {name}"
