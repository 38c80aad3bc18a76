//! The member's own profile (phone, city, employer, …) and how edits from several phones merge (SYNC.md
//! "mutable records"): an edit carries only the changed fields and the version it was based on; the server
//! merges field by field in arrival order, and where the same field changed on another phone since that
//! version, it keeps its value and keeps the phone's beside it as a conflict for the member to settle.
//!
//! Fields the organisation owns (name, home organisation, date joined, certificate number) are not here: they
//! live in `Me` and no phone can edit them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Id;

/// A field the member keeps up to date themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Phone,
    City,
    Address,
    Employer,
    Job,
    Skills,
    EmergencyContact,
}

impl Field {
    /// In the order a form shows them.
    pub const ALL: [Field; 7] = [
        Field::Phone,
        Field::City,
        Field::Address,
        Field::Employer,
        Field::Job,
        Field::Skills,
        Field::EmergencyContact,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Field::Phone => "phone",
            Field::City => "city",
            Field::Address => "address",
            Field::Employer => "employer",
            Field::Job => "job",
            Field::Skills => "skills",
            Field::EmergencyContact => "emergency_contact",
        }
    }

    pub fn parse(text: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|field| field.as_str() == text)
    }

    /// Longest value, in characters.
    fn max_chars(self) -> usize {
        match self {
            Field::Phone => 20,
            Field::City | Field::Job => 40,
            Field::Employer => 80,
            Field::Address | Field::EmergencyContact => 120,
            Field::Skills => 300,
        }
    }
}

/// Why a value cannot be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    #[error("too long")]
    TooLong,
    #[error("not a phone number")]
    NotAPhoneNumber,
    #[error("contains control characters")]
    ControlCharacters,
}

impl FieldError {
    pub const ALL: [FieldError; 3] = [
        FieldError::TooLong,
        FieldError::NotAPhoneNumber,
        FieldError::ControlCharacters,
    ];

    /// Stable key for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldError::TooLong => "too_long",
            FieldError::NotAPhoneNumber => "not_a_phone_number",
            FieldError::ControlCharacters => "control_characters",
        }
    }
}

/// The value as it will be stored (trimmed), or why it cannot be. An empty value clears the field.
pub fn normalise(field: Field, value: &str) -> Result<String, FieldError> {
    let value = value.trim();
    if value.chars().count() > field.max_chars() {
        return Err(FieldError::TooLong);
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::ControlCharacters);
    }
    if field == Field::Phone && !value.is_empty() {
        let digits = value.chars().filter(char::is_ascii_digit).count();
        let allowed = value
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' '));
        if !allowed || !(5..=15).contains(&digits) {
            return Err(FieldError::NotAPhoneNumber);
        }
    }
    Ok(value.to_owned())
}

/// A number a member signs in with, as their township types it (roster, member page): a mainland mobile number,
/// 11 digits from 1, written with spaces, dashes or +86 as people write it; empty for none. PIN sign-in is by
/// this number, so a landline or a digit short would lock the member out of it.
pub fn sign_in_number(value: &str) -> Result<String, FieldError> {
    let number = normalise(Field::Phone, value)?;
    let digits = phone_digits(&number);
    let abroad = number.starts_with('+') && !number.starts_with("+86");
    if number.is_empty() || (!abroad && digits.len() == 11 && digits.starts_with('1')) {
        Ok(number)
    } else {
        Err(FieldError::NotAPhoneNumber)
    }
}

/// A phone number reduced to what identifies it: its digits, without China's country code, so that
/// "+86 139-0000-0007" and "13900000007" are the same number.
pub fn phone_digits(value: &str) -> String {
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    match digits.strip_prefix("86") {
        Some(national) if national.len() == 11 => national.to_owned(),
        _ => digits,
    }
}

/// A profile edit as the phone sends it (`Op::EditProfile`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edit {
    /// The profile version the phone showed when the member made the edit.
    pub base_version: u64,
    /// Only the fields the member changed, with their new values.
    pub fields: BTreeMap<Field, String>,
}

/// The same field changed on another phone: the server kept its value and keeps this phone's beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub field: Field,
    /// The value in force.
    pub kept: String,
    /// The value that was not applied.
    pub theirs: String,
    /// The profile version at which the conflict arose; an edit based on it (or later) settles it.
    pub version: u64,
    /// The phone (client id) whose value is `kept`; `None` for the organisation's.
    #[serde(default)]
    pub kept_by: Option<Id>,
    /// The phone whose value is `theirs`.
    #[serde(default)]
    pub theirs_by: Option<Id>,
}

/// The member's profile as the phone sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub version: u64,
    pub values: BTreeMap<Field, String>,
    pub conflicts: Vec<Conflict>,
}

impl Profile {
    pub fn value(&self, field: Field) -> &str {
        self.values.get(&field).map_or("", String::as_str)
    }
}

/// One field as the server keeps it: its value, and which version and which phone last changed it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldState {
    pub value: String,
    pub version: u64,
    /// The phone that changed it last; `None` for the organisation (a roster import).
    pub changed_by: Option<Id>,
}

