"""The examples in chainrule's docstrings run and print what they say (Google style, ``>>>``)."""

import doctest
import importlib
import pkgutil

import pytest

import chainrule

MODULES = sorted(m.name for m in pkgutil.walk_packages(chainrule.__path__, "chainrule."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             verbose=False, report=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
