"""The kit's persistence primitives under concurrent writers, on a real
FerretDB: threads race, and each test asserts the invariant the primitive
promises (never a timing)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import grpc
import pytest

from crm_kit.errors import Aborted, InvalidArgument
from crm_kit.grpc_errors import to_status
from crm_kit import paging
from crm_kit.mongo import IDS_PER_READ, find_by_ids
from crm_kit.persistence.books import WALK_BATCH, Books
from crm_kit.persistence.keys import Holding, NaturalKeys
from crm_kit.persistence.once import DecideOnce, RequestKeys
from crm_kit.persistence.revisions import Contended, Revisions, write_with_retries

THREADS = 8


def race(n: int, fn):
    """Run fn(i) for i in range(n) on n threads released at once; results in order."""
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait()
        return fn(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def increment(revisions: Revisions, doc_id: str, by: str, attempts: int = 8) -> dict:
    def change(current: dict) -> dict:
        new = {**current, "count": current["count"] + 1, "revision": current["revision"] + 1}
        if not revisions.commit(doc_id, new["revision"], new, by, {"note": f"+1 by {by}"}):
            raise Contended()
        return new

    return write_with_retries("counter", doc_id, lambda: revisions.documents.find_one({"_id": doc_id}), change,
                              attempts)


def test_revisions_never_lose_a_write_under_racing_writers(db):
    revisions = Revisions(db["counters"], db["counter_claims"])
    assert revisions.create({"_id": "c1", "count": 0, "revision": 1}, "setup")
    outcomes = race(THREADS, lambda i: [_try(increment, revisions, "c1", f"w{i}") for _ in range(6)])
    won = sum(1 for per_thread in outcomes for ok in per_thread if ok)
    final = db["counters"].find_one({"_id": "c1"})
    # Every write that reported success is in the count, and nothing else is.
    assert final["count"] == won and final["revision"] == won + 1
    # Each of them is in the history exactly once, in order (revision 1, created
    # without events, needs no claim: its insert alone decided).
    history = revisions.history("c1", final["revision"])
    assert [c.revision for c in history] == list(range(2, won + 2))
    assert [c.state["count"] for c in history] == list(range(1, won + 1))
    assert all(c.detail["note"].startswith("+1 by w") for c in history)


def _try(fn, *args) -> bool:
    try:
        fn(*args)
        return True
    except Aborted:
        return False


def test_contention_that_outlasts_its_attempts_is_aborted_not_internal(db):
    revisions = Revisions(db["counters"], db["counter_claims"])
    revisions.create({"_id": "c2", "count": 0, "revision": 1}, "setup")

    def always_beaten(current):
        raise Contended()

    with pytest.raises(Aborted) as caught:
        write_with_retries("counter", "c2", lambda: db["counters"].find_one({"_id": "c2"}), always_beaten, 3)
    assert to_status(caught.value).code == grpc.StatusCode.ABORTED


def test_a_claim_whose_writer_died_is_applied_by_the_next_writer(db):
    revisions = Revisions(db["counters"], db["counter_claims"], abandoned_after=timedelta(0))
    revisions.create({"_id": "c3", "count": 0, "revision": 1}, "setup")
    # A writer claims revision 2 and dies before writing the document.
    assert revisions.claim("c3", 2, {"_id": "c3", "count": 41, "revision": 2}, "crashed") is not None
    after = increment(revisions, "c3", "next")
    assert after == {"_id": "c3", "count": 42, "revision": 3}
    assert db["counters"].find_one({"_id": "c3"})["count"] == 42


def test_a_reservation_whose_writer_died_moves_the_document_on_unchanged(db):
    """A claim without a state (commit(state_in_claim=False)) only reserved
    its revision: once its writer is gone, the next writer takes the one
    after it from the document as it stands, and nothing is lost or made up."""
    revisions = Revisions(db["counters"], db["counter_claims"], abandoned_after=timedelta(0))
    revisions.create({"_id": "c5", "count": 7, "revision": 1}, "setup")
    # A writer reserves revision 2 and dies before writing the document.
    assert revisions.claim("c5", 2, None, "crashed") is not None
    after = increment(revisions, "c5", "next")
    assert after == {"_id": "c5", "count": 8, "revision": 3}
    assert db["counters"].find_one({"_id": "c5"}) == after
    history = revisions.history("c5", 3)
    assert [(c.revision, c.state, c.changed_by) for c in history] == [(2, None, "crashed"), (3, after, "next")]


def test_a_claim_that_carries_events_must_keep_its_state(db):
    revisions = Revisions(db["counters"], db["counter_claims"])
    with pytest.raises(ValueError):
        revisions.commit("c6", 2, {"_id": "c6", "revision": 2}, "w", events=[object()], state_in_claim=False)


def test_strip_removes_states_but_keeps_who_and_when(db):
    revisions = Revisions(db["counters"], db["counter_claims"])
    revisions.create({"_id": "c4", "count": 0, "revision": 1}, "setup")
    increment(revisions, "c4", "rep-a")
    revisions.strip("c4", 2)
    history = revisions.history("c4", 2)
    assert [(c.state, c.changed_by) for c in history] == [(None, "rep-a")]
    # The number stays taken: a writer with a stale read cannot write an old state back.
    assert revisions.claim("c4", 2, {"_id": "c4", "count": 0, "revision": 2}, "stale") is None


def test_one_natural_key_goes_to_exactly_one_of_many_racing_holders(db):
    keys = NaturalKeys(db["keys"], holder_field="customer_id")
    refused = race(16, lambda i: keys.reserve(("phone:+8613800000000", f"email:{i}@example.com"), f"h{i}",
                                              owner_id=f"rep-{i}"))
    winners = [i for i, holder in enumerate(refused) if holder is None]
    assert len(winners) == 1
    winner = f"h{winners[0]}"
    assert {holder.holder_id for holder in refused if holder is not None} == {winner}
    assert keys.holder("phone:+8613800000000").fields == {"owner_id": f"rep-{winners[0]}"}
    # The losers' other keys were undone; the winner's stayed.
    held = {i for i in range(16) if keys.holder(f"email:{i}@example.com") is not None}
    assert held == {winners[0]}


def test_a_key_is_released_only_by_its_holder_and_taken_over_only_when_stale(db):
    keys = NaturalKeys(db["keys"])
    assert keys.reserve(("sku:A-1",), "p1") is None
    keys.release(("sku:A-1",), "someone-else")
    seen = keys.holder("sku:A-1")
    assert seen.holder_id == "p1"
    assert not keys.take_over_if_stale(seen, lambda k: Holding.HOLDS)
    assert keys.holder("sku:A-1") is not None
    assert not keys.take_over_if_stale(seen, lambda k: Holding.UNKNOWN, pending_wait=0.05)
    assert keys.take_over_if_stale(seen, lambda k: Holding.SUPERSEDED)
    assert keys.holder("sku:A-1") is None
    assert keys.reserve(("sku:A-1",), "p2") is None


def test_bulk_reservation_grants_whole_holders_only(db):
    keys = NaturalKeys(db["keys"])
    keys.reserve(("k:taken",), "old")
    granted = keys.reserve_many({"a": (("k:a1", "k:a2"), {}), "b": (("k:b1", "k:taken"), {})})
    assert granted == {"a"}
    assert keys.holder("k:b1") is None and keys.holder("k:taken").holder_id == "old"


def test_books_number_every_arrival_once_under_racing_writers(db):
    books = Books(db["book_links"], db["books"], item_field="customer_id")
    now = datetime.now(timezone.utc)
    race(THREADS, lambda i: [books.add([("owner:rep-a", f"c{i}-{j}", now), ("all", f"c{i}-{j}", now)])
                             for j in range(10)])
    entries = list(books.walk("owner:rep-a", lambda item, since: item))
    assert [n for n, _item in entries] == list(range(1, THREADS * 10 + 1))
    assert sorted(item for _n, item in entries) == sorted(f"c{i}-{j}" for i in range(THREADS) for j in range(10))


def test_a_run_appended_to_many_chains_says_which_number_each_doc_took_under_racing_writers(db):
    """What numbers imported orders: the numbers answered are the links the docs landed in, none twice."""
    from crm_kit.persistence.chain import Chain

    chain = Chain(db["run_links"], db["run_hints"])

    def append(i: int) -> dict[str, list[int]]:
        if i % 2:  # a lone writer taking one number at a time
            return {"SO-2025": [chain.append("SO-2025", lambda _n, _prev, i=i: {"by": f"one-{i}-{j}"})[0]
                                for j in range(5)]}
        return chain.append_to_many({"SO-2025": [{"by": f"run-{i}-{j}"} for j in range(20)],
                                     "SO-2024": [{"by": f"run-{i}-{j}"} for j in range(3)]})

    answers = race(THREADS, append)
    for i, answer in enumerate(answers):
        for key, numbers in answer.items():
            prefix = "one" if i % 2 else "run"
            assert [chain.link(key, n)["by"] for n in numbers] == [f"{prefix}-{i}-{j}" for j in range(len(numbers))]
    taken = [n for answer in answers for n in answer["SO-2025"]]
    assert sorted(taken) == list(range(1, len(taken) + 1))  # every number once, none skipped


def test_a_new_chains_first_links_are_read_as_soon_as_written_whoever_writes_them(db):
    """A chain without a hint reads as empty (one read, no probe), so every
    way of writing a first link writes the hint before it: racing first
    writers on fresh chains, each append seen by top() the moment it returns."""
    from crm_kit.persistence.chain import Chain

    chain = Chain(db["fresh_links"], db["fresh_hints"])
    keys = [f"customer:{k}" for k in range(12)]

    def write(i: int) -> None:
        for key in keys:
            if i % 3 == 0:
                n, _doc = chain.append(key, lambda _n, _prev: {"by": i})
            elif i % 3 == 1:
                n = chain.append_many(key, [{"by": i}, {"by": i}])
            else:
                n = chain.append_to_many({key: [{"by": i}]})[key][0]
            assert chain.top(key)[0] >= n

    race(THREADS, write)
    appended = sum(2 if i % 3 == 1 else 1 for i in range(THREADS))
    for key in keys:
        n, doc = chain.top(key)
        assert n == appended and doc is not None
    assert chain.top("customer:none") == (0, None)


def test_a_first_link_whose_writer_died_before_moving_the_hint_is_still_read(db, monkeypatch):
    """A chain without a hint reads as empty, so the hint comes before the
    first link: a writer that dies between the link and moving the hint
    leaves a chain whose readers find the link (its events may be out)."""
    from crm_kit.persistence import chain as chain_module

    chain = chain_module.Chain(db["crash_links"], db["crash_hints"])
    real_advance = chain_module.Chain._advance_hint

    def die_after_the_link(self, key, n):
        if n > 0:
            raise ConnectionError("the writer died here")
        real_advance(self, key, n)

    monkeypatch.setattr(chain_module.Chain, "_advance_hint", die_after_the_link)
    for key, write in [("one", lambda: chain.append("one", lambda _n, _prev: {"v": 1})),
                       ("many", lambda: chain.append_many("many", [{"v": 1}])),
                       ("run", lambda: chain.append_to_many({"run": [{"v": 1}]}))]:
        with pytest.raises(ConnectionError):
            write()
        assert chain.top(key) == (1, {"_id": f"{key}#0000000001", "v": 1})


def test_books_of_a_bulk_arrival_over_many_books_stay_gap_free_under_racing_writers(db):
    """An import lists its orders in hundreds of customers' books at once (hints read and moved in parallel)."""
    books = Books(db["wide_links"], db["wide_hints"])
    now = datetime.now(timezone.utc)
    race(THREADS, lambda i: books.add([(f"customer:{b}", f"o{i}-{b}", now) for b in range(40)]))
    for b in range(40):
        entries = list(books.walk(f"customer:{b}", lambda item, since: item))
        assert sorted(item for _n, item in entries) == sorted(f"o{i}-{b}" for i in range(THREADS))
        assert books.chain.top(f"customer:{b}")[0] == THREADS
        assert db["wide_hints"].find_one({"_id": f"customer:{b}"})["top"] <= THREADS


