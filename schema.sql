-- kwire's SQLite schema: the one definition of the database (DESIGN.md, src/store/).
--
-- One database holds any number of captures (a `kwire read` or `kwire sniff` run each). A flow is
-- the JSON record of SPEC.md §5: the fields a query filters or sorts on are columns; the parts no
-- query looks into (the handshake ladder, roles evidence, h2 SETTINGS …) are kept as JSON in
-- `flows.extra`; certificates are stored once per fingerprint. Secrets never get here: requests
-- carry the kind of their credentials, never a credential.
--
-- Versions: PRAGMA user_version is this file's version. src/store/migrations.ts brings an older
-- database up to it, one step per version; a newer one is refused.
--
-- Flows and findings are rowid tables: their rows (1–3 KB of JSON) are too big for WITHOUT ROWID,
-- whose b-tree pages keep about 1 KB of a row and put the rest on an overflow page of its own.

PRAGMA user_version = 2;

CREATE TABLE captures (
  id              INTEGER PRIMARY KEY,
  source          TEXT NOT NULL,            -- file name, 'stdin', or the interface of a live capture
  format          TEXT NOT NULL,            -- pcap | pcapng | live
  started         REAL NOT NULL,            -- wall clock when kwire began, seconds since the epoch
  finished        REAL,                     -- null while a writer runs, or after it was killed
  options         TEXT NOT NULL,            -- JSON: the command line options that shaped the analysis
  linktypes       TEXT NOT NULL DEFAULT '[]',
  packets         INTEGER NOT NULL DEFAULT 0,
  bytes           INTEGER NOT NULL DEFAULT 0,
  first_ts        REAL,
  last_ts         REAL,
  decode_errors   INTEGER NOT NULL DEFAULT 0,
  dropped         INTEGER,                  -- kernel drops, when the source reports them
  summary         TEXT                      -- JSON: the rest of SPEC.md §5 `capture` (damage, reassembly …)
);

-- What a writer saw so far, about once a second: the dashboard's rates and progress.
CREATE TABLE progress (
  capture_id      INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
  wall            REAL NOT NULL,            -- seconds since the epoch
  packets         INTEGER NOT NULL,
  bytes           INTEGER NOT NULL,         -- bytes of the source read
  flows           INTEGER NOT NULL,
  findings        INTEGER NOT NULL,
  dropped         INTEGER,
  PRIMARY KEY (capture_id, wall)
) WITHOUT ROWID;

CREATE TABLE flows (
  capture_id      INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
  id              INTEGER NOT NULL,         -- SPEC.md §5 `id`, 1-based within the capture
  src             TEXT NOT NULL,
  sport           INTEGER NOT NULL,
  dst             TEXT NOT NULL,
  dport           INTEGER NOT NULL,
  first_ts        REAL NOT NULL,
  last_ts         REAL NOT NULL,
  packets_c2s     INTEGER NOT NULL,
  packets_s2c     INTEGER NOT NULL,
  bytes_c2s       INTEGER NOT NULL,
  bytes_s2c       INTEGER NOT NULL,
  gaps_c2s        INTEGER NOT NULL,
  gaps_s2c        INTEGER NOT NULL,
  state           TEXT NOT NULL,
  path            TEXT NOT NULL,
  via             TEXT,
  client_role     TEXT,
  server_role     TEXT,
  protocol        TEXT NOT NULL,
  posture         TEXT NOT NULL,            -- mutual | server-only | unverified | unjudged | plaintext | other
  finding_count   INTEGER NOT NULL,
  worst_severity  INTEGER,                  -- 0 info … 4 critical; null without findings
  extra           TEXT NOT NULL,            -- JSON: the rest of the flow record
  PRIMARY KEY (capture_id, id)
);
CREATE INDEX flows_by_path ON flows (capture_id, path);
CREATE INDEX flows_by_severity ON flows (capture_id, worst_severity);
CREATE INDEX flows_by_first_ts ON flows (capture_id, first_ts);

