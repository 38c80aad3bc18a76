//! The phone's outbox, as every client keeps it: the browser (IndexedDB), the native test phone and the model
//! test all call these functions, so the numbering that ships is the numbering that is tested.
//!
//! A local write takes a *row* when it is stored: its place in write order on this phone, given inside the
//! write's own transaction (`enqueue`). It takes its *sequence number* (`seq`, what the server counts) only
//! later, in the one tab that syncs, just before its first push (`number`). Numbering late means a write that
//! cannot be read back (damaged) never takes a number: it is set aside, kept and shown, and never sent as a
//! skip. Rows are numbered in row order, so among the numbered writes row order is `seq` order.
//!
//! A write leaves the outbox when the server has settled it (applied, duplicate or refused): `fate` says which.

use std::collections::BTreeMap;

use crate::engine::{Settled, SyncMeta};
use crate::sync::{Rejection, MAX_PUSH_BATCH};

/// Takes the row for a new local write and counts it as waiting. The caller stores the write and `meta` in one
/// transaction, so two tabs writing at once never share a row.
pub fn enqueue(meta: &mut SyncMeta) -> u64 {
    meta.next_row += 1;
    meta.waiting += 1;
    meta.next_row
}

/// What numbering found in a row after `SyncMeta::numbered_row`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// A write that reads back: it takes the next number.
    Readable(u64),
    /// A row whose stored value cannot be read: it takes no number and leaves the outbox (the caller keeps it
    /// aside as damaged, to show and export).
    Damaged(u64),
}

/// Numbers the rows stored since the last numbering, in row order (call only while holding the sync lock, in
/// the transaction that stores the numbers). Returns `(row, seq)` for each readable row; damaged rows stop
/// counting as waiting. Every row looked at is marked as looked at, so none is numbered twice.
pub fn number(meta: &mut SyncMeta, found: impl IntoIterator<Item = Found>) -> Vec<(u64, u64)> {
    let mut numbered = Vec::new();
    for found in found {
        match found {
            Found::Readable(row) => {
                meta.last_seq += 1;
                numbered.push((row, meta.last_seq));
                meta.numbered_row = meta.numbered_row.max(row);
            }
            Found::Damaged(row) => {
                meta.waiting = meta.waiting.saturating_sub(1);
                meta.numbered_row = meta.numbered_row.max(row);
            }
        }
    }
    numbered
}

/// What a push answer (or a pull's `last_seq`) means for one numbered write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Not settled yet: it stays and is sent again.
    Waits,
    /// Applied (or already applied earlier): it leaves the outbox; the server's record stands for it.
    Done,
    /// The server will never accept it: it leaves the outbox and is kept aside with the reason.
    Refused(Rejection),
}

/// The fate of the write numbered `seq` after `settled`.
pub fn fate(seq: u64, settled: &Settled) -> Fate {
    if seq > settled.drop_through {
        return Fate::Waits;
    }
    match settled.rejected.iter().find(|(refused, _)| *refused == seq) {
        Some((_, reason)) => Fate::Refused(*reason),
        None => Fate::Done,
    }
}

/// Counts a write that left the outbox (`Fate::Done` or `Fate::Refused`).
pub fn leave(meta: &mut SyncMeta) {
    meta.waiting = meta.waiting.saturating_sub(1);
}

/// An outbox kept in memory, as a native client keeps it (the native test phone, the model test): the same rows,
/// numbering and settling as the browser's, over a map instead of IndexedDB.
#[derive(Debug, Clone)]
pub struct InMemory<T> {
    rows: BTreeMap<u64, Queued<T>>,
}

/// A write in an `InMemory` outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued<T> {
    pub seq: Option<u64>,
    pub write: T,
    /// Its stored value no longer reads back (as a faulty build could leave it).
    pub damaged: bool,
}

impl<T> Default for InMemory<T> {
    fn default() -> Self {
        InMemory { rows: BTreeMap::new() }
    }
}

