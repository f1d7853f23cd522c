-- Processor mode (S-1, V-3, L-1, L-8): a request about data held for a controller
-- waits in `routed` for the controller's instruction (custos-store-sqlite's V9).
ALTER TABLE rights_requests DROP CONSTRAINT IF EXISTS rights_requests_state_check;
ALTER TABLE rights_requests ADD CONSTRAINT rights_requests_state_check
    CHECK (state IN ('received', 'routed', 'verified', 'in_progress', 'fulfilled', 'rejected'));
