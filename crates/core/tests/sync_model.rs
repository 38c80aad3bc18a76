//! Model test of the whole sync protocol: the real client engine against a model server that applies pushes
//! exactly as `guihai-server` does, over a network that drops, duplicates, delays and replays requests,
//! loses answers after the server committed, and a phone that loses writes before sending them.
//! Invariants: every write the phone still holds is applied exactly once (or refused, with its reason back
//! on the phone), nothing is applied twice at any moment, the outbox drains, and both sides converge.
//!
//! `PROPTEST_CASES` raises the number of cases (docs/sync.md records a 10,000-case run).

use std::collections::{BTreeMap, BTreeSet};

use guihai_core::engine::{Reply, Round, Step, SyncMeta};
use guihai_core::sync::{Change, Mutation, MutationResult, Op, Outcome, PullResponse, PushResponse, Rejection};
use guihai_core::Id;
use proptest::prelude::*;

/// A code the model server refuses for good, like a forged one.
const REFUSED_CODE: &str = "refused";
/// A small pull page, so paging with `has_more` is exercised.
const PAGE: usize = 3;

#[derive(Default, Clone)]
struct Server {
    last_seq: u64,
    /// Check-in id -> server sequence number of its row.
    rows: BTreeMap<Id, u64>,
    next_row_seq: u64,
    applied_count: BTreeMap<Id, u32>,
    refused: BTreeSet<u64>,
}

enum PushAnswer {
    Ok(PushResponse),
    Gap(u64),
}

impl Server {
    /// One push, all or nothing, like the real server's single transaction.
    fn push(&mut self, mutations: &[Mutation]) -> PushAnswer {
        let mut next = self.clone();
        let mut results = Vec::new();
        for m in mutations {
            let outcome = if m.seq <= next.last_seq {
                // A refusal is told again, as the real server does: its first answer may have been lost.
                if next.refused.contains(&m.seq) {
                    Outcome::Rejected {
                        reason: Rejection::Forbidden,
                    }
                } else {
                    Outcome::Duplicate
                }
            } else if m.seq > next.last_seq + 1 {
                return PushAnswer::Gap(self.last_seq);
            } else {
                next.last_seq = m.seq;
                match &m.op {
                    // The model's phones make check-ins only; profiles and reports have their own tests.
                    Op::Skip | Op::EditProfile(_) | Op::Report { .. } | Op::Leave { .. } => Outcome::Applied,
                    Op::CheckIn { code, .. } if code == REFUSED_CODE => {
                        next.refused.insert(m.seq);
                        Outcome::Rejected {
                            reason: Rejection::Forbidden,
                        }
                    }
                    Op::CheckIn { id, .. } if next.rows.contains_key(id) => Outcome::Duplicate,
                    Op::CheckIn { id, .. } => {
                        next.next_row_seq += 1;
                        next.rows.insert(*id, next.next_row_seq);
                        *next.applied_count.entry(*id).or_default() += 1;
                        Outcome::Applied
                    }
                }
            };
            results.push(MutationResult { seq: m.seq, outcome });
        }
        *self = next;
        PushAnswer::Ok(PushResponse {
            last_seq: self.last_seq,
            results,
        })
    }

    /// The model only needs ids back on the phone: each row comes back as a change keyed by its id.
    fn pull(&self, cursor: u64) -> PullResponse {
        let mut rows: Vec<(u64, Id)> = self
            .rows
            .iter()
            .map(|(id, seq)| (*seq, *id))
            .filter(|(seq, _)| *seq > cursor)
            .collect();
        rows.sort();
        let has_more = rows.len() > PAGE;
        rows.truncate(PAGE);
        let changes = rows
            .iter()
            .map(|(_, id)| Change::Delete { key: id.to_string() })
            .collect();
        PullResponse {
            cursor: rows.last().map_or(cursor, |(seq, _)| *seq),
            has_more,
            last_seq: self.last_seq,
            changes,
            server_time: 0,
        }
    }
}

#[derive(Default)]
struct Phone {
    outbox: Vec<Mutation>,
    meta: SyncMeta,
    /// Check-ins the phone saw come back from the server.
    synced: BTreeSet<Id>,
    refused: BTreeSet<u64>,
    round: Option<Round>,
}

#[derive(Debug, Clone, Copy)]
enum Net {
    Deliver,
    DropRequest,
    /// The server commits, the answer never arrives (or the server is killed before answering).
    DropAnswer,
    /// The request arrives twice; the phone hears the second answer.
    Duplicate,
    /// The request is held by the network and may be replayed later; the phone hears nothing.
    Delay,
}

#[derive(Debug, Clone)]
enum Action {
    Write {
        refused: bool,
    },
    /// The phone loses a pending write it never sent (a failed storage write).
    LoseUnsent(usize),
    Sync(Net),
    /// The network delivers an old request again, in any order.
    Replay(usize),
}

fn action() -> impl Strategy<Value = Action> {
    let net = prop_oneof![
        4 => Just(Net::Deliver),
        1 => Just(Net::DropRequest),
        1 => Just(Net::DropAnswer),
        1 => Just(Net::Duplicate),
        1 => Just(Net::Delay),
    ];
    prop_oneof![
        3 => prop::bool::weighted(0.15).prop_map(|refused| Action::Write { refused }),
        1 => any::<usize>().prop_map(Action::LoseUnsent),
        6 => net.prop_map(Action::Sync),
        2 => any::<usize>().prop_map(Action::Replay),
    ]
}

