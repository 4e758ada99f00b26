-- Codes and tokens shared by every replica (docs/hosted.md#codes-and-tokens). Each is keyed by
-- the SHA-256 of its value, so the database holds no usable credential; a family is the digest
-- of the code its tokens descend from. Times are the sandbox clock's Unix seconds.
CREATE TABLE oauth_codes (
    code_hash text PRIMARY KEY,
    grant_data jsonb NOT NULL,
    expires_at bigint NOT NULL,
    used boolean NOT NULL DEFAULT false
);

CREATE TABLE oauth_access_tokens (
    token_hash text PRIMARY KEY,
    family text NOT NULL,
    member_id text NOT NULL,
    client_id text NOT NULL,
    grant_data jsonb NOT NULL,
    expires_at bigint NOT NULL,
    revoked boolean NOT NULL DEFAULT false
);
CREATE INDEX oauth_access_tokens_family ON oauth_access_tokens (family);
CREATE INDEX oauth_access_tokens_member ON oauth_access_tokens (member_id);

-- state: live; rotated (replaced: presenting it again revokes its family); ended (consumed,
-- revoked or expired by a plan's cap).
CREATE TABLE oauth_refresh_tokens (
    token_hash text PRIMARY KEY,
    family text NOT NULL,
    member_id text NOT NULL,
    client_id text NOT NULL,
    grant_data jsonb NOT NULL,
    expires_at bigint NOT NULL,
    state text NOT NULL DEFAULT 'live' CHECK (state IN ('live', 'rotated', 'ended'))
);
CREATE INDEX oauth_refresh_tokens_family ON oauth_refresh_tokens (family);
CREATE INDEX oauth_refresh_tokens_member ON oauth_refresh_tokens (member_id);

-- Every revocation, in order: each replica applies them to the access tokens it has cached and
-- records the newest it has applied, so that the revoking replica can wait until every live
-- replica has it. kind: family, member, token (key: the token's digest), all.
CREATE TABLE oauth_revocations (
    version bigserial PRIMARY KEY,
    kind text NOT NULL,
    key text NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE replicas ADD COLUMN grants_version bigint NOT NULL DEFAULT 0;