/// The server's whole record of a profile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileState {
    pub version: u64,
    pub fields: BTreeMap<Field, FieldState>,
    pub conflicts: BTreeMap<Field, Conflict>,
}

impl ProfileState {
    /// What the member's phones see.
    pub fn profile(&self) -> Profile {
        Profile {
            version: self.version,
            values: self
                .fields
                .iter()
                .filter(|(_, state)| !state.value.is_empty())
                .map(|(field, state)| (*field, state.value.clone()))
                .collect(),
            conflicts: self.conflicts.values().cloned().collect(),
        }
    }

    /// Merges an edit from phone `by` (`None`: the organisation), field by field. Returns whether anything changed (the version then
    /// moved on by one). The values must already be `normalise`d.
    ///
    /// A field conflicts when another phone changed it after `base_version` to a different value: a phone's own
    /// edits made one after another offline all carry the same base and must not conflict with each other.
    /// A conflict is settled by any later edit of that field made knowing of it (`base_version` at or above the
    /// conflict's version), whichever value it chooses.
    pub fn merge(&mut self, edit: &Edit, by: Option<Id>) -> bool {
        let next = self.version + 1;
        let mut changed = false;
        for (field, value) in &edit.fields {
            let current = self.fields.entry(*field).or_default();
            let changed_elsewhere = current.version > edit.base_version && current.changed_by != by;
            if changed_elsewhere && current.value != *value {
                let conflict = Conflict {
                    field: *field,
                    kept: current.value.clone(),
                    theirs: value.clone(),
                    version: next,
                    kept_by: current.changed_by,
                    theirs_by: by,
                };
                if self.conflicts.get(field).map(|c| (&c.kept, &c.theirs)) != Some((&conflict.kept, &conflict.theirs)) {
                    self.conflicts.insert(*field, conflict);
                    changed = true;
                }
                continue;
            }
            if current.value != *value {
                *current = FieldState {
                    value: value.clone(),
                    version: next,
                    changed_by: by,
                };
                changed = true;
            }
            if self
                .conflicts
                .get(field)
                .is_some_and(|c| edit.base_version >= c.version)
            {
                self.conflicts.remove(field);
                changed = true;
            }
        }
        if changed {
            self.version = next;
        }
        changed
    }
}

