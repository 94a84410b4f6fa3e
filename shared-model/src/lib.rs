//! SnapKasir's pure domain model. No IO, no async.
