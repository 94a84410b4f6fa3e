//! Attacks: sessions (see docs/security.md).
