-- payer-sandbox hosted mode (docs/hosted.md): every replica that has started on this database,
-- for operators and the readiness endpoint. The shared stores come in later migrations.
CREATE TABLE replicas (
    id text PRIMARY KEY,
    started_at timestamptz NOT NULL DEFAULT now(),
    seen_at timestamptz NOT NULL DEFAULT now(),
    version text NOT NULL
);
