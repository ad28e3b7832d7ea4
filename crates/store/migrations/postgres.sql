-- Backroom schema, PostgreSQL dialect. Kept column-for-column identical to sqlite.sql.
CREATE TABLE IF NOT EXISTS events (
    seq          BIGINT PRIMARY KEY,
    source       TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    occurred_at  BIGINT NOT NULL,  -- microseconds since the Unix epoch, UTC
    recorded_at  BIGINT NOT NULL,
    subject      TEXT    NOT NULL,  -- JSON
    data         TEXT    NOT NULL   -- JSON
);
CREATE UNIQUE INDEX IF NOT EXISTS events_source_id ON events (source, id);
CREATE INDEX IF NOT EXISTS events_type_seq ON events (type, seq);
CREATE INDEX IF NOT EXISTS events_occurred_at ON events (occurred_at);

-- One row per location ('l:<code>') and item ('i:<key>') an event names, to filter the log.
CREATE TABLE IF NOT EXISTS event_subjects (
    key  TEXT    NOT NULL,
    seq  BIGINT NOT NULL,
    PRIMARY KEY (key, seq)
);

-- Quantities and amounts are fixed-point integers with four decimal places.
CREATE TABLE IF NOT EXISTS stock_positions (
    location         TEXT    NOT NULL,
    item             TEXT    NOT NULL,
    unit             TEXT    NOT NULL,
    on_hand          BIGINT NOT NULL,
    in_transit       BIGINT NOT NULL,
    counted_seq      BIGINT,
    last_counted_at  BIGINT,
    last_seq         BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (location, item)
);

CREATE TABLE IF NOT EXISTS daily_sales (
    location       TEXT    NOT NULL,
    item           TEXT    NOT NULL,
    business_day   TEXT    NOT NULL,  -- YYYY-MM-DD
    currency       TEXT    NOT NULL,
    sold           BIGINT NOT NULL,
    returned       BIGINT NOT NULL,
    revenue        BIGINT NOT NULL,
    refunded       BIGINT NOT NULL,
    transactions   BIGINT NOT NULL,
    last_seq       BIGINT NOT NULL,
    PRIMARY KEY (location, item, business_day, currency)
);

