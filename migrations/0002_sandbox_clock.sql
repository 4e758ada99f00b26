-- The sandbox clock every replica reads (docs/hosted.md#the-sandbox-clock): its offset from the
-- wall clock, and a version that grows with each move. Each replica records the version it has
-- applied, so that the replica that moved the clock can wait until every live replica has it.
CREATE TABLE sandbox_clock (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    offset_seconds bigint NOT NULL DEFAULT 0,
    version bigint NOT NULL DEFAULT 0
);
INSERT INTO sandbox_clock DEFAULT VALUES;

ALTER TABLE replicas ADD COLUMN clock_version bigint NOT NULL DEFAULT 0;
