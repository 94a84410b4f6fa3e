//! Attacks: gate (see docs/security.md).
