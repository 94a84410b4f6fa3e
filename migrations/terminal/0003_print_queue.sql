-- SnapKasir terminal store, schema 3: the print queue's printers and what its workers need per
-- job (pos-core `print_queue`, docs/print-queue.md). Local to this terminal, never synced.

-- Printers of this terminal. `profile` is the JSON of a receipt_printer::PrinterProfile (a
-- built-in one copied, or a tuned copy); `target` is `tcp://HOST:PORT`, `usb:VID:PID`,
-- `serial:PATH@BAUD` or `file:PATH`. The default printer takes the jobs that name no printer
-- (receipts queued by checkout, refunds, reprints).
CREATE TABLE printers (
    printer_id  INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL UNIQUE,
    target      TEXT NOT NULL,
    profile     TEXT NOT NULL,
    enabled     INTEGER NOT NULL DEFAULT 1,
    is_default  INTEGER NOT NULL DEFAULT 0,
    -- The last status the printer reported, in words, and when (ms since the Unix epoch).
    last_status    TEXT,
    last_status_ms INTEGER,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- Job states (`status`): pending (waiting, or waiting for its next attempt after an error),
-- held (the printer said paper out / cover open / offline), printing (bytes being sent; a job
-- found in this state at start-up was interrupted by a crash), done (every byte was accepted by
-- the printer: never sent again), failed (cannot be printed as is: needs the cashier),
-- cancelled.
-- printer_id: the printer it was assigned to (NULL: the default printer takes it).
ALTER TABLE print_jobs ADD COLUMN printer_id INTEGER;
-- No attempt before this time (ms since the Unix epoch): the backoff after an error.
ALTER TABLE print_jobs ADD COLUMN next_attempt_ms INTEGER NOT NULL DEFAULT 0;
-- The frozen document to print (JSON of print_queue::PrintDocument, a receipt_printer Receipt or
-- ZReport); NULL until the worker first renders the sale or refund. Bytes are encoded from it
-- for the printer's profile at each attempt, so a job moved to another printer still fits.
ALTER TABLE print_jobs ADD COLUMN document TEXT;
-- Kick the cash drawer with this job (cash sales and cash refunds, originals only; cleared
-- once part of a job reached the printer, so a resend never kicks twice).
ALTER TABLE print_jobs ADD COLUMN open_drawer INTEGER NOT NULL DEFAULT 0;
-- The job a reprint copies.
ALTER TABLE print_jobs ADD COLUMN copy_of INTEGER;
-- When all bytes were accepted (set with status 'done' in one durable transaction right after
-- the write), and how many bytes that was.
ALTER TABLE print_jobs ADD COLUMN written_at TEXT;
ALTER TABLE print_jobs ADD COLUMN bytes_written INTEGER;

CREATE INDEX print_jobs_queue ON print_jobs (status, printer_id, job_id);
