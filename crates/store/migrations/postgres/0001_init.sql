-- Switchyard control-plane store, PostgreSQL. Identical to the SQLite file
-- except the change feed's autoincrement column. Ids are UUID v7 text,
-- times are unix milliseconds, flags are BIGINT 0/1 (the Any driver cannot
-- decode SQLite's BOOLEAN), JSON is TEXT.

CREATE TABLE tenants (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    limits       TEXT NOT NULL,
    metadata     TEXT NOT NULL,
    file_managed BIGINT NOT NULL DEFAULT 0,
    version      BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    tenant_id     TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    disabled      BIGINT NOT NULL DEFAULT 0,
    version       BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX users_tenant ON users (tenant_id, id);

CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE consumers (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    limits       TEXT NOT NULL,
    metadata     TEXT NOT NULL,
    file_managed BIGINT NOT NULL DEFAULT 0,
    version      BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    consumer_id  TEXT NOT NULL REFERENCES consumers (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    limits       TEXT NOT NULL,
    metadata     TEXT NOT NULL,
    expires_at   BIGINT,
    revoked_at   BIGINT,
    file_managed BIGINT NOT NULL DEFAULT 0,
    version      BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX api_keys_consumer ON api_keys (consumer_id, id);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, id);

CREATE TABLE products (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    name              TEXT NOT NULL UNIQUE,
    description       TEXT NOT NULL,
    docs              TEXT NOT NULL,
    visibility        TEXT NOT NULL,
    routes            TEXT NOT NULL,
    models            TEXT NOT NULL,
    requires_approval BIGINT NOT NULL,
    file_managed      BIGINT NOT NULL DEFAULT 0,
    version           BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);

-- One row per (consumer, product): a rejected or revoked subscription that
-- is requested again goes back to pending in the same row.
CREATE TABLE subscriptions (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    consumer_id  TEXT NOT NULL REFERENCES consumers (id) ON DELETE CASCADE,
    product_id   TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    state        TEXT NOT NULL,
    reason       TEXT,
    requested_by TEXT,
    decided_by   TEXT,
    decided_at   BIGINT,
    version      BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (consumer_id, product_id)
);
CREATE INDEX subscriptions_tenant ON subscriptions (tenant_id, id);
CREATE INDEX subscriptions_product ON subscriptions (product_id, id);

-- Routes, upstreams, providers and models as spec JSON. `secret` holds a
-- provider credential encrypted by SecretBox, never in clear.
CREATE TABLE resources (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    tenant_id    TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    spec         TEXT NOT NULL,
    secret       TEXT,
    file_managed BIGINT NOT NULL DEFAULT 0,
    version      BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (kind, name)
);

-- No foreign keys: the log outlives what it describes.
CREATE TABLE audit (
    id          TEXT PRIMARY KEY,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    tenant_id   TEXT,
    action      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    before_json TEXT,
    after_json  TEXT
);
CREATE INDEX audit_tenant ON audit (tenant_id, id);
CREATE INDEX audit_entity ON audit (kind, entity_id, id);

CREATE TABLE changes (
    seq       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind      TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    at        BIGINT NOT NULL
);
