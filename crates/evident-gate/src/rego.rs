//! Rego policies, evaluated with regorus.
