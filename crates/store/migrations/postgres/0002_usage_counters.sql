-- Day and month usage counters of the data plane's quota ledger, saved
-- every few seconds and at shutdown so that a restart cannot hand out a
-- day's or a month's budget twice. One row per counter and window.
CREATE TABLE usage_counters (
    scope        TEXT   NOT NULL,
    entity       TEXT   NOT NULL,
    measure      TEXT   NOT NULL,
    window_start BIGINT NOT NULL,
    window_end   BIGINT NOT NULL,
    used         BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (scope, entity, measure, window_start)
);
CREATE INDEX usage_counters_window_end ON usage_counters (window_end);
