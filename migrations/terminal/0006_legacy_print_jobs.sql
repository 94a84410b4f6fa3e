-- SnapKasir terminal store, schema 6: the legacy print-job API (`Terminal::set_print_status`)
-- is gone; the print queue is the only thing that moves jobs between states.
--
-- That API could leave a job `printing` with no printer: marked by a shell's own worker, never
-- sent by a queue (a queue assigns its printer in the same update that marks a job printing).
-- Such a job has no frozen receipt, so nothing of it was ever sent through the queue: it goes
-- back to `pending`, and the default printer renders and prints it as the original it is
-- (drawer kick included for a cash sale), as the queue's worker did before this migration.
-- Its `attempts` and `last_error` are kept. Jobs the old API marked `done` or `failed` are
-- already states the queue knows (done: never sent again; failed: waits for the cashier).
UPDATE print_jobs SET status = 'pending', next_attempt_ms = 0
 WHERE status = 'printing' AND printer_id IS NULL;
