"""Persistence primitives that stay correct under concurrent writers on
FerretDB 1.x as on MongoDB (DESIGN section 6).

FerretDB 1.24 applies update operators as an unisolated read-modify-write
(concurrent updates of one document lose each other's changes) and pushes
only a lone `_id` equality filter down to SQLite (anything else is a scan;
the platform's build adds `_id: {$in: [...]}`, which `crm_kit.mongo.find_by_ids`
uses to read several at once). Inserts are atomic and `_id` is unique on
every back end, so each primitive decides races by inserting a document
whose `_id` names the decision, and reads by `_id` alone:

- `chain.Chain`: insert-only sequences `"<key>#<n>"` (logs, list states);
- `revisions.Revisions`: documents written by claiming revision n + 1 first
  (the claim is the change history, the audit record and the outbox);
- `keys.NaturalKeys`: key documents whose `_id` is the natural key
  (the duplicate check and the lookup);
- `books.Books`: insert-only list indexes read with a bounded walk;
- `presence.Presence`: marks of which ids have books at all, written before
  their first entry (a reader skips the books of an id without one);
- `once.DecideOnce` and `once.RequestKeys`: a decision taken once, and
  request-id idempotency.

A service's store adapter composes these; it never re-implements them.
"""
