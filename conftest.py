"""Pytest hooks for the whole tree (`testpaths`: tests/ and the doctests of csd/)."""

import pytest

# Docstring examples that take more than ~5 s on two CPU cores: in the slow tier, like the
# slow tests (a doctest has no decorator to mark it).
SLOW_EXAMPLES = {"csd._src.bootstrap.bootstrap"}


def pytest_collection_modifyitems(items):
    for item in items:
        if item.name in SLOW_EXAMPLES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True, scope="module")
def _fresh_jax_caches():
    """Drops JAX's compiled executables after each test module. The whole suite compiles
    hundreds of kernels in one process; kept all together, XLA:CPU crashed once
    (a segmentation fault while compiling) late in a fresh-clone run of .ci/run."""
    yield
    import jax

    jax.clear_caches()
