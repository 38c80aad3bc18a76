//! How the protocol's JSON is read, without a detour. serde's derive reads an adjacently tagged enum (`Record`:
//! `type` and `data`; `Op`: `kind` and `args`) with a second path for content that comes before its tag, which
//! buffers it into a generic tree (serde's private `Content`) and reads that again; an internally tagged enum
//! (`Change`) and a `flatten`ed field (`Mutation`'s op, `MutationResult`'s outcome) always take that path. On
//! the phone that was an allocation per value of every pulled record, and a second copy of the reader of every
//! record and op type in the first load. Here the content goes straight to the type its tag names; content
//! written before its tag (every writer puts the tag first, but JSON's objects have no order and a database's
//! JSON type may sort keys) is kept as its JSON text and read once the tag is known, by the same reader.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{Mutation, Op, Record, RecordedBy, Rejection};
use crate::qr::CodeSignature;
use crate::Id;

/// An enum written as a tag and its content under two keys of one object.
trait Tagged: Sized {
    const TAG: &'static str;
    const CONTENT: &'static str;
    /// The tag's values.
    type Kind: for<'de> Deserialize<'de> + Copy;
    /// The value `kind` tags, from its content.
    fn read<'de, D: Deserializer<'de>>(kind: Self::Kind, content: D) -> Result<Self, D::Error>;
    /// The value `kind` tags when it has no content (a unit variant), if it may have none.
    fn bare(kind: Self::Kind) -> Option<Self>;
}

/// Other keys the object carries beside the tag and its content (a `Mutation`'s number and time).
trait Beside<'de>: Default {
    const NAMES: &'static [&'static str];
    /// Reads the value of `NAMES[at]`.
    fn take<A: MapAccess<'de>>(&mut self, at: usize, map: &mut A) -> Result<(), A::Error>;
}

impl<'de> Beside<'de> for () {
    const NAMES: &'static [&'static str] = &[];

    fn take<A: MapAccess<'de>>(&mut self, _: usize, _: &mut A) -> Result<(), A::Error> {
        Ok(())
    }
}

/// Reads a `T` and the keys `B` takes from an object.
fn tagged<'de, T: Tagged, B: Beside<'de>, D: Deserializer<'de>>(deserializer: D) -> Result<(T, B), D::Error> {
    deserializer.deserialize_map(TaggedVisitor(PhantomData))
}

struct TaggedVisitor<T, B>(PhantomData<(T, B)>);

impl<'de, T: Tagged, B: Beside<'de>> Visitor<'de> for TaggedVisitor<T, B> {
    type Value = (T, B);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an object with `{}` and `{}`", T::TAG, T::CONTENT)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(T, B), A::Error> {
        let keys = Keys {
            tag: T::TAG,
            content: T::CONTENT,
            beside: B::NAMES,
        };
        let mut kind = None;
        let mut value = None;
        let mut early: Option<Box<RawValue>> = None;
        let mut beside = B::default();
        while let Some(key) = map.next_key_seed(keys)? {
            match key {
                Key::Tag if kind.is_none() => kind = Some(map.next_value::<T::Kind>()?),
                Key::Content if value.is_none() && early.is_none() => match kind {
                    Some(kind) => value = Some(map.next_value_seed(Content::<T>(kind))?),
                    None => early = Some(map.next_value()?),
                },
                Key::Tag => return Err(de::Error::duplicate_field(T::TAG)),
                Key::Content => return Err(de::Error::duplicate_field(T::CONTENT)),
                Key::Beside(at) => beside.take(at, &mut map)?,
                Key::Other => drop(map.next_value::<IgnoredAny>()?),
            }
        }
        let kind = kind.ok_or_else(|| de::Error::missing_field(T::TAG))?;
        let value = match (value, early) {
            (Some(value), _) => value,
            (None, Some(raw)) => {
                let mut json = serde_json::Deserializer::from_slice(raw.get().as_bytes());
                Content::<T>(kind).deserialize(&mut json).map_err(de::Error::custom)?
            }
            (None, None) => T::bare(kind).ok_or_else(|| de::Error::missing_field(T::CONTENT))?,
        };
        Ok((value, beside))
    }
}

