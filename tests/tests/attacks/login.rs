//! Attacks: login (see docs/security.md).
