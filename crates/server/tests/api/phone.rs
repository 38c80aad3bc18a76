//! A native phone: the browser app's sync driver (`src/sync/mod.rs` and `outbox.rs`) run natively on the same
//! core engine (`Round`, `SyncMeta`, `Settled`), with its outbox in memory, against a real server process over
//! HTTP. It keeps every push it sent with the answer it got, so a test can say what happened on the wire.

use std::collections::BTreeMap;
use std::time::Duration;

use guihai_core::domain::{Activity, Me};
use guihai_core::engine::{Reply, Round, Settled, Step, SyncMeta};
use guihai_core::qr::TrustedKey;
use guihai_core::sync::{
    Change, CodeResponse, Mutation, Op, PushRequest, PushResponse, Record, Rejection, SessionRequest, SessionResponse,
};
use guihai_core::Id;
use serde::de::DeserializeOwned;

use crate::spawned::Spawned;
use crate::{activities_of, fresh_id, now_ms};

/// The browser draws its jitter at random; a fixed one makes the backoff a test sees exact.
pub const JITTER: f64 = 0.0;
/// A round that takes more steps than this is stuck (the engine would loop forever).
const MAX_STEPS: usize = 100;

pub struct Phone {
    http: reqwest::Client,
    api: String,
    token: String,
    pub client_id: Id,
    pub me: Me,
    pub keys: Vec<TrustedKey>,
    pub meta: SyncMeta,
    /// Pending writes in `seq` order (the browser's `outbox:<seq>` keys).
    pub outbox: Vec<Mutation>,
    /// Writes the server refused for good, with its reason (the browser's `refused:<seq>` keys).
    pub refused: Vec<(Mutation, Rejection)>,
    /// Pulled records by key (the browser's `rec:<key>` keys).
    pub records: BTreeMap<String, Record>,
    /// Every push sent, with its answer.
    pub pushes: Vec<(Vec<Mutation>, Reply<PushResponse>)>,
}

impl Phone {
    /// A new installation signed in with `activation_code`.
    pub async fn sign_in(server: &Spawned, activation_code: &str) -> Phone {
        let http = reqwest::Client::builder()
            // A fresh connection for every request: a restarted server must not meet a dead pooled one.
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        let api = format!("http://{}/api/v1", server.addr);
        let client_id = fresh_id();
        let request = SessionRequest {
            activation_code: activation_code.to_owned(),
            client_id,
        };
        let sent = http.post(format!("{api}/session")).json(&request).send().await;
        let Reply::Ok(SessionResponse { token, me, keys, .. }) = reply(sent).await else {
            panic!("{activation_code} cannot sign in");
        };
        Phone {
            http,
            api,
            token,
            client_id,
            me,
            keys,
            meta: SyncMeta::default(),
            outbox: Vec::new(),
            refused: Vec::new(),
            records: BTreeMap::new(),
            pushes: Vec::new(),
        }
    }

    /// Scans `code`: the check-in is queued with the next number (`outbox::enqueue`). Returns its id.
    pub fn check_in(&mut self, code: &str) -> Id {
        let id = fresh_id();
        self.outbox.push(Mutation {
            seq: self.meta.take_seq(),
            occurred_at: now_ms(),
            op: Op::CheckIn {
                id,
                code: code.to_owned(),
            },
        });
        id
    }

    /// A write that took its number but was lost before it reached the outbox (say, a store that failed).
    pub fn lose_a_write(&mut self) -> u64 {
        self.meta.take_seq()
    }

    /// The numbers of the writes the server refused, with its reasons.
    pub fn refusals(&self) -> Vec<(u64, Rejection)> {
        self.refused
            .iter()
            .map(|(mutation, reason)| (mutation.seq, *reason))
            .collect()
    }

    /// One sync round, as `SyncService::round` runs it: returns how it ended (`Done`, `RetryIn` or `SignIn`).
    pub async fn sync(&mut self) -> Step {
        let mut round = Round::new();
        for _ in 0..MAX_STEPS {
            match round.next(&self.meta, &self.outbox) {
                Step::Push(mutations) => {
                    let request = PushRequest {
                        client_id: self.client_id,
                        mutations,
                    };
                    let sent = self.authorised(self.http.post(format!("{}/sync/push", self.api)).json(&request));
                    let answer = reply(sent.send().await).await;
                    self.pushes.push((request.mutations, answer.clone()));
                    let settled = round.on_push(&mut self.meta, answer, JITTER);
                    self.settle(&settled);
                }
                Step::Pull { cursor } => {
                    let sent = self
                        .authorised(self.http.get(format!("{}/sync/pull?cursor={cursor}", self.api)))
                        .header("X-Client-Id", self.client_id.to_string());
                    let answer = reply(sent.send().await).await;
                    let (changes, settled_through) = round.on_pull(&mut self.meta, answer, now_ms(), JITTER);
                    self.apply(changes);
                    self.outbox.retain(|m| m.seq > settled_through);
                }
                end => return end,
            }
        }
        panic!("the sync round did not end in {MAX_STEPS} steps: {:?}", self.pushes);
    }

    /// Carries out what the engine decided after a push answer (`outbox::settle`).
    fn settle(&mut self, settled: &Settled) {
        for (seq, reason) in &settled.rejected {
            if let Some(mutation) = self.outbox.iter().find(|m| m.seq == *seq) {
                self.refused.push((mutation.clone(), *reason));
            }
        }
        self.outbox.retain(|m| m.seq > settled.drop_through);
    }

    fn apply(&mut self, changes: Vec<Change>) {
        for change in changes {
            match change {
                Change::Upsert { record } => {
                    self.records.insert(record.key(), record);
                }
                Change::Delete { key } => {
                    self.records.remove(&key);
                }
            }
        }
    }

    /// The activities of this person's current organisation: (running now, ended yesterday, upcoming).
    pub fn activities(&self) -> (Activity, Activity, Activity) {
        activities_of(&self.me, self.records.values().cloned())
    }

    /// The activity's check-in code, as its organisation's secretary gets it.
    pub async fn code(&self, activity: &Activity) -> String {
        let url = format!("{}/activities/{}/code", self.api, activity.id);
        match reply::<CodeResponse>(self.authorised(self.http.get(url)).send().await).await {
            Reply::Ok(code) => code.payload,
            other => panic!("no code for {}: {other:?}", activity.title),
        }
    }

    fn authorised(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.bearer_auth(&self.token)
    }
}

/// How the phone reads an answer: core's `Reply::from_http`, so no client reads one its own way.
async fn reply<T: DeserializeOwned>(sent: reqwest::Result<reqwest::Response>) -> Reply<T> {
    let Ok(response) = sent else { return Reply::Failed };
    let status = response.status().as_u16();
    match response.bytes().await {
        Ok(body) => Reply::from_http(status, &body),
        Err(_) => Reply::Failed,
    }
}
