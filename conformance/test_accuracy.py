"""accuracy: how accurate each binding is, element by element (``conformance.accuracy``).

Measurements, not verdicts: the worst error over every half-precision input of the
element-wise losses (``conformance.exhaustive``), and a searched lower bound elsewhere
(``conformance.worst_case``). A test fails only where the harness failed.
"""

import pytest

from conformance import exhaustive, worst_case
from conformance._params import SEARCHED, SEARCHED_IDS, SWEPT, SWEPT_IDS
from conformance.conftest import SEED, available


@pytest.mark.parametrize(("name", "binding", "dtype"), SWEPT, ids=SWEPT_IDS)
def test_every_half_precision_input(suite, name, binding, dtype):
    available(suite, name)
    if not exhaustive.in_budget(dtype):
        pytest.skip(f"the ci profile samples {', '.join(exhaustive.CI_DTYPES)} only "
                    "(XENT_ACCURACY=exhaustive sweeps every pattern of every dtype)")
    exhaustive.sweep(suite, name, binding, dtype)


@pytest.mark.parametrize(("name", "binding", "dtype", "kind"), SEARCHED, ids=SEARCHED_IDS)
def test_worst_case_search(suite, name, binding, dtype, kind):
    available(suite, name)
    if not worst_case.in_budget(dtype):
        pytest.skip(f"the ci profile searches {', '.join(worst_case.CI_DTYPES)} only "
                    "(XENT_ACCURACY=exhaustive searches every dtype)")
    worst_case.search(suite, name, binding, dtype, kind, SEED)
