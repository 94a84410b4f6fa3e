-- Stock movement kinds were projected from the Rust `Debug` name, lowercased (`transferin`,
-- `transferout`), while terminals write `transfer_in`, `transfer_out`. Both now write the name
-- from `MovementKind::as_str`; rows projected before are renamed here. (The other kinds, the
-- cash directions `in`/`out` and the payment method keys were already the same on both sides.)
UPDATE stock_movements SET kind = 'transfer_in' WHERE kind = 'transferin';
UPDATE stock_movements SET kind = 'transfer_out' WHERE kind = 'transferout';
