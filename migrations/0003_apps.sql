-- Registered apps, shared by every replica (docs/hosted.md#registered-apps): each row the app as
-- the state directory keeps it, and a version that grows with each registration, so that a
-- replica knows which it has and the registering replica can wait until every live one does.
CREATE TABLE apps (
    client_id text PRIMARY KEY,
    app jsonb NOT NULL,
    version bigserial NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE replicas ADD COLUMN apps_version bigint NOT NULL DEFAULT 0;
