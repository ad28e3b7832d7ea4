//! Who people and systems are to Backroom: the retail roles, and grants of a role at a scope in
//! the location hierarchy.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A role in a retailer's organisation. What each may do is declared in one table in the server
/// (`permissions`); the scope a role is held at comes with its [`Grant`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Works the shop floor: counts, receives, reports stockouts.
    StoreAssociate,
    /// Runs one store: approves its refunds, transfers and write-offs.
    StoreManager,
    /// Oversees the stores of a district.
    DistrictManager,
    /// Regional operations: replenishment and transfers between stores and DCs.
    RegionalOps,
    /// Assortment, prices and promotions.
    Merchandiser,
    /// Purchase orders and supplier terms.
    Buyer,
    /// Accounts payable: supplier invoices and their matching.
    ApClerk,
    /// Finance: large refunds, write-offs, payment release with exceptions.
    FinanceController,
    /// Customer service: customer orders, pick-up promises, refunds to customers.
    CustomerService,
    /// A system connecting to Backroom: sends events and documents.
    Integration,
    /// Reads everything, the audit record above all; changes nothing.
    Auditor,
    /// Administers Backroom: keys, users, workflows, policies.
    Admin,
}

impl Role {
    /// Every role, in the order of the organisation (shop floor first).
    pub const ALL: [Role; 12] = [
        Role::StoreAssociate,
        Role::StoreManager,
        Role::DistrictManager,
        Role::RegionalOps,
        Role::Merchandiser,
        Role::Buyer,
        Role::ApClerk,
        Role::FinanceController,
        Role::CustomerService,
        Role::Integration,
        Role::Auditor,
        Role::Admin,
    ];

    /// Its name, such as `store_manager`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::StoreAssociate => "store_associate",
            Role::StoreManager => "store_manager",
            Role::DistrictManager => "district_manager",
            Role::RegionalOps => "regional_ops",
            Role::Merchandiser => "merchandiser",
            Role::Buyer => "buyer",
            Role::ApClerk => "ap_clerk",
            Role::FinanceController => "finance_controller",
            Role::CustomerService => "customer_service",
            Role::Integration => "integration",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    /// The names of every role, comma-separated, for messages.
    pub fn names() -> String {
        Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not one of [`Role::ALL`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}; the roles are {names}", names = Role::names())]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// A role held at a scope: a location code (a region, district, store or DC, and everything
/// below it), or the whole company when `scope` is `None`. Written `store_manager@S001`, or
/// `auditor` for the company.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Grant {
    /// The role.
    pub role: Role,
    /// The location code; `None` for the whole company.
    pub scope: Option<String>,
}

impl Grant {
    /// The grant of `role` over the whole company.
    pub fn company(role: Role) -> Self {
        Grant { role, scope: None }
    }

    /// The grant of `role` at the location `code`.
    pub fn at(role: Role, code: impl Into<String>) -> Self {
        Grant { role, scope: Some(code.into()) }
    }
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.scope {
            Some(scope) => write!(f, "{}@{scope}", self.role),
            None => write!(f, "{}", self.role),
        }
    }
}

impl FromStr for Grant {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once('@') {
            Some((role, scope)) if !scope.trim().is_empty() => Ok(Grant::at(role.trim().parse()?, scope.trim())),
            Some((role, _)) => Ok(Grant::company(role.trim().parse()?)),
            None => Ok(Grant::company(s.trim().parse()?)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_grants_read_and_write_back() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        let g: Grant = "store_manager@S001".parse().expect("grant");
        assert_eq!(g, Grant::at(Role::StoreManager, "S001"));
        assert_eq!(g.to_string(), "store_manager@S001");
        assert_eq!("auditor".parse::<Grant>(), Ok(Grant::company(Role::Auditor)));
        let err = "store_manger@S001".parse::<Grant>().expect_err("typo");
        assert!(err.to_string().contains("store_manager"), "{err}");
    }
}
