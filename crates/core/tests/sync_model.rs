//! Model test of the whole sync protocol: the real client engine and outbox (rows at write time, numbers given
//! lazily by whichever of two tabs holds the sync lock, as the browser does) against a model server that sorts
//! pushes with the real server's `classify`, over a network that drops, duplicates, delays and replays
//! requests, loses answers after the server committed, tabs closed mid-round, and writes that stop reading
//! back before they were numbered. Invariants: every write is applied exactly once (or refused, with its reason
//! back on the phone, or kept aside as damaged and never sent), nothing is applied twice at any moment, no
//! number is given twice or sent as a skip, the outbox and its waiting count drain, and both sides converge.
//!
//! `PROPTEST_CASES` raises the number of cases (docs/sync.md records a 10,000-case run).

use std::collections::{BTreeMap, BTreeSet};

use guihai_core::engine::{Reply, Round, Settled, Step, SyncMeta};
use guihai_core::outbox::{Fate, InMemory};
use guihai_core::sync::{
    classify, Change, Mutation, MutationResult, Op, Outcome, PullResponse, PushResponse, Rejection, SeqGap,
};
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
    /// One push, all or nothing, like the real server's single transaction, its numbers sorted by core's
    /// `classify` as the real server sorts them.
    fn push(&mut self, mutations: &[Mutation]) -> PushAnswer {
        let classified = match classify(self.last_seq, mutations.iter().map(|m| m.seq)) {
            Ok(classified) => classified,
            Err(SeqGap { last_seq }) => return PushAnswer::Gap(last_seq),
        };
        let mut results = Vec::new();
        for (index, m) in mutations.iter().enumerate() {
            let outcome = if classified.new.contains(&index) {
                match &m.op {
                    // The model's phones make check-ins only, sending their codes whole; the other writes have
                    // their own tests.
                    Op::Skip
                    | Op::CheckInIssued { .. }
                    | Op::EditProfile(_)
                    | Op::Report { .. }
                    | Op::Leave { .. }
                    | Op::PublishActivity(_)
                    | Op::CancelActivity { .. }
                    | Op::RecordAttendance { .. }
                    | Op::WriteMinutes { .. }
                    | Op::CreditHours { .. }
                    | Op::ReadNotice { .. } => Outcome::Applied,
                    Op::CheckIn { code, .. } if code == REFUSED_CODE => {
                        self.refused.insert(m.seq);
                        Outcome::Rejected {
                            reason: Rejection::Forbidden,
                        }
                    }
                    Op::CheckIn { id, .. } if self.rows.contains_key(id) => Outcome::Duplicate,
                    Op::CheckIn { id, .. } => {
                        self.next_row_seq += 1;
                        self.rows.insert(*id, self.next_row_seq);
                        *self.applied_count.entry(*id).or_default() += 1;
                        Outcome::Applied
                    }
                }
            } else if self.refused.contains(&m.seq) {
                // A refusal is told again, as the real server does: its first answer may have been lost.
                Outcome::Rejected {
                    reason: Rejection::Forbidden,
                }
            } else {
                Outcome::Duplicate
            };
            results.push(MutationResult { seq: m.seq, outcome });
        }
        self.last_seq = classified.last_seq;
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

/// A local write as the model phone makes it: a check-in, which the server refuses or not.
#[derive(Debug, Clone)]
struct Write {
    id: Id,
    refused: bool,
}

/// What the phone keeps, shared by its tabs (the browser's IndexedDB).
#[derive(Default)]
struct Store {
    outbox: InMemory<Write>,
    meta: SyncMeta,
    /// Check-ins the phone saw come back from the server.
    synced: BTreeSet<Id>,
    refused: BTreeSet<u64>,
    /// Writes set aside because they could not be read: kept, never numbered, never sent.
    damaged: BTreeSet<Id>,
}

impl Store {
    /// The numbered writes the server has not settled, in `seq` order (row order), at most `limit`, numbering
    /// new ones as that takes, as the syncing tab does before each step.
    fn head(&mut self, limit: usize) -> Vec<Mutation> {
        let (head, damaged) = self.outbox.head(&mut self.meta, limit);
        self.damaged.extend(damaged.iter().map(|write| write.id));
        head.into_iter()
            .map(|(seq, write)| Mutation {
                seq,
                occurred_at: 0,
                op: Op::CheckIn {
                    id: write.id,
                    code: if write.refused { REFUSED_CODE } else { "ok" }.to_owned(),
                },
            })
            .collect()
    }

    /// Carries out `settled` on every numbered row (core's `fate`).
    fn settle(&mut self, settled: &Settled) {
        for (seq, _, fate) in self.outbox.settle(&mut self.meta, settled) {
            if let Fate::Refused(_) = fate {
                self.refused.insert(seq);
            }
        }
    }
}

/// A tab of the app: its own sync round, if one is running.
#[derive(Default)]
struct Tab {
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
    /// A tab stores a check-in (`refused`: the server will refuse it). Which tab does not matter: a write is
    /// one transaction whichever tab makes it, and the tabs share the store.
    Write { refused: bool },
    /// A stored write that has no number yet stops reading back.
    Damage(usize),
    /// A tab takes a step of its sync round (starting one, and taking the lock, if it has none), reading at
    /// most `head` writes of the outbox (fewer than a push may carry, so numbering goes a few rows at a time).
    Sync { tab: usize, net: Net, head: usize },
    /// A tab is closed (or killed) mid-round: its round ends and the lock is free.
    Close(usize),
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
    let tab = 0..TABS;
    prop_oneof![
        3 => prop::bool::weighted(0.15).prop_map(|refused| Action::Write { refused }),
        1 => any::<usize>().prop_map(Action::Damage),
        6 => (tab.clone(), net, 1..6usize).prop_map(|(tab, net, head)| Action::Sync { tab, net, head }),
        1 => tab.prop_map(Action::Close),
        2 => any::<usize>().prop_map(Action::Replay),
    ]
}

/// Two tabs of the app on one phone.
const TABS: usize = 2;

#[derive(Default)]
struct World {
    server: Server,
    store: Store,
    tabs: [Tab; TABS],
    /// The tab holding the sync lock (Web Locks): one round at a time on the phone.
    lock: Option<usize>,
    /// Every push request ever sent, for the network to replay.
    sent: Vec<Vec<Mutation>>,
    ids: u64,
    /// Check-in id -> whether the server must refuse it.
    written: BTreeMap<Id, bool>,
}

impl World {
    /// A tab stores a write: it takes its row in the write's own transaction, and no number.
    fn write(&mut self, refused: bool) {
        self.ids += 1;
        let id = Id::new_v7(self.ids, [0; 10]);
        self.store.outbox.push(&self.store.meta, Write { id, refused });
        self.written.insert(id, refused);
    }

    fn damage(&mut self, pick: usize) {
        let numbered_row = self.store.meta.numbered_row;
        let unnumbered: Vec<u64> = self
            .store
            .outbox
            .rows()
            .map(|(row, _)| row)
            .filter(|row| *row > numbered_row)
            .collect();
        if let Some(row) = unnumbered.get(pick % unnumbered.len().max(1)) {
            self.store.outbox.get_mut(*row).expect("listed").damaged = true;
        }
    }

    fn replay(&mut self, pick: usize) {
        if !self.sent.is_empty() {
            let request = self.sent[pick % self.sent.len()].clone();
            let _ = self.server.push(&request);
        }
    }

    fn close(&mut self, tab: usize) {
        self.tabs[tab].round = None;
        if self.lock == Some(tab) {
            self.lock = None;
        }
    }

    /// One step of `tab`'s sync round over a network behaving as `net`, as `SyncService::round` takes it.
    fn sync(&mut self, tab: usize, net: Net, limit: usize) {
        match self.lock {
            Some(holder) if holder != tab => return, // another tab syncs; this one tries again later
            _ => self.lock = Some(tab),
        }
        let round = self.tabs[tab].round.get_or_insert_with(Round::new);
        let head = self.store.head(limit.min(round.batch()));
        let meta = &mut self.store.meta;
        match round.next(meta, &head) {
            Step::Push(batch) => {
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
                let settled = round.on_push(meta, reply, 0.5);
                self.store.settle(&settled);
            }
            Step::Pull { cursor } => {
                let reply = match net {
                    Net::Deliver | Net::Duplicate => Reply::Ok(self.server.pull(cursor)),
                    _ => Reply::Failed,
                };
                let (changes, settled_through) = round.on_pull(meta, reply, 0, 0.5);
                for change in changes {
                    if let Change::Delete { key } = change {
                        self.store.synced.insert(Id::parse(&key).unwrap());
                    }
                }
                self.store.settle(&Settled {
                    drop_through: settled_through,
                    rejected: Vec::new(),
                });
            }
            // The round ended (done, or waiting out a backoff): the lock is free, the next trigger starts a
            // new one. The model never revokes a session, so `Wipe` cannot come; it ends the round like signing out.
            Step::Done | Step::RetryIn(_) | Step::SignIn | Step::Wipe => self.close(tab),
        }
    }

    fn assert_nothing_applied_twice(&self) {
        for (id, count) in &self.server.applied_count {
            assert_eq!(*count, 1, "check-in {id} applied {count} times");
        }
    }

    /// The network heals and every late request has landed: the first tab syncs until its round is done.
    fn settle(&mut self) {
        for tab in 0..TABS {
            self.close(tab);
        }
        for _ in 0..10_000 {
            self.sync(0, Net::Deliver, usize::MAX);
            if self.store.outbox.is_empty() && self.tabs[0].round.is_none() {
                return;
            }
        }
        panic!("sync did not settle: outbox {:?}", self.store.outbox);
    }
}

fn run(actions: Vec<Action>) {
    let mut world = World::default();
    for action in actions {
        match action {
            Action::Write { refused } => world.write(refused),
            Action::Damage(pick) => world.damage(pick),
            Action::Sync { tab, net, head } => world.sync(tab, net, head),
            Action::Close(tab) => world.close(tab),
            Action::Replay(pick) => world.replay(pick),
        }
        world.assert_nothing_applied_twice();
        let store = &world.store;
        assert_eq!(
            store.outbox.waiting(&store.meta),
            store.outbox.len() as u64,
            "the waiting count is the outbox's"
        );
    }
    world.settle();
    // Replays of every old request after the phone settled change nothing on the server.
    for pick in 0..world.sent.len() {
        world.replay(pick);
    }
    world.settle();

    world.assert_nothing_applied_twice();
    let store = &world.store;
    assert_eq!(
        store.outbox.waiting(&store.meta),
        0,
        "the waiting count comes back to zero"
    );
    let mut numbers: Vec<u64> = world.sent.iter().flatten().map(|m| m.seq).collect();
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(
        numbers,
        (1..=store.meta.last_seq).collect::<Vec<_>>(),
        "every number handed out was sent, and no number means two writes"
    );
    for sent in world.sent.iter().flatten() {
        assert!(
            sent.op != Op::Skip,
            "nothing is ever sent as a skip: no write was lost on the phone"
        );
    }
    for (id, refused) in &world.written {
        let on_server = world.server.rows.contains_key(id);
        if store.damaged.contains(id) {
            assert!(!on_server, "a damaged write is kept aside, never sent");
        } else if *refused {
            assert!(!on_server, "a refused write is never applied");
        } else {
            assert!(on_server, "write {id} was lost");
        }
    }
    let server_ids: BTreeSet<Id> = world.server.rows.keys().copied().collect();
    assert_eq!(store.synced, server_ids, "phone and server converge");
    assert_eq!(store.refused, world.server.refused, "every refusal reached the phone");
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