/// A tagged value's content, of the type its tag names.
struct Content<T: Tagged>(T::Kind);

impl<'de, T: Tagged> DeserializeSeed<'de> for Content<T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, content: D) -> Result<T, D::Error> {
        T::read(self.0, content)
    }
}

#[derive(Clone, Copy)]
enum Key {
    Tag,
    Content,
    Beside(usize),
    Other,
}

/// Tells a key among the names a tagged object may have, without keeping it.
#[derive(Clone, Copy)]
struct Keys {
    tag: &'static str,
    content: &'static str,
    beside: &'static [&'static str],
}

impl<'de> DeserializeSeed<'de> for Keys {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, key: D) -> Result<Key, D::Error> {
        key.deserialize_identifier(self)
    }
}

impl Visitor<'_> for Keys {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
        Ok(if key == self.tag {
            Key::Tag
        } else if key == self.content {
            Key::Content
        } else {
            self.beside
                .iter()
                .position(|name| *name == key)
                .map_or(Key::Other, Key::Beside)
        })
    }
}

/// A record's `type`: the variants of `Record`, by the names it is written with.
#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RecordType {
    Me,
    Profile,
    Stop,
    Review,
    Report,
    Organisation,
    OrgCode,
    Activity,
    CheckIn,
    Key,
    DoorKey,
    Notice,
    NoticeRead,
}

impl Tagged for Record {
    const TAG: &'static str = "type";
    const CONTENT: &'static str = "data";
    type Kind = RecordType;

    fn read<'de, D: Deserializer<'de>>(kind: RecordType, data: D) -> Result<Record, D::Error> {
        Ok(match kind {
            RecordType::Me => Record::Me(Deserialize::deserialize(data)?),
            RecordType::Profile => Record::Profile(Deserialize::deserialize(data)?),
            RecordType::Stop => Record::Stop(Deserialize::deserialize(data)?),
            RecordType::Review => Record::Review(Deserialize::deserialize(data)?),
            RecordType::Report => Record::Report(Deserialize::deserialize(data)?),
            RecordType::Organisation => Record::Organisation(Deserialize::deserialize(data)?),
            RecordType::OrgCode => Record::OrgCode(Deserialize::deserialize(data)?),
            RecordType::Activity => Record::Activity(Deserialize::deserialize(data)?),
            RecordType::CheckIn => Record::CheckIn(Deserialize::deserialize(data)?),
            RecordType::Key => Record::Key(Deserialize::deserialize(data)?),
            RecordType::DoorKey => Record::DoorKey(Deserialize::deserialize(data)?),
            RecordType::Notice => Record::Notice(Deserialize::deserialize(data)?),
            RecordType::NoticeRead => Record::NoticeRead(Deserialize::deserialize(data)?),
        })
    }

    fn bare(_: RecordType) -> Option<Record> {
        None
    }
}

impl<'de> Deserialize<'de> for Record {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        tagged::<Record, (), D>(deserializer).map(|(record, ())| record)
    }
}

/// An op's `kind`: the variants of `Op`, by the names they are written with.
#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum OpKind {
    CheckIn,
    CheckInIssued,
    EditProfile,
    Report,
    Leave,
    PublishActivity,
    CancelActivity,
    RecordAttendance,
    WriteMinutes,
    CreditHours,
    ReadNotice,
    Skip,
}

/// The args of `Op`'s variants with fields, as they are written; each becomes its variant whole (`Op::read`),
/// so a field added to a variant and not here does not compile.
mod args {
    use serde::Deserialize;

    use super::{CodeSignature, Id, RecordedBy};

    #[derive(Deserialize)]
    pub struct CheckIn {
        pub id: Id,
        pub code: String,
    }

    #[derive(Deserialize)]
    pub struct CheckInIssued {
        pub id: Id,
        pub signature: CodeSignature,
    }

    #[derive(Deserialize)]
    pub struct Report {
        pub id: Id,
        pub code: String,
        pub left_stop: Option<Id>,
    }

    #[derive(Deserialize)]
    pub struct Leave {
        pub stop_id: Id,
    }

    #[derive(Deserialize)]
    pub struct CancelActivity {
        pub id: Id,
    }

