"""Revisions.save: revision 1 by insert, later ones by claim; the superseded
claim's state dropped on request (documents rewritten often)."""

from __future__ import annotations

import uuid

from crm_kit.persistence.revisions import Revisions, claim_id


def test_save_creates_then_commits_and_can_forget_superseded_states(db):
    revisions = Revisions(db[f"docs_{uuid.uuid4().hex[:6]}"], db[f"claims_{uuid.uuid4().hex[:6]}"])
    assert revisions.save({"_id": "d1", "n": 1, "revision": 1}, "w")
    assert not revisions.save({"_id": "d1", "n": 9, "revision": 1}, "w")  # taken
    for n in (2, 3, 4):
        assert revisions.save({"_id": "d1", "n": n, "revision": n}, "w", forget_superseded=True)
    assert not revisions.save({"_id": "d1", "n": 0, "revision": 4}, "w")  # another writer won 4
    assert revisions.documents.find_one({"_id": "d1"})["n"] == 4
    states = {r: (revisions.claims.find_one({"_id": claim_id("d1", r)}) or {}).get("state") for r in (2, 3, 4)}
    assert states[2] is None and states[3] is None and states[4]["n"] == 4  # the latest claim keeps its state
    assert [c.changed_by for c in revisions.history("d1", 4)] == ["w", "w", "w"]  # who and when stay