def test_presence_marks_every_id_with_a_book_and_none_without(db):
    """The 360 card skips a customer's sales books when it finds no mark:
    each way of starting a book marks its id first (bulk ones too, over many
    books in parallel), other books mark nothing, and an id never written
    reads as certainly absent once the marks are backfilled."""
    from crm_kit.persistence.presence import Presence

    presence = Presence(db["mark_marks"])
    books = Books(db["mark_links"], db["mark_hints"], on_new_book=presence.marker("customer:"))
    now = datetime.now(timezone.utc)
    assert presence.may_have("nobody")  # not backfilled yet: the books must be read
    presence.backfill([(books.chain, "customer:")])
    books.add([("customer:one", "o1", now), ("rep:r1", "o1", now)])
    books.add([(f"customer:bulk{b}", f"o{b}", now) for b in range(40)])  # hints started in parallel
    books.chain.append("customer:single", lambda _n, _prev: {"item_id": "o2", "since": now})
    books.chain.append_many("customer:many", [{"item_id": "o3", "since": now}])
    race(THREADS, lambda i: books.add([("customer:raced", f"o{i}", now)]))
    for marked in ["one", "single", "many", "raced"] + [f"bulk{b}" for b in range(40)]:
        assert presence.may_have(marked), marked
    assert not presence.may_have("nobody")
    assert not presence.may_have("r1")  # a rep's book is not a customer's
    assert db["mark_marks"].count_documents({"_id": "raced"}) == 1