    #[derive(Deserialize)]
    pub struct RecordAttendance {
        pub id: Id,
        pub activity_id: Id,
        pub by: RecordedBy,
    }

    #[derive(Deserialize)]
    pub struct WriteMinutes {
        pub activity_id: Id,
        pub text: String,
    }

    #[derive(Deserialize)]
    pub struct CreditHours {
        pub activity_id: Id,
        pub member_id: Id,
        pub hours_tenths: u16,
    }

    #[derive(Deserialize)]
    pub struct ReadNotice {
        pub notice_id: Id,
    }
}

impl Tagged for Op {
    const TAG: &'static str = "kind";
    const CONTENT: &'static str = "args";
    type Kind = OpKind;

    fn read<'de, D: Deserializer<'de>>(kind: OpKind, args: D) -> Result<Op, D::Error> {
        Ok(match kind {
            OpKind::CheckIn => {
                let args::CheckIn { id, code } = Deserialize::deserialize(args)?;
                Op::CheckIn { id, code }
            }
            OpKind::CheckInIssued => {
                let args::CheckInIssued { id, signature } = Deserialize::deserialize(args)?;
                Op::CheckInIssued { id, signature }
            }
            OpKind::EditProfile => Op::EditProfile(Deserialize::deserialize(args)?),
            OpKind::Report => {
                let args::Report { id, code, left_stop } = Deserialize::deserialize(args)?;
                Op::Report { id, code, left_stop }
            }
            OpKind::Leave => {
                let args::Leave { stop_id } = Deserialize::deserialize(args)?;
                Op::Leave { stop_id }
            }
            OpKind::PublishActivity => Op::PublishActivity(Deserialize::deserialize(args)?),
            OpKind::CancelActivity => {
                let args::CancelActivity { id } = Deserialize::deserialize(args)?;
                Op::CancelActivity { id }
            }
            OpKind::RecordAttendance => {
                let args::RecordAttendance { id, activity_id, by } = Deserialize::deserialize(args)?;
                Op::RecordAttendance { id, activity_id, by }
            }
            OpKind::WriteMinutes => {
                let args::WriteMinutes { activity_id, text } = Deserialize::deserialize(args)?;
                Op::WriteMinutes { activity_id, text }
            }
            OpKind::CreditHours => {
                let args::CreditHours {
                    activity_id,
                    member_id,
                    hours_tenths,
                } = Deserialize::deserialize(args)?;
                Op::CreditHours {
                    activity_id,
                    member_id,
                    hours_tenths,
                }
            }
            OpKind::ReadNotice => {
                let args::ReadNotice { notice_id } = Deserialize::deserialize(args)?;
                Op::ReadNotice { notice_id }
            }
            OpKind::Skip => {
                <()>::deserialize(args)?;
                Op::Skip
            }
        })
    }

    fn bare(kind: OpKind) -> Option<Op> {
        matches!(kind, OpKind::Skip).then_some(Op::Skip)
    }
}

impl<'de> Deserialize<'de> for Op {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        tagged::<Op, (), D>(deserializer).map(|(op, ())| op)
    }
}

/// A mutation's keys beside its op's.
#[derive(Default)]
struct Stamp {
    seq: Option<u64>,
    occurred_at: Option<i64>,
}

impl<'de> Beside<'de> for Stamp {
    const NAMES: &'static [&'static str] = &["seq", "occurred_at"];

    fn take<A: MapAccess<'de>>(&mut self, at: usize, map: &mut A) -> Result<(), A::Error> {
        match at {
            0 if self.seq.is_none() => self.seq = Some(map.next_value()?),
            1 if self.occurred_at.is_none() => self.occurred_at = Some(map.next_value()?),
            _ => return Err(de::Error::duplicate_field(Self::NAMES[at])),
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Mutation {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (op, stamp) = tagged::<Op, Stamp, D>(deserializer)?;
        Ok(Mutation {
            seq: stamp.seq.ok_or_else(|| de::Error::missing_field("seq"))?,
            occurred_at: stamp
                .occurred_at
                .ok_or_else(|| de::Error::missing_field("occurred_at"))?,
            op,
        })
    }
}

