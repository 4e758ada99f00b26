-- Injected faults, shared by every replica (docs/hosted.md#faults): each row a fault as the
-- control API shows it, and how many more firings it has. A firing is claimed by decrementing
-- `remaining` where it is still above zero, so that a fault with `count: N` fires exactly N times
-- in total however the replicas race; a row at zero is spent and no longer listed.
CREATE TABLE faults (
    id bigserial PRIMARY KEY,
    fault jsonb NOT NULL,
    remaining integer NOT NULL CHECK (remaining >= 0),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The version of the set of faults: it grows with each change (added, removed, cleared, spent),
-- and each replica records the version it has loaded, so that the replica that made a change
-- can wait until every live replica has it.
CREATE TABLE faults_version (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    version bigint NOT NULL DEFAULT 0
);
INSERT INTO faults_version DEFAULT VALUES;

ALTER TABLE replicas ADD COLUMN faults_version bigint NOT NULL DEFAULT 0;
