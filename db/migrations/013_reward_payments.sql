-- Reward payments in the read model, for the supervisor's inbox (db/queues.ts `reward_approval`).

-- A payment's state lives in its reward workflow (workflows/reward.ts); reward_ledger holds only the
-- payments on their way to the gateway. To list the payments that wait for a supervisor's approval
-- without querying every reward workflow, the workflow projects each payment here whenever it is
-- requested, decided, paid or failed (the local activity projectRewardPayments, behind the
-- workflow's patch `project-reward-payments`: rewards started before it are not projected). One row
-- per payment, keyed by case and payment seq; a write never moves a row back to an earlier status
-- (db/rewards.ts projectRewardPayments), so a retried or late projection changes nothing.
CREATE TABLE reward_payments (
  case_id       text NOT NULL,
  seq           integer NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('instant', 'tiered')),
  amount        numeric(12, 2) NOT NULL CHECK (amount > 0),
  currency      text NOT NULL,
  status        text NOT NULL CHECK (status IN ('awaiting_approval', 'approved', 'rejected', 'paid', 'failed')),
  -- Who made the finding that called for the payment: they may not approve it.
  requested_by  text NOT NULL,
  requested_at  timestamptz NOT NULL,
  decided_by    text,
  decided_at    timestamptz,
  -- When the read model last changed the row (not a workflow instant).
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (case_id, seq)
);

-- The supervisor's inbox: the payments awaiting approval, oldest request first; the rest of the
-- table (decided payments, the great majority) is not indexed for it.
CREATE INDEX reward_payments_awaiting_approval_idx ON reward_payments (requested_at, case_id) WHERE status = 'awaiting_approval';
