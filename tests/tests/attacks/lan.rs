//! Attacks: lan (see docs/security.md).