impl<T: Clone> InMemory<T> {
    /// Stores a write with the next row (`enqueue`); returns the row.
    pub fn push(&mut self, meta: &mut SyncMeta, write: T) -> u64 {
        let row = enqueue(meta);
        let queued = Queued {
            seq: None,
            write,
            damaged: false,
        };
        self.rows.insert(row, queued);
        row
    }

    pub fn rows(&self) -> impl Iterator<Item = (u64, &Queued<T>)> {
        self.rows.iter().map(|(row, queued)| (*row, queued))
    }

    pub fn get_mut(&mut self, row: u64) -> Option<&mut Queued<T>> {
        self.rows.get_mut(&row)
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Numbers what was stored since the last numbering (`number`); returns the damaged writes, set aside.
    pub fn number(&mut self, meta: &mut SyncMeta) -> Vec<T> {
        let found: Vec<Found> = self
            .rows
            .range(meta.numbered_row + 1..)
            .map(|(row, queued)| match queued.damaged {
                true => Found::Damaged(*row),
                false => Found::Readable(*row),
            })
            .collect();
        let mut damaged = Vec::new();
        for found in &found {
            if let Found::Damaged(row) = found {
                damaged.extend(self.rows.remove(row).map(|queued| queued.write));
            }
        }
        for (row, seq) in number(meta, found) {
            if let Some(queued) = self.rows.get_mut(&row) {
                queued.seq = Some(seq);
            }
        }
        damaged
    }

    /// The numbered writes the server has not settled, in `seq` order, as many as one push takes.
    pub fn head(&self, meta: &SyncMeta) -> Vec<(u64, T)> {
        self.rows
            .values()
            .filter_map(|queued| Some((queued.seq.filter(|seq| *seq > meta.acked_seq)?, queued.write.clone())))
            .take(MAX_PUSH_BATCH)
            .collect()
    }

    /// Carries out `settled` (`fate`): returns the writes that left the outbox, each with its number and fate.
    pub fn settle(&mut self, meta: &mut SyncMeta, settled: &Settled) -> Vec<(u64, T, Fate)> {
        let numbered: Vec<(u64, u64)> = self.rows.iter().filter_map(|(row, q)| Some((*row, q.seq?))).collect();
        let mut left = Vec::new();
        for (row, seq) in numbered {
            let fate = fate(seq, settled);
            if fate != Fate::Waits {
                if let Some(queued) = self.rows.remove(&row) {
                    leave(meta);
                    left.push((seq, queued.write, fate));
                }
            }
        }
        left
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_taken_at_write_time_and_numbers_only_when_numbered() {
        let mut meta = SyncMeta::default();
        let rows: Vec<u64> = (0..3).map(|_| enqueue(&mut meta)).collect();
        assert_eq!(rows, [1, 2, 3]);
        assert_eq!((meta.waiting, meta.last_seq), (3, 0));
        let numbered = number(&mut meta, rows.iter().map(|&row| Found::Readable(row)));
        assert_eq!(numbered, [(1, 1), (2, 2), (3, 3)]);
        assert_eq!(meta.numbered_row, 3);
        let later = enqueue(&mut meta);
        assert_eq!(number(&mut meta, [Found::Readable(later)]), [(4, 4)]);
    }

    #[test]
    fn a_damaged_row_takes_no_number_and_stops_waiting() {
        let mut meta = SyncMeta::default();
        for _ in 0..3 {
            enqueue(&mut meta);
        }
        let numbered = number(&mut meta, [Found::Readable(1), Found::Damaged(2), Found::Readable(3)]);
        assert_eq!(numbered, [(1, 1), (3, 2)], "the numbers stay contiguous, no skip");
        assert_eq!((meta.waiting, meta.numbered_row, meta.last_seq), (2, 3, 2));
    }

    #[test]
    fn settled_writes_leave_refused_ones_with_their_reason() {
        let settled = Settled {
            drop_through: 5,
            rejected: vec![(4, Rejection::Forbidden)],
        };
        assert_eq!(fate(3, &settled), Fate::Done);
        assert_eq!(fate(4, &settled), Fate::Refused(Rejection::Forbidden));
        assert_eq!(fate(6, &settled), Fate::Waits);
    }
}
