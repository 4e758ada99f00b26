-- The control API's changes to member data, shared by every replica (docs/hosted.md#data-changes):
-- each made change (kind 'change': its plan, its prior authorization, the change as replayable
-- input, the sandbox instant it is due, RFC 3339, and the version it made), or a forget of every
-- change before it (kind 'forget': reset, clock/reset, which deletes the rows before it). Each
-- replica applies the rows in version order and records the newest it has applied, so that the
-- replica that made a change can wait until every live replica serves it.
CREATE TABLE data_changes (
    version bigserial PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('change', 'forget')),
    plan text,
    resource_id text,
    change jsonb,
    at text,
    version_id text,
    last_updated text,
    made_at timestamptz NOT NULL DEFAULT now(),
    CHECK (kind = 'forget' OR (plan IS NOT NULL AND resource_id IS NOT NULL
        AND change IS NOT NULL AND at IS NOT NULL AND version_id IS NOT NULL))
);

ALTER TABLE replicas ADD COLUMN changes_version bigint NOT NULL DEFAULT 0;

-- The instant the data's timeline counts from (its `after` entries): the sandbox clock when the
-- first replica started on this database, RFC 3339, so that every replica has the same changes due.
CREATE TABLE data_timeline (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    start text NOT NULL
);
