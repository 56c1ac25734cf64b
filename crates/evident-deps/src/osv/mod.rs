//! The local OSV advisory database: import, status, exact matching.
