"""Properties of the part planner and the adaptive chunk sizer."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from filestack_async import ConfigurationError
from filestack_async._uploads.planner import (
    MAX_PART_SIZE,
    MAX_PARTS,
    MIN_PART_SIZE,
    ChunkSizer,
    part_size_for,
    plan_parts,
)

MiB = 1024 * 1024
KiB = 1024
TiB = 1024 * 1024 * MiB

sizes = st.one_of(
    st.integers(min_value=1, max_value=64 * MiB),
    st.integers(min_value=1, max_value=48 * TiB),
    st.sampled_from([1, 5 * MiB - 1, 5 * MiB, 5 * MiB + 1, 80_000 * MiB, 78_125 * MiB + 1]),
)
configured = st.integers(min_value=MIN_PART_SIZE, max_value=64 * MiB)


@given(total=sizes, wanted=configured)
@settings(max_examples=400)
def test_parts_cover_the_file_exactly_once_within_bounds(total: int, wanted: int) -> None:
    size = part_size_for(total, wanted)
    assert MIN_PART_SIZE <= size <= MAX_PART_SIZE
    assert size >= wanted
    count = -(-total // size)
    assert count <= MAX_PARTS
    if total <= 200 * 1024 * MiB:  # materialise the list only when it is small enough
        parts = plan_parts(total, size)
        assert len(parts) == count
        assert [p.number for p in parts] == list(range(1, len(parts) + 1))
        assert parts[0].offset == 0 and parts[-1].end == total
        for before, after in itertools.pairwise(parts):
            assert before.end == after.offset  # no gap, no overlap
        assert all(p.size == size for p in parts[:-1])
        assert 0 < parts[-1].size <= size


@given(total=sizes, wanted=configured)
def test_the_part_size_only_grows_when_needed(total: int, wanted: int) -> None:
    size = part_size_for(total, wanted)
    if -(-total // wanted) <= MAX_PARTS:
        assert size == wanted
    else:
        assert size % MiB == 0
        assert -(-total // (size - MiB)) > MAX_PARTS  # the smallest whole MiB that fits


def test_sizes_that_cannot_be_uploaded() -> None:
    with pytest.raises(ConfigurationError, match="larger than multipart uploads allow"):
        part_size_for(MAX_PARTS * MAX_PART_SIZE + 1, 8 * MiB)
    with pytest.raises(ConfigurationError, match="negative"):
        part_size_for(-1, 8 * MiB)


def test_a_small_configured_part_size_is_raised_to_the_minimum() -> None:
    assert part_size_for(100, MiB) == MIN_PART_SIZE


@given(
    initial=st.integers(min_value=32 * KiB, max_value=16 * MiB),
    floor_kib=st.integers(min_value=1, max_value=32),
    events=st.lists(st.booleans(), max_size=200),
)
def test_the_chunk_size_stays_between_floor_and_initial(
    initial: int, floor_kib: int, events: list[bool]
) -> None:
    floor = min(floor_kib * KiB, initial)
    sizer = ChunkSizer(initial, floor)
    for success in events:
        before = sizer.size
        if success:
            sizer.after_success()
            assert sizer.size in (before, min(initial, before * 2))
        else:
            result = sizer.after_failure(before)
            if before <= floor:
                assert result is None
            else:
                assert result == sizer.size == max(floor, -(-before // 2))
        assert floor <= sizer.size <= initial


def test_the_default_ladder_from_8_mib_to_the_32_kib_floor() -> None:
    sizer = ChunkSizer(8 * MiB, 32 * KiB)
    ladder = [sizer.size]
    while (size := sizer.after_failure(sizer.size)) is not None:
        ladder.append(size)
    assert ladder == [8 * MiB >> n for n in range(9)]  # 8 MiB ... 32 KiB, 9 attempts


def test_a_stale_failure_does_not_halve_twice() -> None:
    sizer = ChunkSizer(8 * MiB, 32 * KiB)
    assert sizer.after_failure(8 * MiB) == 4 * MiB  # part A's 8 MiB chunk failed
    assert sizer.after_failure(8 * MiB) == 4 * MiB  # part B's, sent before the first halving
    assert sizer.after_failure(4 * MiB) == 2 * MiB


def test_regrowth_needs_a_run_of_successes() -> None:
    sizer = ChunkSizer(MiB, 32 * KiB, grow_after=3)
    sizer.after_failure(MiB)
    sizer.after_success()
    sizer.after_success()
    sizer.after_failure(512 * KiB)  # a failure breaks the run
    assert sizer.size == 256 * KiB
    sizer.after_success()
    sizer.after_success()
    assert sizer.size == 256 * KiB
    sizer.after_success()
    assert sizer.size == 512 * KiB
    assert sizer.next_chunk(1000) == 1000


def test_bad_sizer_settings() -> None:
    with pytest.raises(ConfigurationError):
        ChunkSizer(32 * KiB, 64 * KiB)
    with pytest.raises(ConfigurationError):
        ChunkSizer(MiB, KiB, grow_after=0)
