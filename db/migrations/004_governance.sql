-- Concentrated governance: rewards for reporting, backlog cases and campaigns.

-- Who a reward is paid to. The reward workflow carries only `payee_ref`; the reporter behind it is
-- resolved from case_reporters inside the payment activity. An anonymous reporter is paid through a
-- claim code, of which only the hash is kept.
CREATE TABLE reward_payees (
  payee_ref        text PRIMARY KEY,
  case_id          text NOT NULL UNIQUE,
  method           text NOT NULL CHECK (method IN ('reporter_contact', 'claim_code')),
  claim_code_hash  text,
  created_by       text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now()
);

-- Every reward payment, one row per idempotency key (workflow id + payment seq): written before the
-- gateway is called ('initiated') and completed after it answers ('paid'), so a retried payment
-- finds its row instead of adding one.
CREATE TABLE reward_ledger (
  id               bigserial PRIMARY KEY,
  idempotency_key  text NOT NULL UNIQUE,
  case_id          text NOT NULL,
  workflow_id      text NOT NULL,
  payment_seq      integer NOT NULL,
  kind             text NOT NULL CHECK (kind IN ('instant', 'tiered')),
  amount           numeric(12, 2) NOT NULL CHECK (amount > 0),
  currency         text NOT NULL,
  payee_ref        text NOT NULL REFERENCES reward_payees (payee_ref),
  approved_by      text,
  status           text NOT NULL CHECK (status IN ('initiated', 'paid')),
  gateway_ref      text,
  initiated_at     timestamptz NOT NULL DEFAULT now(),
  paid_at          timestamptz
);
CREATE INDEX reward_ledger_case_idx ON reward_ledger (case_id);

-- The development payment gateway's own book (a real gateway keeps this on its side). The UNIQUE
-- idempotency key is what makes a retried payment a no-op.
CREATE TABLE gateway_payments (
  id               bigserial PRIMARY KEY,
  idempotency_key  text NOT NULL UNIQUE,
  amount           numeric(12, 2) NOT NULL,
  currency         text NOT NULL,
  payee_ref        text NOT NULL,
  payee_method     text NOT NULL,
  payee_account    text NOT NULL,
  status           text NOT NULL CHECK (status IN ('paid', 'claimable', 'claimed')),
  created_at       timestamptz NOT NULL DEFAULT now()
);

-- Backlog cases, one listing per case and year: the yearly sort re-lists uncleared backlog younger
-- than the policy's window for the new year.
CREATE TABLE backlog_cases (
  case_id               text NOT NULL,
  list_year             integer NOT NULL,
  reasons               text[] NOT NULL,
  status                text NOT NULL DEFAULT 'listed'
                          CHECK (status IN ('listed', 'assigned', 'overdue', 'cleared', 'relisted', 'aged_out')),
  division_code         text NOT NULL,
  category              text NOT NULL,
  received_at           timestamptz NOT NULL,
  listed_at             timestamptz NOT NULL,
  previous_year         integer,
  system_leader         jsonb,
  territorial_leader    jsonb,
  assigned_by           text,
  assigned_at           timestamptz,
  clearing_due_at       timestamptz,
  assignment_reminded_at timestamptz,
  reminded_at           timestamptz,
  overdue_at            timestamptz,
  cleared_at            timestamptz,
  workflow_started_at   timestamptz,
  updated_at            timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (case_id, list_year)
);
CREATE INDEX backlog_cases_year_status_idx ON backlog_cases (list_year, status);
-- At most one active listing per case.
CREATE UNIQUE INDEX backlog_cases_active_idx ON backlog_cases (case_id) WHERE status IN ('listed', 'assigned', 'overdue');

-- Each run of the scan or the yearly sort, by its workflow id (a retried run is recorded once).
CREATE TABLE backlog_sweeps (
  sweep_id     text PRIMARY KEY,
  kind         text NOT NULL CHECK (kind IN ('scan', 'yearly')),
  list_year    integer NOT NULL,
  ran_at       timestamptz NOT NULL,
  listed       integer NOT NULL,
  relisted     integer NOT NULL,
  aged_out     integer NOT NULL
);

-- Campaigns and the cases they tagged.
CREATE TABLE campaigns (
  campaign_id  text PRIMARY KEY,
  name         text NOT NULL,
  criteria     jsonb NOT NULL,
  period_from  timestamptz NOT NULL,
  period_to    timestamptz NOT NULL,
  status       text NOT NULL CHECK (status IN ('running', 'paused', 'finished')),
  started_by   text NOT NULL,
  started_at   timestamptz NOT NULL,
  tagged       integer NOT NULL DEFAULT 0,
  tightened    integer NOT NULL DEFAULT 0,
  result       jsonb,
  finished_at  timestamptz,
  updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE campaign_cases (
  campaign_id    text NOT NULL REFERENCES campaigns (campaign_id),
  case_id        text NOT NULL,
  -- 'open': already open when the campaign started; 'new': received since.
  matched_as     text NOT NULL CHECK (matched_as IN ('open', 'new')),
  tagged_at      timestamptz NOT NULL,
  tightened_key  text,
  tightened_at   timestamptz,
  PRIMARY KEY (campaign_id, case_id)
);
CREATE INDEX campaign_cases_case_idx ON campaign_cases (case_id);
