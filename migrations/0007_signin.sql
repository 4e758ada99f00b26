-- Member sign-in shared by every replica (docs/hosted.md#member-sign-in): the sign-in attempts,
-- the email links and the outbox of verification emails. The database is their one copy: each
-- step of the sign-in pages reads and writes them, an attempt under its row lock.

-- An open sign-in attempt: its state as JSON (the stage, the code, the tries), and beside it what
-- the queries need. `created_at` is sandbox-clock seconds, as the expiry is.
CREATE TABLE signin_attempts (
    id text PRIMARY KEY,
    plan text NOT NULL,
    client_id text NOT NULL,
    created_at bigint NOT NULL,
    attempt jsonb NOT NULL
);
CREATE INDEX signin_attempts_created_at ON signin_attempts (created_at);

-- A verified email (lowercase) of a plan's member or personal representative. The key makes
-- "each email belongs to one account" hold across replicas.
CREATE TABLE signin_email_links (
    plan text NOT NULL,
    email text NOT NULL,
    member_id text NOT NULL,
    representative text,
    linked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (plan, email)
);

-- The verification emails "sent", in the order they were (seq); the newest 1000 of a plan kept.
CREATE TABLE signin_outbox (
    seq bigserial PRIMARY KEY,
    plan text NOT NULL,
    to_email text NOT NULL,
    code text NOT NULL,
    sent_at text NOT NULL,
    member_id text NOT NULL
);
CREATE INDEX signin_outbox_plan ON signin_outbox (plan, seq);
