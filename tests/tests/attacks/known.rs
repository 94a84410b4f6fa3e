//! Attacks: known (see docs/security.md).
