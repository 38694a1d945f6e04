"""A page's `resources:` as Dask resources (execute/distributed.dask_resources): sizes with
their units, GPU, other keys upper-cased, and errors that name the key and the fix. Pure: it
needs no Dask."""
from __future__ import annotations

import pytest

from pipeline.execute.distributed import dask_resources


def test_memory_sizes_are_bytes_in_decimal_and_binary_units():
    assert dask_resources({"memory": "512MB"}) == {"MEMORY": 512e6}
    assert dask_resources({"memory": "4GB"}) == {"MEMORY": 4e9}
    assert dask_resources({"memory": "2GiB"}) == {"MEMORY": 2 * 2**30}
    assert dask_resources({"memory": "1.5 gb"}) == {"MEMORY": 1.5e9}
    assert dask_resources({"memory": "300k"}) == {"MEMORY": 3e5}
    assert dask_resources({"memory": 1024}) == {"MEMORY": 1024.0}
    assert dask_resources({"Memory": "1TiB"}) == {"MEMORY": float(2**40)}


def test_gpu_and_other_keys_are_upper_cased_counts():
    assert dask_resources({"gpu": 1, "memory": "4GB"}) == {"GPU": 1.0, "MEMORY": 4e9}
    assert dask_resources({"licence_matlab": 2, "ssd": 0.5}) == {"LICENCE_MATLAB": 2.0,
                                                                "SSD": 0.5}


def test_nothing_asked_is_none():
    assert dask_resources(None) is None
    assert dask_resources({}) is None


@pytest.mark.parametrize("resources, words", [
    ({"memory": "lots"}, "memory must be a size such as 512MB, 4GB or 2GiB, not 'lots'"),
    ({"memory": "4 GX"}, "memory must be a size such as 512MB"),
    ({"memory": "-1GB"}, "memory must be a size"),
    ({"memory": 0}, "memory must be a positive amount (e.g. memory: 4GB), not 0"),
    ({"memory": True}, "memory must be a size"),
    ({"gpu": "one"}, "gpu must be a positive amount (e.g. gpu: 1), not 'one'"),
    ({"gpu": 0}, "gpu must be a positive amount"),
    ({"gpu": -2}, "gpu must be a positive amount"),
    ({"gpu": True}, "gpu must be a positive amount"),
    ({"gpu": float("inf")}, "gpu must be a positive amount"),
    ({"ssd": [1]}, "ssd must be a positive amount (e.g. ssd: 1)"),
    ({" ": 1}, "resources has an empty key"),
    (["gpu"], "resources must be a mapping such as {memory: 4GB, gpu: 1}, not ['gpu']"),
    ("4GB", "resources must be a mapping"),
])
def test_bad_values_say_which_key_and_what_to_write(resources, words):
    with pytest.raises(ValueError) as error:
        dask_resources(resources)
    assert words in str(error.value)
