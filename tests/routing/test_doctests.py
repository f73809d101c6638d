import doctest

import pytest

import routing.duty
import routing.folding
import routing.search


@pytest.mark.parametrize("module", [routing.duty, routing.folding, routing.search])
def test_docstring_examples(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