def test_one_presence_serves_chains_of_two_kinds_of_key(db):
    """One marks collection for chains keyed "<id>" and "customer:<id>" (an
    interaction log and a customer's visit list): each chain's hook and the
    backfill read the id after that chain's own prefix."""
    from crm_kit.persistence.chain import Chain
    from crm_kit.persistence.presence import Presence

    presence = Presence(db["kinds_marks"])
    Chain(db["kinds_list_links"], db["kinds_list_hints"]).append(  # an older writer: no hook
        "customer:before", lambda _n, _prev: {"v": 1})
    logs = Chain(db["kinds_log_links"], db["kinds_log_hints"], on_new=presence.marker(""))
    lists = Chain(db["kinds_list_links"], db["kinds_list_hints"], on_new=presence.marker("customer:"))
    assert presence.backfill([(logs, ""), (lists, "customer:")]) == 1
    logs.append("talked", lambda _n, _prev: {"v": 1})
    lists.append("customer:visited", lambda _n, _prev: {"v": 1})
    lists.append("rep:r1", lambda _n, _prev: {"v": 1})  # not a customer's list
    assert all(presence.may_have(i) for i in ("before", "talked", "visited"))
    assert not any(presence.may_have(i) for i in ("customer:before", "customer:visited", "r1", "rep:r1", "nobody"))


