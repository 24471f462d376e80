"""Sequence numbers in blocks under racing writers on the real store: every
number handed out once, blocks from several processes' worth of takers
never overlap, runs for imports are consecutive, and a chain numbered one
link a number before blocks continues after its last number."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from crm_kit.persistence.chain import Chain
from crm_kit.persistence.numbers import NumberBlocks


def _chain(db) -> Chain:
    suffix = uuid.uuid4().hex[:8]
    return Chain(db[f"numbers_links_{suffix}"], db[f"numbers_hints_{suffix}"])


def test_racing_takers_in_three_replicas_never_share_a_number(db):
    chain = _chain(db)
    replicas = [NumberBlocks(chain, block_size=7) for _ in range(3)]  # three processes' caches, one chain
    with ThreadPoolExecutor(24) as pool:
        taken = list(pool.map(lambda i: replicas[i % 3].take("SO-2026"), range(300)))
    assert len(set(taken)) == 300
    # Blocks are whole: everything up to the last block handed out belongs to some block.
    assert min(taken) == 1 and max(taken) <= 300 + 3 * 7


def test_a_process_hands_out_its_block_in_order_and_sequences_are_separate(db):
    numbers = NumberBlocks(_chain(db), block_size=5)
    assert [numbers.take("SO-2026") for _ in range(7)] == [1, 2, 3, 4, 5, 6, 7]
    assert numbers.take("SO-2027") == 1
    other = NumberBlocks(numbers.chain, block_size=5)  # another process: the next block
    assert other.take("SO-2026") == 11


def test_a_run_is_consecutive_and_its_own_block(db):
    numbers = NumberBlocks(_chain(db), block_size=5)
    assert numbers.take("SO-2026") == 1
    with ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(lambda _i: numbers.take_run("SO-2026", 100), range(4)))
    for run in runs:
        assert run == list(range(run[0], run[0] + 100))
    assert len({n for run in runs for n in run} | {1}) == 401


def test_a_chain_of_single_numbers_from_before_blocks_continues_after_its_last(db):
    chain = _chain(db)
    for _ in range(3):  # as orders were numbered before: one link a number
        chain.append("SO-2026", lambda _n, _previous: {"order_id": "ord_x"})
    assert NumberBlocks(chain, block_size=10).take("SO-2026") == 4
