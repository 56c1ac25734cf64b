//! Inputs for Rego policies, parsed the way Conftest parses them.