def test_a_mark_comes_before_its_books_first_entry(db):
    """A writer that dies while marking leaves no entry behind (neither hint
    nor link), so a missing mark never hides an entry."""
    from crm_kit.persistence.presence import Presence

    presence = Presence(db["early_marks"])

    def die_while_marking(books: list[str]) -> None:
        raise ConnectionError("the writer died here")

    books = Books(db["early_links"], db["early_hints"], on_new_book=die_while_marking)
    now = datetime.now(timezone.utc)
    for write in [lambda: books.add([("customer:a", "o1", now)]),
                  lambda: books.chain.append("customer:a", lambda _n, _prev: {"item_id": "o1", "since": now}),
                  lambda: books.chain.append_many("customer:a", [{"item_id": "o1", "since": now}])]:
        with pytest.raises(ConnectionError):
            write()
    presence.backfill([(books.chain, "customer:")])
    assert not presence.may_have("a")
    assert db["early_links"].count_documents({}) == 0 and db["early_hints"].count_documents({}) == 0


def test_presence_backfill_marks_books_written_without_marks(db):
    """Books from before the marks (or begun by an older replica during a
    rolling upgrade) are marked by the backfill, which every replica runs at
    start and once more an interval later; a process trusts the marks only
    after a run of its own, and a first link whose old writer died before its
    hint counts."""
    from crm_kit.persistence.presence import Presence

    old_books = Books(db["old_links"], db["old_hints"])  # an older version's writer: no hook
    now = datetime.now(timezone.utc)
    old_books.add([("customer:before", "o1", now), ("team:t1", "o1", now)])
    db["old_links"].insert_one({"_id": "customer:hintless#0000000001", "item_id": "o0", "since": now})
    chains = [(old_books.chain, "customer:")]
    reader, other_process = Presence(db["old_marks"]), Presence(db["old_marks"])
    assert other_process.backfill(chains) == 2
    assert reader.may_have("nobody")  # another process's run does not make this one skip books
    assert reader.backfill(chains) == 0  # marked already: nothing written again
    assert reader.may_have("before") and reader.may_have("hintless") and not reader.may_have("nobody")
    assert not reader.may_have("t1")
    old_books.add([("customer:during_upgrade", "o2", now)])
    assert not reader.may_have("during_upgrade")  # the window: until the next run
    assert reader.backfill(chains) == 1
    assert reader.may_have("during_upgrade")
    assert reader.backfill(chains) == 0  # two runs a process: at start and one interval later
    switched_off = Presence(db["old_marks"], enabled=False)
    assert switched_off.backfill(chains) == 0 and switched_off.may_have("nobody")


def test_book_pages_cover_every_standing_item_once_within_a_bounded_walk(db):
    books = Books(db["book_links"], db["books"])
    now = datetime.now(timezone.utc)
    books.add([("queue", f"t{i}", now) for i in range(50)])
    standing = lambda item, since: item if int(item[1:]) % 7 else None  # some entries no longer stand
    seen, start, rounds = [], 1, 0
    while start is not None:
        page, start = books.page("queue", standing, size=4, start=start, scan_limit=10)
        assert len(page) <= 4
        seen += page
        rounds += 1
    assert seen == [f"t{i}" for i in range(50) if i % 7]
    assert rounds >= 50 // 10  # no call walked more than its limit