CREATE TABLE IF NOT EXISTS api_keys (
    id          TEXT    PRIMARY KEY,
    name        TEXT    NOT NULL,
    prefix      TEXT    NOT NULL,
    hash        TEXT    NOT NULL UNIQUE,  -- hex SHA-256 of the whole key
    roles       TEXT    NOT NULL,         -- JSON array of role names
    scopes      TEXT    NOT NULL,         -- JSON array of location codes; empty = whole company
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

-- ----- workflow engine --------------------------------------------------------------------
-- Times are microseconds since the Unix epoch, UTC; JSON is stored as text.

CREATE TABLE IF NOT EXISTS workflow_definitions (
    workflow    TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    title       TEXT    NOT NULL,
    source      TEXT    NOT NULL,  -- the YAML as uploaded
    digest      TEXT    NOT NULL,  -- hex SHA-256 of the source
    active      BIGINT  NOT NULL,  -- 1 = new instances may start on it
    created_at  BIGINT  NOT NULL,
    created_by  TEXT,
    PRIMARY KEY (workflow, version)
);

CREATE TABLE IF NOT EXISTS workflow_instances (
    id               TEXT    PRIMARY KEY,
    workflow         TEXT    NOT NULL,
    version          BIGINT  NOT NULL,
    status           TEXT    NOT NULL,
    is_open          BIGINT  NOT NULL,  -- 1 while running, blocked or compensating
    correlation_key  TEXT,
    outcome          TEXT,
    state            TEXT    NOT NULL,  -- the executor's state, JSON
    rev              BIGINT  NOT NULL,  -- bumped by every transition; writes check it
    trigger_seq      BIGINT,
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL
);
CREATE INDEX IF NOT EXISTS workflow_instances_status ON workflow_instances (status, created_at);
CREATE INDEX IF NOT EXISTS workflow_instances_workflow ON workflow_instances (workflow, created_at);
CREATE UNIQUE INDEX IF NOT EXISTS workflow_instances_open_key
    ON workflow_instances (workflow, correlation_key) WHERE is_open = 1 AND correlation_key IS NOT NULL;

CREATE TABLE IF NOT EXISTS instance_history (
    instance  TEXT    NOT NULL,
    n         BIGINT  NOT NULL,
    at        BIGINT  NOT NULL,
    kind      TEXT    NOT NULL,
    step      TEXT,
    actor     TEXT,
    data      TEXT    NOT NULL,
    PRIMARY KEY (instance, n)
);

-- Commands waiting for an instance: correlated events now, timers at their due time.
CREATE TABLE IF NOT EXISTS engine_inbox (
    id           TEXT    PRIMARY KEY,
    instance     TEXT    NOT NULL,
    due_at       BIGINT  NOT NULL,
    command      TEXT    NOT NULL,  -- JSON
    lease_owner  TEXT,
    lease_until  BIGINT
);
CREATE INDEX IF NOT EXISTS engine_inbox_due ON engine_inbox (due_at);
CREATE INDEX IF NOT EXISTS engine_inbox_instance ON engine_inbox (instance);

CREATE TABLE IF NOT EXISTS tasks (
    id                TEXT    PRIMARY KEY,
    instance          TEXT    NOT NULL,
    workflow          TEXT    NOT NULL,
    step              TEXT    NOT NULL,
    role              TEXT    NOT NULL,
    location          TEXT,
    status            TEXT    NOT NULL,  -- open, claimed, decided, cancelled
    priority          BIGINT  NOT NULL,
    title             TEXT    NOT NULL,
    due_at            BIGINT,
    overdue           BIGINT  NOT NULL,
    escalation_level  BIGINT  NOT NULL,
    evidence          TEXT    NOT NULL,  -- JSON
    outcomes          TEXT    NOT NULL,  -- JSON
    claimed_by        TEXT,
    decided_by        TEXT,
    decided_at        BIGINT,
    outcome           TEXT,
    reminded_at       BIGINT,
    created_at        BIGINT  NOT NULL,
    updated_at        BIGINT  NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_inbox ON tasks (status, role, priority, due_at);
CREATE INDEX IF NOT EXISTS tasks_instance ON tasks (instance);

-- Actions on their way to a connector; `key` is the idempotency key sent downstream.
CREATE TABLE IF NOT EXISTS outbox (
    key              TEXT    PRIMARY KEY,
    instance         TEXT    NOT NULL,
    connector        TEXT    NOT NULL,
    operation        TEXT    NOT NULL,
    payload          TEXT    NOT NULL,  -- JSON
    status           TEXT    NOT NULL,  -- pending, delivered, failed, dead, skipped
    attempts         BIGINT  NOT NULL,  -- deliveries tried
    max_attempts     BIGINT  NOT NULL,
    backoff_ms       BIGINT  NOT NULL,
    max_interval_ms  BIGINT  NOT NULL,
    next_attempt_at  BIGINT  NOT NULL,
    last_error       TEXT,
    response         TEXT,              -- JSON
    lease_owner      TEXT,
    lease_until      BIGINT,
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS outbox_instance ON outbox (instance);

-- How far the engine has read the log (one row per consumer), and who holds it.
CREATE TABLE IF NOT EXISTS engine_cursors (
    name         TEXT    PRIMARY KEY,
    seq          BIGINT  NOT NULL,
    lease_owner  TEXT,
    lease_until  BIGINT
);

CREATE TABLE IF NOT EXISTS locations (
    id          TEXT    PRIMARY KEY,
    data        TEXT    NOT NULL,  -- JSON, the model's Location
    updated_at  BIGINT  NOT NULL
);

-- ----- audit chain ----------------------------------------------------------------------------
-- Append-only; each row's hash covers the previous row's hash and its own content (see audit.rs).
CREATE TABLE IF NOT EXISTS audit_log (
    seq         BIGINT  PRIMARY KEY,
    at          BIGINT  NOT NULL,
    actor       TEXT    NOT NULL,
    role        TEXT,
    scope       TEXT,
    kind        TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    before      TEXT,             -- canonical JSON
    after       TEXT,             -- canonical JSON
    reason      TEXT,
    prev_hash   TEXT    NOT NULL,
    hash        TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_actor ON audit_log (actor, seq);
CREATE INDEX IF NOT EXISTS audit_subject ON audit_log (subject, seq);

-- ----- people ----------------------------------------------------------------------------------
-- Local accounts. The password is kept only as an Argon2id PHC string (see users.rs).
CREATE TABLE IF NOT EXISTS users (
    id             TEXT    PRIMARY KEY,
    login          TEXT    NOT NULL UNIQUE,
    display_name   TEXT    NOT NULL,
    grants         TEXT    NOT NULL,  -- JSON array of grants as text: "store_manager@S001", "auditor"
    password_hash  TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL,
    disabled_at    BIGINT 
);

-- Sessions opened by logging in; the bearer secret is kept only as its hex SHA-256.
CREATE TABLE IF NOT EXISTS user_sessions (
    hash        TEXT    PRIMARY KEY,
    user_id     TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL
);
CREATE INDEX IF NOT EXISTS user_sessions_user ON user_sessions (user_id, expires_at);

-- ----- webhooks -------------------------------------------------------------------------------
-- Signed inbound deliveries accepted, by the signature that identifies them: the same signature
-- is refused while its row is kept (rows older than twice the source's tolerance are pruned).
CREATE TABLE IF NOT EXISTS webhook_receipts (
    source       TEXT    NOT NULL,
    signature    TEXT    NOT NULL,
    received_at  BIGINT  NOT NULL,  -- microseconds since the Unix epoch, UTC
    PRIMARY KEY (source, signature)
);
CREATE INDEX IF NOT EXISTS webhook_receipts_age ON webhook_receipts (source, received_at);

-- ----- governance -----------------------------------------------------------------------------
-- Approval policies by action type and scope ('' = the company), in versions; the newest wins.
CREATE TABLE IF NOT EXISTS approval_policies (
    action      TEXT    NOT NULL,
    scope       TEXT    NOT NULL,
    version     BIGINT NOT NULL,
    document    TEXT    NOT NULL,  -- JSON, amounts as strings
    created_at  BIGINT NOT NULL,
    created_by  TEXT    NOT NULL,
    PRIMARY KEY (action, scope, version)
);

-- One person's role at a scope lent to another for a time.
CREATE TABLE IF NOT EXISTS delegations (
    id          TEXT    PRIMARY KEY,
    from_actor  TEXT    NOT NULL,
    to_actor    TEXT    NOT NULL,
    role        TEXT    NOT NULL,
    scope       TEXT,
    starts_at   BIGINT NOT NULL,
    ends_at     BIGINT NOT NULL,
    reason      TEXT    NOT NULL,
    created_at  BIGINT NOT NULL,
    created_by  TEXT    NOT NULL,
    revoked_at  BIGINT,
    revoked_by  TEXT
);
CREATE INDEX IF NOT EXISTS delegations_to ON delegations (to_actor);

-- Automatic approvals: daily totals per policy and location, and the overturned share that
-- demotes a policy. policy_scope and location are '' for the company.
CREATE TABLE IF NOT EXISTS autonomy_ledger (
    instance         TEXT    NOT NULL,
    step             TEXT    NOT NULL,
    policy           TEXT    NOT NULL,
    policy_scope     TEXT    NOT NULL,
    policy_version   BIGINT NOT NULL,
    location         TEXT    NOT NULL,
    day              TEXT    NOT NULL,  -- YYYY-MM-DD, UTC
    amount           TEXT    NOT NULL,  -- decimal
    at               BIGINT NOT NULL,
    overturned       BIGINT NOT NULL,
    overturned_at    BIGINT,
    overturned_by    TEXT,
    overturn_reason  TEXT,
    PRIMARY KEY (instance, step)
);
CREATE INDEX IF NOT EXISTS autonomy_ledger_day ON autonomy_ledger (day, policy);
CREATE INDEX IF NOT EXISTS autonomy_ledger_policy ON autonomy_ledger (policy, policy_scope, at);
