//! Azure checks on Terraform resources of the `azurerm` provider (HCL and plan JSON share kinds
//! and body shapes).

use super::IacCheck;

mod app;
mod compute;
mod database;
mod keyvault;
mod network;
mod storage;

pub fn checks() -> Vec<IacCheck> {
    let mut checks = storage::checks();
    checks.extend(network::checks());
    checks.extend(database::checks());
    checks.extend(keyvault::checks());
    checks.extend(compute::checks());
    checks.extend(app::checks());
    checks
}
