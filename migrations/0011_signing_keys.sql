-- Each plan's signing keys, shared by every replica (docs/hosted.md#signing-keys): the position
-- of the key that signs and, while the JWKS still lists it, of the key it replaced, as
-- src/oauth/keys.rs numbers them (RingPosition). A plan without a row is at its first key alone,
-- so reset deletes every row.
CREATE TABLE signing_keys (
    plan text PRIMARY KEY,
    position smallint NOT NULL CHECK (position >= 0),
    previous smallint CHECK (previous >= 0)
);

-- One version for every plan's keys: it grows with each rotation, drop and reset, and its row's
-- lock makes them take turns. Each replica records the version it has applied, so that the
-- replica that made a change can wait until every live replica has it.
CREATE TABLE signing_keys_version (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    version bigint NOT NULL DEFAULT 0
);
INSERT INTO signing_keys_version DEFAULT VALUES;

ALTER TABLE replicas ADD COLUMN keys_version bigint NOT NULL DEFAULT 0;

-- The key every replica signs the forms' anti-CSRF tokens with (docs/hosted.md#form-tokens), so
-- that a form served by one replica can be posted to another. The first replica to start puts a
-- random one here; the others read it.
CREATE TABLE form_token_key (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    key bytea NOT NULL CHECK (length(key) = 32)
);
