-- The request log, shared by every replica (docs/hosted.md#the-request-log). Each replica
-- appends the requests it answered, in batches, with the instant it answered them; a reader
-- numbers the rows not numbered yet in that order (`seq`, from `request_log_state.next_seq`,
-- never reused), so that every replica lists the same requests in the same order.
CREATE TABLE request_log (
    id bigserial PRIMARY KEY,
    replica text NOT NULL,
    -- The answering replica's wall clock, microseconds since the Unix epoch.
    answered_at bigint NOT NULL,
    -- The entry as the control API shows it, with what the report also reads.
    entry jsonb NOT NULL,
    -- A GET under the FHIR base: its path and parameters, hashed as offered links are, so that
    -- a request that follows a link another replica offered is recognised.
    request_key bytea,
    followed_next boolean NOT NULL DEFAULT false,
    seq bigint UNIQUE
);
-- Numbering and trimming both go in the order the requests were answered.
CREATE INDEX request_log_answered ON request_log (answered_at, replica, id);

-- The `next` links searchsets offered (hashed), the newest 1000, until the log is cleared.
CREATE TABLE request_next_links (
    id bigserial PRIMARY KEY,
    key bytea NOT NULL UNIQUE,
    offered_at bigint NOT NULL
);

-- The moves of the sandbox clock the timeline shows among the requests, each after the newest
-- request numbered when it was made; the newest 200, until a reset.
CREATE TABLE request_log_clock_moves (
    id bigserial PRIMARY KEY,
    after_seq bigint NOT NULL,
    time text NOT NULL,
    at_ms bigint NOT NULL,
    seconds bigint NOT NULL,
    to_wall_clock boolean NOT NULL
);

-- `next_seq`: the last `seq` given. `flush_version`: grows with each read or clear of the log,
-- which waits until every live replica has flushed what it answered before and recorded the
-- version (`replicas.request_log_version`).
CREATE TABLE request_log_state (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    next_seq bigint NOT NULL DEFAULT 0,
    flush_version bigint NOT NULL DEFAULT 0
);
INSERT INTO request_log_state DEFAULT VALUES;

ALTER TABLE replicas ADD COLUMN request_log_version bigint NOT NULL DEFAULT 0;
