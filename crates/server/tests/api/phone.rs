//! A native phone: the browser app's sync driver (`src/sync/mod.rs`) run natively on the same core engine and
//! outbox (`Round`, `SyncMeta`, `outbox::{enqueue, number, fate}`), with its outbox rows in memory, against a
//! real server process over HTTP. It keeps every push it sent with the answer it got, so a test can say what
//! happened on the wire.

use std::collections::BTreeMap;
use std::time::Duration;

use guihai_core::domain::{Activity, Me};
use guihai_core::engine::{Reply, Round, Settled, Step, SyncMeta};
use guihai_core::outbox::{Fate, InMemory};
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
    /// Writes waiting for the server, by row (the browser's `outbox` store).
    pub outbox: InMemory<Write>,
    /// Writes set aside because they no longer read back (the browser's `damaged` store).
    pub damaged: Vec<Write>,
    /// Writes the server refused for good, with its reason (the browser's `refused` store).
    pub refused: Vec<(Mutation, Rejection)>,
    /// Pulled records by key (the browser's `records` store).
    pub records: BTreeMap<String, Record>,
    /// Every push sent, with its answer.
    pub pushes: Vec<(Vec<Mutation>, Reply<PushResponse>)>,
}

/// A local write as the phone makes it.
#[derive(Debug, Clone)]
pub struct Write {
    pub occurred_at: i64,
    pub op: Op,
}

impl Phone {
    /// A new installation signed in with `activation_code`.
    /// Signs in again on the same installation (its session ended), keeping everything it holds.
    pub async fn sign_in_again(&mut self, activation_code: &str) -> Step {
        let request = SessionRequest {
            activation_code: activation_code.to_owned(),
            client_id: self.client_id,
        };
        let sent = self
            .http
            .post(format!("{}/session", self.api))
            .json(&request)
            .send()
            .await;
        let Reply::Ok(SessionResponse { token, .. }) = reply(sent).await else {
            panic!("{activation_code} cannot sign in again");
        };
        self.token = token;
        self.sync().await
    }

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
            outbox: InMemory::default(),
            damaged: Vec::new(),
            refused: Vec::new(),
            records: BTreeMap::new(),
            pushes: Vec::new(),
        }
    }

    /// Scans `code`: the check-in is stored with its row and no number (`outbox::enqueue`). Returns its id.
    pub fn check_in(&mut self, code: &str) -> Id {
        let id = fresh_id();
        let op = Op::CheckIn {
            id,
            code: code.to_owned(),
        };
        self.outbox.push(
            &self.meta,
            Write {
                occurred_at: now_ms(),
                op,
            },
        );
        id
    }

    /// The latest write, not numbered yet, stops reading back (say, a faulty build wrote it).
    pub fn damage_latest_write(&mut self) {
        let (row, _) = self.outbox.rows().last().expect("a write to damage");
        assert!(row > self.meta.numbered_row, "only a write not yet numbered");
        self.outbox.get_mut(row).expect("listed").damaged = true;
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
            let head = self.head(round.batch());
            match round.next(&self.meta, &head) {
                Step::Push(mutations) => {
                    let request = PushRequest {
                        client_id: self.client_id,
                        mutations,
                        sent_at: None,
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
                    self.settle(&Settled {
                        drop_through: settled_through,
                        rejected: Vec::new(),
                    });
                }
                end => return end,
            }
        }
        panic!("the sync round did not end in {MAX_STEPS} steps: {:?}", self.pushes);
    }

    /// The numbered writes the server has not settled, in `seq` order, at most `limit`, numbering the writes
    /// stored since as that takes; a damaged one is set aside (`outbox::number`).
    fn head(&mut self, limit: usize) -> Vec<Mutation> {
        let (head, damaged) = self.outbox.head(&mut self.meta, limit);
        self.damaged.extend(damaged);
        head.into_iter()
            .map(|(seq, write)| Mutation {
                seq,
                occurred_at: write.occurred_at,
                op: write.op,
            })
            .collect()
    }

    /// Carries out what the engine decided after an answer (`outbox::fate` for every numbered write).
    fn settle(&mut self, settled: &Settled) {
        for (seq, write, fate) in self.outbox.settle(&mut self.meta, settled) {
            if let Fate::Refused(reason) = fate {
                let mutation = Mutation {
                    seq,
                    occurred_at: write.occurred_at,
                    op: write.op,
                };
                self.refused.push((mutation, reason));
            }
        }
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
