-- Developer accounts shared by every replica (docs/hosted.md#developer-accounts): the accounts,
-- the sign-ups waiting for their code, the sessions, the counted sign-in failures and the
-- developer emails of the outbox. The database is their one copy: every portal page reads them
-- here, and each change locks the row it changes, so two replicas never both act on one form.
-- Times are the sandbox clock's Unix seconds.

-- An account: the record the state directory would keep (id, email, the password's Argon2id hash,
-- when created). The unique email makes "one account per email" hold across replicas.
CREATE TABLE developers (
    id text PRIMARY KEY,
    email text NOT NULL UNIQUE,
    account jsonb NOT NULL
);

-- A sign-up waiting for its code: the email, the password's hash, the code and its tries, and the
-- browser (form token) that opened it.
CREATE TABLE developer_signups (
    id text PRIMARY KEY,
    sent_at bigint NOT NULL,
    signup jsonb NOT NULL
);
CREATE INDEX developer_signups_sent_at ON developer_signups (sent_at);

-- A session: the SHA-256 of the id in the browser's cookie (never the id itself), the developer,
-- the session's anti-CSRF token and when it started. Deleting an account's row ends its sessions.
CREATE TABLE developer_sessions (
    id_hash text PRIMARY KEY,
    developer_id text NOT NULL REFERENCES developers (id) ON DELETE CASCADE,
    csrf text NOT NULL,
    started_at bigint NOT NULL
);
CREATE INDEX developer_sessions_started_at ON developer_sessions (started_at);

-- Failed sign-ins per email (or what was typed instead), the times in the 15-minute window,
-- oldest first: a sign-in locks its email's row while it counts itself in.
CREATE TABLE developer_signin_failures (
    email text PRIMARY KEY,
    failures jsonb NOT NULL
);

-- The developer verification emails "sent", in the order they were (seq); the newest 1000 kept.
CREATE TABLE developer_outbox (
    seq bigserial PRIMARY KEY,
    to_email text NOT NULL,
    code text NOT NULL,
    sent_at text NOT NULL
);

-- An app deleted by its owner stays as a row marked deleted, with a new version, so that every
-- replica that loads the versions after the one it has learns of the deletion.
ALTER TABLE apps ADD COLUMN deleted boolean NOT NULL DEFAULT false;
