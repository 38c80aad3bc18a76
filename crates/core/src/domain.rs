//! The people, organisations and activities of DOMAIN.md, as the phone and the server both see them.

use serde::{Deserialize, Serialize};

use crate::Id;

/// Where an organisation sits: the home side (county, township) or the host side in a city.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    County,
    Township,
    MobileCommittee,
    GeneralBranch,
    Branch,
    ContactPoint,
}

impl OrgKind {
    pub fn is_host_side(self) -> bool {
        !matches!(self, OrgKind::County | OrgKind::Township)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::County => "county",
            OrgKind::Township => "township",
            OrgKind::MobileCommittee => "mobile_committee",
            OrgKind::GeneralBranch => "general_branch",
            OrgKind::Branch => "branch",
            OrgKind::ContactPoint => "contact_point",
        }
    }

    pub fn parse(text: &str) -> Option<OrgKind> {
        [
            OrgKind::County,
            OrgKind::Township,
            OrgKind::MobileCommittee,
            OrgKind::GeneralBranch,
            OrgKind::Branch,
            OrgKind::ContactPoint,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }
}

/// An organisation as far as a phone needs to show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgRef {
    pub id: Id,
    pub name: String,
    pub kind: OrgKind,
    pub city: Option<String>,
}

/// What a person may do; one person may hold several roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Role {
    Member,
    Secretary { org_id: Id },
    TownshipAdmin { org_id: Id },
    CountyAdmin { org_id: Id },
}

/// The signed-in person: their own record as the server last sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub id: Id,
    pub name: String,
    pub home_org: OrgRef,
    pub current_org: Option<OrgRef>,
    pub certificate_no: Option<String>,
    pub roles: Vec<Role>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    /// 组织生活 / 三会一课
    OrganisationLife,
    Study,
    Volunteer,
    Training,
    Other,
}

/// An activity published by a host organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    pub id: Id,
    pub org_id: Id,
    pub title: String,
    pub kind: ActivityKind,
    /// Unix milliseconds.
    pub starts_at: i64,
    pub ends_at: i64,
    pub place: Option<String>,
}
