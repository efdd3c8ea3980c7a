"""Pytest hooks for the whole tree (`testpaths`: tests/ and the doctests of csd/)."""

import os
import shutil
import tempfile

import pytest

# Docstring examples that compile several kernels (2-5 s each on two CPU cores): in the
# slow tier, like the slow tests (a doctest has no decorator to mark it).
SLOW_EXAMPLES = {"csd._src.bootstrap.bootstrap", "csd._src.orders", "csd._src.compare.compare", "csd._src.sweep.sweep"}

# JAX's persistent compilation cache, shared by every test process of one pytest run (the
# xdist workers and the `csd-run` subprocesses inherit the environment): most of the
# suite's time is compiling kernels, and many tests compile the same ones. One fresh folder
# per run, removed at its end, so no run reuses another's executables.
_CACHE_VARIABLES = {
    "JAX_COMPILATION_CACHE_DIR": None,  # set in pytest_configure
    "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
    "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "-1",
}


def pytest_configure(config):
    if "JAX_COMPILATION_CACHE_DIR" not in os.environ:  # the controller; workers inherit its folder
        folder = tempfile.mkdtemp(prefix="csd-test-jax-cache-")
        config._csd_jax_cache = folder
        os.environ.update({**_CACHE_VARIABLES, "JAX_COMPILATION_CACHE_DIR": folder})
    import jax  # in case a plugin imported it before the variables were set

    jax.config.update("jax_compilation_cache_dir", os.environ["JAX_COMPILATION_CACHE_DIR"])
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)


def pytest_unconfigure(config):
    folder = getattr(config, "_csd_jax_cache", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        for name in _CACHE_VARIABLES:
            os.environ.pop(name, None)


def pytest_collection_modifyitems(items):
    for item in items:
        if item.name in SLOW_EXAMPLES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True, scope="module")
def _fresh_jax_caches():
    """Drops JAX's compiled executables from memory after each test module (a module
    that needs them again loads them from the persistent cache). The whole suite compiles
    hundreds of kernels; kept all together in one process, XLA:CPU crashed once (a
    segmentation fault while compiling) late in a fresh-clone run of .ci/run."""
    yield
    import jax

    jax.clear_caches()
