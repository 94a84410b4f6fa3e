//! Attacks: files_and_csv (see docs/security.md).
