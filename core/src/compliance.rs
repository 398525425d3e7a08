//! Compliance: the bundle's compliance section, the inventory a scan reads
//! (licenses, deployments, telemetry, contract events), the scan's
//! detectors and findings, and the remediation each finding calls for.

pub mod inventory;
pub mod policy;
pub mod remediation;
pub mod scan;
