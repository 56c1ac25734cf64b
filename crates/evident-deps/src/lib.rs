//! The dependency scanner: what a project or an image is made of, and what is known to be
//! wrong with it — offline.
//!
//! - [`model`]: ecosystems, packages, purls, the inventory.
//! - [`lockfile`]: lockfiles and manifests of every supported ecosystem, found under a root.
//! - [`image`]: OS packages inside an image filesystem (directory, docker-archive, OCI layout).
//! - [`version`]: each ecosystem's own version order.
//! - [`osv`]: the local OSV advisory database, import and exact matching.
//! - [`sbom`]: CycloneDX 1.6 and SPDX 2.3 JSON; licence expressions and policy.

pub mod checks;
pub mod image;
pub mod lockfile;
pub mod model;
pub mod osv;
pub mod sbom;
pub mod version;

pub use model::{Ecosystem, Inventory, Package, PackageHash, ParseError, Parsed, purl};
