//! Importers: other tools' findings as evident findings.