#[derive(Default)]
struct World {
    server: Server,
    phone: Phone,
    /// Every push request ever sent, for the network to replay.
    sent: Vec<Vec<Mutation>>,
    sent_seqs: BTreeSet<u64>,
    ids: u64,
    /// Check-in id -> whether the server must refuse it.
    written: BTreeMap<Id, bool>,
    lost: BTreeSet<Id>,
}

impl World {
    fn write(&mut self, refused: bool) {
        self.ids += 1;
        let id = Id::new_v7(self.ids, [0; 10]);
        let code = if refused { REFUSED_CODE } else { "ok" }.to_owned();
        let seq = self.phone.meta.take_seq();
        self.phone.outbox.push(Mutation {
            seq,
            occurred_at: 0,
            op: Op::CheckIn { id, code },
        });
        self.written.insert(id, refused);
    }

    fn lose_unsent(&mut self, pick: usize) {
        let unsent: Vec<usize> = (0..self.phone.outbox.len())
            .filter(|&i| !self.sent_seqs.contains(&self.phone.outbox[i].seq))
            .collect();
        if unsent.is_empty() {
            return;
        }
        if let Op::CheckIn { id, .. } = self.phone.outbox.remove(unsent[pick % unsent.len()]).op {
            self.lost.insert(id);
        }
    }

    fn replay(&mut self, pick: usize) {
        if !self.sent.is_empty() {
            let request = self.sent[pick % self.sent.len()].clone();
            let _ = self.server.push(&request);
        }
    }

    /// One step of the phone's sync round over a network behaving as `net`.
    fn sync(&mut self, net: Net) {
        let round = self.phone.round.get_or_insert_with(Round::new);
        match round.next(&self.phone.meta, &self.phone.outbox) {
            Step::Push(batch) => {
                self.sent_seqs.extend(batch.iter().map(|m| m.seq));
                self.sent.push(batch.clone());
                let answer = match net {
                    Net::Deliver => Some(self.server.push(&batch)),
                    Net::DropRequest | Net::Delay => None,
                    Net::DropAnswer => {
                        let _ = self.server.push(&batch);
                        None
                    }
                    Net::Duplicate => {
                        let _ = self.server.push(&batch);
                        Some(self.server.push(&batch))
                    }
                };
                let reply = match answer {
                    Some(PushAnswer::Ok(response)) => Reply::Ok(response),
                    Some(PushAnswer::Gap(last_seq)) => Reply::Gap { last_seq },
                    None => Reply::Failed,
                };
                let settled = round.on_push(&mut self.phone.meta, reply, 0.5);
                self.phone.refused.extend(settled.rejected.iter().map(|(seq, _)| *seq));
                self.phone.outbox.retain(|m| m.seq > settled.drop_through);
            }
            Step::Pull { cursor } => {
                let reply = match net {
                    Net::Deliver | Net::Duplicate => Reply::Ok(self.server.pull(cursor)),
                    _ => Reply::Failed,
                };
                let (changes, settled_through) = round.on_pull(&mut self.phone.meta, reply, 0, 0.5);
                for change in changes {
                    if let Change::Delete { key } = change {
                        self.phone.synced.insert(Id::parse(&key).unwrap());
                    }
                }
                self.phone.outbox.retain(|m| m.seq > settled_through);
            }
            // The round ended (done, or waiting out a backoff): the next trigger starts a new one.
            // The model never revokes a session, so `Wipe` cannot come; it ends the round like signing out.
            Step::Done | Step::RetryIn(_) | Step::SignIn | Step::Wipe => self.phone.round = None,
        }
    }

    fn assert_nothing_applied_twice(&self) {
        for (id, count) in &self.server.applied_count {
            assert_eq!(*count, 1, "check-in {id} applied {count} times");
        }
    }

    /// The network heals and every late request has landed: the phone syncs until its round is done.
    fn settle(&mut self) {
        for _ in 0..10_000 {
            self.sync(Net::Deliver);
            if self.phone.outbox.is_empty() && self.phone.round.is_none() {
                return;
            }
        }
        panic!("sync did not settle: outbox {:?}", self.phone.outbox);
    }
}

fn run(actions: Vec<Action>) {
    let mut world = World::default();
    for action in actions {
        match action {
            Action::Write { refused } => world.write(refused),
            Action::LoseUnsent(pick) => world.lose_unsent(pick),
            Action::Sync(net) => world.sync(net),
            Action::Replay(pick) => world.replay(pick),
        }
        world.assert_nothing_applied_twice();
    }
    world.settle();
    // Replays of every old request after the phone settled change nothing on the server.
    for pick in 0..world.sent.len() {
        world.replay(pick);
    }
    world.settle();

    world.assert_nothing_applied_twice();
    for (id, refused) in &world.written {
        let on_server = world.server.rows.contains_key(id);
        if *refused {
            assert!(!on_server, "a refused write is never applied");
        } else if !world.lost.contains(id) {
            assert!(on_server, "write {id} was lost");
        }
    }
    let server_ids: BTreeSet<Id> = world.server.rows.keys().copied().collect();
    assert_eq!(world.phone.synced, server_ids, "phone and server converge");
    assert_eq!(
        world.phone.refused, world.server.refused,
        "every refusal reached the phone"
    );
}

/// 1,000 cases on every test run; `PROPTEST_CASES=10000` for a longer one.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000);
    ProptestConfig::with_cases(cases)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn sync_never_loses_or_doubles_a_write(actions in prop::collection::vec(action(), 0..80)) {
        run(actions);
    }
}