/// A change's `op`.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum ChangeOp {
    Upsert,
    Delete,
}

/// A change as written, read field by field in any order (its record is self-describing), then checked whole.
#[derive(Deserialize)]
pub struct Change {
    op: ChangeOp,
    record: Option<Record>,
    key: Option<String>,
}

impl TryFrom<Change> for super::Change {
    type Error = &'static str;

    fn try_from(change: Change) -> Result<Self, Self::Error> {
        match (change.op, change.record, change.key) {
            (ChangeOp::Upsert, Some(record), _) => Ok(super::Change::Upsert { record }),
            (ChangeOp::Delete, _, Some(key)) => Ok(super::Change::Delete { key }),
            (ChangeOp::Upsert, None, _) => Err("an upsert without its record"),
            (ChangeOp::Delete, _, None) => Err("a delete without its key"),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Status {
    Applied,
    Duplicate,
    Rejected,
}

/// A push's answer for one mutation as written, read field by field in any order, then checked whole.
#[derive(Deserialize)]
pub struct Outcome {
    seq: u64,
    status: Status,
    reason: Option<Rejection>,
}

impl TryFrom<Outcome> for super::MutationResult {
    type Error = &'static str;

    fn try_from(result: Outcome) -> Result<Self, Self::Error> {
        let outcome = match (result.status, result.reason) {
            (Status::Applied, _) => super::Outcome::Applied,
            (Status::Duplicate, _) => super::Outcome::Duplicate,
            (Status::Rejected, Some(reason)) => super::Outcome::Rejected { reason },
            (Status::Rejected, None) => return Err("a rejection without its reason"),
        };
        Ok(super::MutationResult {
            seq: result.seq,
            outcome,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Change, MutationResult, Outcome};
    use super::*;
    use crate::domain::Activity;
    use crate::notice::NoticeRead;
    use crate::profile;
    use crate::qr::CodeError;

    #[test]
    fn records_changes_and_results_read_back_as_written_and_incomplete_ones_are_refused() {
        let record = Record::NoticeRead(NoticeRead {
            notice_id: Id::from_bytes([7; 16]),
            read_at: 1_700_000_000_000,
        });
        let changes = [
            Change::Upsert { record: record.clone() },
            Change::Delete { key: "stop:1".into() },
        ];
        for change in &changes {
            let json = serde_json::to_string(change).unwrap();
            assert_eq!(&serde_json::from_str::<Change>(&json).unwrap(), change, "{json}");
        }
        assert!(matches!(type_of(&record), RecordType::NoticeRead));
        let record_json = serde_json::to_string(&record).unwrap();
        assert!(
            record_json.starts_with(r#"{"type":"notice_read","data":"#),
            "{record_json}"
        );
        let data = serde_json::to_string(&NoticeRead {
            notice_id: Id::from_bytes([7; 16]),
            read_at: 1_700_000_000_000,
        })
        .unwrap();
        let padded = format!(r#"{{"v":1,"type":"notice_read","w":[{{}}],"data":{data},"x":null}}"#);
        assert_eq!(serde_json::from_str::<Record>(&padded).unwrap(), record);
        // JSON objects have no order: data before its type is read too (a database's JSON type may sort keys).
        let reordered = format!(r#"{{"data":{data},"x":1,"type":"notice_read"}}"#);
        assert_eq!(serde_json::from_str::<Record>(&reordered).unwrap(), record);
        for broken in [
            r#"{"data":{"notice_id":1},"type":"notice_read"}"#.to_string(),
            format!(r#"{{"data":{data},"data":{data},"type":"notice_read"}}"#),
            r#"{"type":"notice_read"}"#.to_string(),
            format!(r#"{{"data":{data}}}"#),
            format!(r#"{{"type":"notice_read","data":{data},"type":"me"}}"#),
            format!(r#"{{"type":"nothing","data":{data}}}"#),
            format!(r#"{{"type":"notice","data":{data}}}"#),
        ] {
            assert!(serde_json::from_str::<Record>(&broken).is_err(), "{broken}");
        }
        let first = format!(r#"{{"record":{record_json},"extra":[1,{{"a":2}}],"op":"upsert"}}"#);
        assert_eq!(serde_json::from_str::<Change>(&first).unwrap(), changes[0]);
        for broken in [
            r#"{"op":"upsert"}"#,
            r#"{"op":"delete"}"#,
            r#"{"key":"k"}"#,
            r#"{"op":"move","key":"k"}"#,
        ] {
            assert!(serde_json::from_str::<Change>(broken).is_err(), "{broken}");
        }

        let results = [
            MutationResult {
                seq: 1,
                outcome: Outcome::Applied,
            },
            MutationResult {
                seq: 2,
                outcome: Outcome::Duplicate,
            },
            MutationResult {
                seq: 3,
                outcome: Outcome::Rejected {
                    reason: Rejection::Code(CodeError::Expired),
                },
            },
            MutationResult {
                seq: 4,
                outcome: Outcome::Rejected {
                    reason: Rejection::MembersOnly,
                },
            },
        ];
        for result in &results {
            let json = serde_json::to_string(result).unwrap();
            assert_eq!(
                &serde_json::from_str::<MutationResult>(&json).unwrap(),
                result,
                "{json}"
            );
        }
        let reordered = r#"{"reason":{"reason":"members_only"},"status":"rejected","seq":4}"#;
        assert_eq!(serde_json::from_str::<MutationResult>(reordered).unwrap(), results[3]);
        for broken in [
            r#"{"seq":1}"#,
            r#"{"status":"applied"}"#,
            r#"{"seq":1,"status":"rejected"}"#,
        ] {
            assert!(serde_json::from_str::<MutationResult>(broken).is_err(), "{broken}");
        }
    }

    /// Each variant of `Record` has its `RecordType` (read by `Tagged::read`, whose match is exhaustive too): a
    /// variant added to `Record` alone does not compile.
    fn type_of(record: &Record) -> RecordType {
        match record {
            Record::Me(_) => RecordType::Me,
            Record::Profile(_) => RecordType::Profile,
            Record::Stop(_) => RecordType::Stop,
            Record::Review(_) => RecordType::Review,
            Record::Report(_) => RecordType::Report,
            Record::Organisation(_) => RecordType::Organisation,
            Record::OrgCode(_) => RecordType::OrgCode,
            Record::Activity(_) => RecordType::Activity,
            Record::CheckIn(_) => RecordType::CheckIn,
            Record::Key(_) => RecordType::Key,
            Record::DoorKey(_) => RecordType::DoorKey,
            Record::Notice(_) => RecordType::Notice,
            Record::NoticeRead(_) => RecordType::NoticeRead,
        }
    }

    /// Each variant of `Op` has its `OpKind`, as `type_of` for records.
    fn kind_of(op: &Op) -> OpKind {
        match op {
            Op::CheckIn { .. } => OpKind::CheckIn,
            Op::CheckInIssued { .. } => OpKind::CheckInIssued,
            Op::EditProfile(_) => OpKind::EditProfile,
            Op::Report { .. } => OpKind::Report,
            Op::Leave { .. } => OpKind::Leave,
            Op::PublishActivity(_) => OpKind::PublishActivity,
            Op::CancelActivity { .. } => OpKind::CancelActivity,
            Op::RecordAttendance { .. } => OpKind::RecordAttendance,
            Op::WriteMinutes { .. } => OpKind::WriteMinutes,
            Op::CreditHours { .. } => OpKind::CreditHours,
            Op::ReadNotice { .. } => OpKind::ReadNotice,
            Op::Skip => OpKind::Skip,
        }
    }

    /// One op of each kind at least (checked by the test below).
    fn every_op() -> Vec<Op> {
        let id = |n: u8| Id::from_bytes([n; 16]);
        let activity: Activity = serde_json::from_str(&format!(
            r#"{{"id":"{}","org_id":"{}","title":"学习","kind":"theme_day","starts_at":1,"ends_at":2,"place":null}}"#,
            id(1),
            id(2)
        ))
        .unwrap();
        let ops = vec![
            Op::CheckIn {
                id: id(1),
                code: "GH1.x".into(),
            },
            Op::CheckInIssued {
                id: id(1),
                signature: CodeSignature([7; 64]),
            },
            Op::EditProfile(profile::Edit {
                base_version: 3,
                fields: Default::default(),
            }),
            Op::Report {
                id: id(2),
                code: "GH1.y".into(),
                left_stop: Some(id(3)),
            },
            Op::Report {
                id: id(2),
                code: "GH1.y".into(),
                left_stop: None,
            },
            Op::Leave { stop_id: id(4) },
            Op::PublishActivity(activity),
            Op::CancelActivity { id: id(5) },
            Op::RecordAttendance {
                id: id(6),
                activity_id: id(7),
                by: RecordedBy::Hand {
                    member_id: id(8),
                    reason: "没有手机".into(),
                },
            },
            Op::WriteMinutes {
                activity_id: id(9),
                text: "会议记录".into(),
            },
            Op::CreditHours {
                activity_id: id(10),
                member_id: id(11),
                hours_tenths: 25,
            },
            Op::ReadNotice { notice_id: id(12) },
            Op::Skip,
        ];
        ops
    }

    #[test]
    fn a_code_signature_is_64_bytes_of_base64url_and_nothing_else() {
        let op = |signature: &str| {
            let id = Id::from_bytes([1; 16]);
            let json = format!(r#"{{"kind":"check_in_issued","args":{{"id":"{id}","signature":"{signature}"}}}}"#);
            serde_json::from_str::<Op>(&json)
        };
        let good = "A".repeat(86);
        assert!(matches!(op(&good), Ok(Op::CheckInIssued { signature: CodeSignature(bytes), .. }) if bytes == [0; 64]));
        for bad in [
            "A".repeat(85),
            "A".repeat(87),
            format!("{}=", "A".repeat(85)),
            "+".repeat(86),
            String::new(),
        ] {
            assert!(op(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_op_and_mutation_reads_back_as_written_in_any_order() {
        let kinds: std::collections::BTreeSet<u8> = every_op().iter().map(|op| kind_of(op) as u8).collect();
        assert_eq!(
            kinds.len(),
            OpKind::Skip as usize + 1,
            "every kind of op is tried (`Skip` is the last)"
        );
        for (seq, op) in every_op().into_iter().enumerate() {
            let mutation = Mutation {
                seq: seq as u64 + 1,
                occurred_at: 1_700_000_000_000,
                op: op.clone(),
            };
            let json = serde_json::to_string(&mutation).unwrap();
            assert_eq!(serde_json::from_str::<Mutation>(&json).unwrap(), mutation, "{json}");
            let op_json = serde_json::to_string(&op).unwrap();
            assert_eq!(serde_json::from_str::<Op>(&op_json).unwrap(), op, "{op_json}");
            // Keys sorted by name, as a database's JSON type may keep them (args before kind, the stamp last),
            // and one nobody knows.
            let value: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&json).unwrap();
            let sorted: Vec<String> = value
                .iter()
                .map(|(key, value)| format!("{}:{value}", serde_json::to_string(key).unwrap()))
                .collect();
            let sorted = format!(r#"{{"later":[1],{}}}"#, sorted.join(","));
            assert_eq!(serde_json::from_str::<Mutation>(&sorted).unwrap(), mutation, "{sorted}");
        }
        let skip = r#"{"seq":1,"occurred_at":2,"kind":"skip","args":null}"#;
        assert_eq!(serde_json::from_str::<Mutation>(skip).unwrap().op, Op::Skip);
        for broken in [
            r#"{"occurred_at":2,"kind":"skip"}"#,
            r#"{"seq":1,"kind":"skip"}"#,
            r#"{"seq":1,"occurred_at":2}"#,
            r#"{"seq":1,"occurred_at":2,"kind":"leave"}"#,
            r#"{"seq":1,"seq":1,"occurred_at":2,"kind":"skip"}"#,
            r#"{"seq":1,"occurred_at":2,"kind":"leave","args":{"stop_id":"nope"}}"#,
            r#"{"seq":1,"occurred_at":2,"kind":"fly","args":{}}"#,
            r#"{"seq":1,"occurred_at":2,"kind":"skip","kind":"skip"}"#,
            r#"[1,2]"#,
        ] {
            assert!(serde_json::from_str::<Mutation>(broken).is_err(), "{broken}");
        }
    }
}
