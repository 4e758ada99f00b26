-- A plan's rate limit counted across every replica (docs/hosted.md#rate-limits): requests per
-- access token (the first 64 bits of its SHA-256) per second of the sandbox clock (Unix seconds).
-- Seconds long past are deleted at each replica's heartbeat.
CREATE TABLE rate_counts (
    token_tag bigint NOT NULL,
    second bigint NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (token_tag, second)
);