/// The profile a phone shows: the pulled one with the phone's own waiting edits laid over it, oldest first,
/// so the screen never jumps back while they wait. A conflict that a waiting edit settles is no longer shown.
pub fn overlay<'a>(pulled: &Profile, waiting: impl IntoIterator<Item = &'a Edit>) -> Profile {
    let mut shown = pulled.clone();
    for edit in waiting {
        for (field, value) in &edit.fields {
            shown.values.insert(*field, value.clone());
            shown
                .conflicts
                .retain(|c| c.field != *field || edit.base_version < c.version);
        }
    }
    shown.values.retain(|_, value| !value.is_empty());
    shown
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn phone(n: u8) -> Option<Id> {
        Some(Id::new_v7(1_700_000_000_000, [n; 10]))
    }

    fn edit(base_version: u64, fields: &[(Field, &str)]) -> Edit {
        Edit {
            base_version,
            fields: fields.iter().map(|(f, v)| (*f, v.to_string())).collect(),
        }
    }

    #[test]
    fn values_are_trimmed_and_checked() {
        assert_eq!(normalise(Field::City, "  杭州 "), Ok("杭州".into()));
        assert_eq!(
            normalise(Field::Phone, "+86 138-0000-0000"),
            Ok("+86 138-0000-0000".into())
        );
        assert_eq!(normalise(Field::Phone, ""), Ok(String::new()));
        assert_eq!(normalise(Field::Phone, "call me"), Err(FieldError::NotAPhoneNumber));
        assert_eq!(normalise(Field::Phone, "123"), Err(FieldError::NotAPhoneNumber));
        assert_eq!(normalise(Field::Job, &"工".repeat(41)), Err(FieldError::TooLong));
        assert_eq!(normalise(Field::Job, &"工".repeat(40)), Ok("工".repeat(40)));
        assert_eq!(normalise(Field::Address, "a\u{0}b"), Err(FieldError::ControlCharacters));
        assert_eq!(phone_digits("+86 139-0000-0007"), "13900000007");
        assert_eq!(phone_digits("0571-82610388"), "057182610388");
        for field in Field::ALL {
            assert_eq!(Field::parse(field.as_str()), Some(field));
        }
    }

    #[test]
    fn edits_from_one_phone_apply_in_order_without_conflict() {
        let mut state = ProfileState::default();
        assert!(state.merge(&edit(0, &[(Field::Phone, "13800000001")]), phone(1)));
        assert!(state.merge(&edit(0, &[(Field::Phone, "13800000002")]), phone(1)));
        assert_eq!(state.profile().value(Field::Phone), "13800000002");
        assert!(state.conflicts.is_empty());
        assert_eq!(state.version, 2);
    }

    #[test]
    fn the_same_field_changed_on_two_phones_keeps_both() {
        let mut state = ProfileState::default();
        state.merge(&edit(0, &[(Field::Phone, "111111"), (Field::Employer, "A")]), phone(1));
        // The second phone edited offline from version 0 too: its job applies, its phone number conflicts.
        state.merge(&edit(0, &[(Field::Phone, "222222"), (Field::Job, "driver")]), phone(2));
        let profile = state.profile();
        assert_eq!(profile.value(Field::Phone), "111111");
        assert_eq!(profile.value(Field::Employer), "A");
        assert_eq!(profile.value(Field::Job), "driver");
        assert_eq!(
            profile.conflicts,
            vec![Conflict {
                field: Field::Phone,
                kept: "111111".into(),
                theirs: "222222".into(),
                version: 2,
                kept_by: phone(1),
                theirs_by: phone(2),
            }]
        );
        // The member chooses on either phone, knowing the conflict: it is settled with the chosen value.
        state.merge(&edit(2, &[(Field::Phone, "222222")]), phone(1));
        assert_eq!(state.profile().value(Field::Phone), "222222");
        assert!(state.conflicts.is_empty());
    }

    #[test]
    fn choosing_the_kept_value_settles_the_conflict() {
        let mut state = ProfileState::default();
        state.merge(&edit(0, &[(Field::City, "杭州")]), phone(1));
        state.merge(&edit(0, &[(Field::City, "宁波")]), phone(2));
        let version = state.version;
        assert!(state.merge(&edit(version, &[(Field::City, "杭州")]), phone(2)));
        assert!(state.conflicts.is_empty());
        assert_eq!(state.profile().value(Field::City), "杭州");
    }

    #[test]
    fn a_stale_edit_does_not_settle_a_conflict_it_never_saw() {
        let mut state = ProfileState::default();
        state.merge(&edit(0, &[(Field::City, "杭州")]), phone(1));
        state.merge(&edit(0, &[(Field::City, "宁波")]), phone(2));
        // A third phone, offline since version 0, happens to agree with the kept value.
        state.merge(&edit(0, &[(Field::City, "杭州")]), phone(3));
        assert_eq!(state.conflicts.len(), 1);
    }

    #[test]
    fn the_phone_shows_its_waiting_edits_over_the_pulled_profile() {
        let mut state = ProfileState::default();
        state.merge(&edit(0, &[(Field::City, "杭州"), (Field::Job, "cook")]), phone(1));
        state.merge(&edit(0, &[(Field::City, "宁波")]), phone(2));
        let pulled = state.profile();
        let waiting = [edit(2, &[(Field::City, "宁波")]), edit(2, &[(Field::Job, "")])];
        let shown = overlay(&pulled, &waiting);
        assert_eq!(shown.value(Field::City), "宁波");
        assert_eq!(shown.value(Field::Job), "");
        assert!(shown.conflicts.is_empty());
        assert_eq!(overlay(&pulled, []).conflicts.len(), 1);
    }

    #[test]
    fn edits_travel_as_changed_fields_only() {
        let wire = serde_json::to_value(edit(3, &[(Field::EmergencyContact, "妻 139")])).unwrap();
        assert_eq!(
            wire,
            serde_json::json!({"base_version": 3, "fields": {"emergency_contact": "妻 139"}})
        );
    }

    fn any_edit() -> impl Strategy<Value = (u8, u64, Vec<(usize, u8)>)> {
        (0u8..3, 0u64..6, prop::collection::vec((0usize..7, 0u8..3), 1..4))
    }

    proptest! {
        /// Nothing is silently overwritten: every value a phone sent is, right after its merge, either in force
        /// or kept beside the value in force as a conflict.
        #[test]
        fn every_sent_value_is_kept_or_in_conflict(edits in prop::collection::vec(any_edit(), 1..20)) {
            let mut state = ProfileState::default();
            for (client, base, fields) in edits {
                let edit = Edit {
                    base_version: base.min(state.version),
                    fields: fields.iter().map(|(f, v)| (Field::ALL[*f], format!("v{v}"))).collect(),
                };
                state.merge(&edit, phone(client));
                for (field, value) in &edit.fields {
                    let in_force = state.fields.get(field).is_some_and(|s| s.value == *value);
                    let beside = state.conflicts.get(field).is_some_and(|c| c.theirs == *value);
                    prop_assert!(in_force || beside, "{field:?}={value} lost");
                }
            }
        }
    }

    #[test]
    fn a_sign_in_number_is_a_mainland_mobile_number() {
        for ok in ["13900000007", "139 0000 0007", "+86 139-0000-0007", "8613900000007", ""] {
            assert_eq!(sign_in_number(ok).as_deref(), Ok(ok), "{ok:?}");
        }
        for bad in [
            "1390000000",
            "139000000071",
            "0571-82610388",
            "23900000007",
            "+1 415 555 0100",
        ] {
            assert_eq!(sign_in_number(bad), Err(FieldError::NotAPhoneNumber), "{bad:?}");
        }
    }
}