def test_a_book_read_in_batches_gives_every_entry_once_in_order_whichever_way_it_is_walked(db):
    """Walks read WALK_BATCH entries a find; across batch edges nothing is
    skipped or repeated, forwards, backwards or a page at a time."""
    books = Books(db["book_links"], db["books"])
    now = datetime.now(timezone.utc)
    count = 2 * WALK_BATCH + 7
    books.add([("long", f"t{i:03d}", now) for i in range(count)])
    names = [f"t{i:03d}" for i in range(count)]
    resolved_at_once: list[int] = []

    def standing_many(entries):
        resolved_at_once.append(len(entries))
        return [item if int(item[1:]) % 5 else None for item, _since in entries]

    assert [item for _n, item in books.walk("long", lambda item, _since: item)] == names
    assert [n for n, _item in books.walk_many("long", standing_many)] == list(range(1, count + 1))
    assert resolved_at_once == [WALK_BATCH, WALK_BATCH, 7]
    assert [item for _n, item in books.newest_first("long", standing_many) if item] == \
        [name for name in reversed(names) if int(name[1:]) % 5]
    page, go_on = books.page_many("long", standing_many, size=WALK_BATCH, start=3)
    assert page == [name for name in names[2:] if int(name[1:]) % 5][:WALK_BATCH]
    assert go_on is not None and books.page_many("long", standing_many, size=count, start=go_on)[1] is None
    assert list(books.newest_first("empty", standing_many)) == []
    db["books"].update_one({"_id": "long"}, {"$set": {"top": 3}})  # a hint that lags (its writer died)
    assert [n for n, _item in books.newest_first("long", standing_many)] == list(range(count, 0, -1))


def test_documents_are_read_by_id_many_at_once_and_missing_ones_are_left_out(db):
    db["things"].insert_many([{"_id": f"x{i}", "v": i} for i in range(IDS_PER_READ + 5)])
    wanted = [f"x{i}" for i in range(IDS_PER_READ + 5)] + ["x3", "missing", "{\"$ne\": 1}"]
    found = find_by_ids(db["things"], wanted)
    assert sorted(found) == sorted(f"x{i}" for i in range(IDS_PER_READ + 5))
    assert found["x7"]["v"] == 7 and find_by_ids(db["things"], ["x1"]) == {"x1": {"_id": "x1", "v": 1}}
    assert find_by_ids(db["things"], []) == {}


def test_the_platforms_ferretdb_reads_ids_in_a_list_through_the_id_index(db):
    """tools/ferretdb-sqlite-id-in.patch: without it every `find_by_ids`
    would scan the collection (the answer stays the same, the cost does not)."""
    db["things"].insert_many([{"_id": f"x{i}"} for i in range(20)])
    plan = db.command("explain", {"find": "things", "filter": {"_id": {"$in": ["x1", "x2"]}}})
    if "filterPushdown" not in plan:  # FerretDB's own field
        pytest.skip("the tests run against MongoDB (CUSTOMER_MONGODB_URI), which plans `$in` on `_id` by its index")
    assert plan["filterPushdown"] is True
    assert any("USING INDEX" in step for step in plan["queryPlanner"]["Plan"])


def test_page_tokens_are_bound_to_their_query():
    token = paging.encode({"n": 5}, {"q": paging.fingerprint("rep-a", "won")})
    assert paging.book_start(paging.decode(token, {"q": paging.fingerprint("rep-a", "won")})) == 5
    with pytest.raises(InvalidArgument):
        paging.decode(token, {"q": paging.fingerprint("rep-b", "won")})
    with pytest.raises(InvalidArgument):
        paging.book_start({"n": True})


def test_a_decision_is_taken_once_whoever_races(db):
    once = DecideOnce(db["decisions"])
    outcomes = race(16, lambda i: once.decide("visit:v1", {"outcome": "completed" if i % 2 else "cancelled"}))
    assert sum(1 for won, _d in outcomes if won) == 1
    assert len({d["outcome"] for _won, d in outcomes}) == 1
    assert once.decided("visit:v1") == outcomes[0][1]


def test_a_request_key_is_claimed_once_and_answers_with_the_first_result(db):
    requests = RequestKeys(db["requests"], result_field="seq", pending=0)
    now = datetime.now(timezone.utc)
    claims = race(THREADS, lambda i: requests.claim("cus_1", "retry-1", "fp", now))
    assert sum(1 for c in claims if c is None) == 1
    assert all(c.result is None for c in claims if c is not None)  # the work is still under way
    requests.finish("cus_1", "retry-1", 7)
    assert requests.get("cus_1", "retry-1").result == 7
    assert requests.claim("cus_1", "retry-1", "fp", now).result == 7