CREATE TABLE tls (
  capture_id              INTEGER NOT NULL,
  flow_id                 INTEGER NOT NULL,
  version                 TEXT,
  client_version          TEXT,
  sni                     TEXT,
  alpn                    TEXT,
  cipher                  TEXT,
  established             INTEGER NOT NULL,
  resumed                 INTEGER NOT NULL,
  client_cert_requested   INTEGER,          -- 1, 0, or null when the packets cannot tell
  client_cert_presented   INTEGER,
  client_auth_evidence    TEXT NOT NULL,
  server_cert_verdict     TEXT NOT NULL,
  server_cert_reason      TEXT,
  alert_from              TEXT,
  alert_level             TEXT,
  alert_description       TEXT,
  ja4                     TEXT,
  PRIMARY KEY (capture_id, flow_id),
  FOREIGN KEY (capture_id, flow_id) REFERENCES flows (capture_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX tls_by_verdict ON tls (capture_id, server_cert_verdict);

-- Each certificate once, by its SHA-256; flows point at it with their side and chain position.
CREATE TABLE certificates (
  sha256          TEXT PRIMARY KEY,
  subject         TEXT NOT NULL,
  issuer          TEXT NOT NULL,
  not_before      TEXT NOT NULL,
  not_after       TEXT NOT NULL,
  self_signed     INTEGER NOT NULL,
  info            TEXT NOT NULL             -- JSON: the whole CertificateInfo
) WITHOUT ROWID;
CREATE INDEX certificates_by_subject ON certificates (subject);

CREATE TABLE flow_certificates (
  capture_id      INTEGER NOT NULL,
  flow_id         INTEGER NOT NULL,
  side            TEXT NOT NULL,            -- server | client
  position        INTEGER NOT NULL,         -- 0 = leaf
  sha256          TEXT NOT NULL REFERENCES certificates (sha256),
  PRIMARY KEY (capture_id, flow_id, side, position),
  FOREIGN KEY (capture_id, flow_id) REFERENCES flows (capture_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX flow_certificates_by_sha256 ON flow_certificates (sha256);

CREATE TABLE http_requests (
  capture_id      INTEGER NOT NULL,
  flow_id         INTEGER NOT NULL,
  seq             INTEGER NOT NULL,         -- order within the flow
  method          TEXT NOT NULL,
  target          TEXT NOT NULL,
  status          INTEGER,
  auth            TEXT NOT NULL,            -- none | bearer | basic | other: the kind, never the credential
  upgrade         TEXT,
  k8s_kind        TEXT,
  info            TEXT NOT NULL,            -- JSON: the whole HttpRequestInfo (credentials reduced to kind and hash prefix)
  PRIMARY KEY (capture_id, flow_id, seq),
  FOREIGN KEY (capture_id, flow_id) REFERENCES flows (capture_id, id) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE findings (
  capture_id      INTEGER NOT NULL,
  flow_id         INTEGER NOT NULL,
  rule            TEXT NOT NULL,
  severity        INTEGER NOT NULL,         -- 0 info … 4 critical
  path            TEXT NOT NULL,
  title           TEXT NOT NULL,
  detail          TEXT NOT NULL,
  remediation     TEXT NOT NULL,
  evidence        TEXT NOT NULL,            -- JSON: basis, packets, certificates, facts
  extra           TEXT NOT NULL,            -- JSON: the rest of the finding of SPEC.md §4 (name, references)
  PRIMARY KEY (capture_id, flow_id, rule),
  FOREIGN KEY (capture_id, flow_id) REFERENCES flows (capture_id, id) ON DELETE CASCADE
);
CREATE INDEX findings_by_rule ON findings (capture_id, rule, severity);

-- Who each address is, as the flows named it (k8s/ roles), with how that was known.
CREATE TABLE endpoints (
  capture_id      INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
  address         TEXT NOT NULL,
  role            TEXT NOT NULL,            -- display name: apiserver, kubelet:node1, pod:default/web …
  evidence        TEXT NOT NULL,            -- JSON array
  first_flow      INTEGER NOT NULL,
  PRIMARY KEY (capture_id, address, role)
) WITHOUT ROWID;
