//! Property: whatever happens to pushes (reordering, duplication, loss), to requests (answered
//! late, out of order, failed, answered after a reconnect) and whenever reconnects happen, once
//! the network is quiet and a last connect round has run, every conversation's stored messages
//! equal the server's log and every cursor equals the server's max seq. Every step is bounded, so
//! a livelock fails the test.

mod sync_support;

use chorus_core::model::{MessageStatus, Seq};
use chorus_core::store::Store;
use chorus_core::sync::{Sync, SyncConfig, SyncEvent};
use chorus_proto::pb::sdkws::PushMessages;
use proptest::prelude::*;
use sync_support::{cid, wire_message, Client, FakeServer};

const CONVS: [&str; 4] = ["sg_a", "sg_b", "si_bob_me", "n_a"];

#[derive(Debug, Clone)]
enum Op {
    /// The server stores `count` messages in a conversation (some as deleted placeholders) and
    /// pushes each one: lost, delivered later, or duplicated.
    Send {
        conv: usize,
        count: u64,
        deleted: bool,
        lost: bool,
        duplicated: bool,
    },
    /// One queued push arrives (any of them: reordering).
    Deliver(prop::sample::Index),
    /// One outstanding request is answered (any of them: out of order).
    Answer(prop::sample::Index),
    /// One outstanding request fails.
    Fail(prop::sample::Index),
    /// One batch is persisted and committed, events drained.
    Commit,
    /// The connection drops and comes back.
    Reconnect,
    /// The app restarts: a fresh engine loads the stored cursors (a batch not yet saved is
    /// lost, answers to the old engine's requests never arrive) and connects.
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..CONVS.len(), 1u64..5, any::<bool>(), prop::bool::weighted(0.3), prop::bool::weighted(0.2))
            .prop_map(|(conv, count, deleted, lost, duplicated)| Op::Send { conv, count, deleted: deleted && count > 2, lost, duplicated }),
        3 => any::<prop::sample::Index>().prop_map(Op::Deliver),
        3 => any::<prop::sample::Index>().prop_map(Op::Answer),
        1 => any::<prop::sample::Index>().prop_map(Op::Fail),
        3 => Just(Op::Commit),
        1 => Just(Op::Reconnect),
        1 => Just(Op::Restart),
    ]
}

struct World {
    server: FakeServer,
    client: Client,
    pushes: Vec<PushMessages>,
}

impl World {
    fn send(&mut self, conv: &str, count: u64, deleted: bool, lost: bool, duplicated: bool) {
        for i in 0..count {
            let seq = self.server.append(conv, 1);
            if deleted && i == 1 {
                self.server.delete(conv, seq);
            }
            if !lost {
                let push = self.server.push_of(conv, seq);
                if duplicated {
                    self.pushes.push(push.clone());
                }
                self.pushes.push(push);
            }
        }
    }

    fn commit_one(&mut self) {
        while let Some(req) = self.client.sync.poll_request() {
            self.client.pending.push(req);
        }
        if let Some(changes) = self.client.sync.poll_changes() {
            futures::executor::block_on(self.client.store.save_changes(&changes))
                .expect("every batch is accepted by the store");
            self.client.sync.commit(&changes).expect("commit");
        }
        while let Some(event) = self.client.sync.poll_event() {
            self.client.events.push(event);
        }
    }

    fn apply(&mut self, op: Op) -> Result<(), TestCaseError> {
        match op {
            Op::Send {
                conv,
                count,
                deleted,
                lost,
                duplicated,
            } => self.send(CONVS[conv], count, deleted, lost, duplicated),
            Op::Deliver(i) => {
                if !self.pushes.is_empty() {
                    let push = self.pushes.remove(i.index(self.pushes.len()));
                    self.client.sync.handle_push(push);
                }
            }
            Op::Answer(i) => {
                self.commit_one();
                if !self.client.pending.is_empty() {
                    let n = self.client.pending.len();
                    let req = self.client.pending.remove(i.index(n));
                    let answer = self.server.answer(&req);
                    self.client.sync.handle_response(req.tag, answer);
                }
            }
            Op::Fail(i) => {
                self.commit_one();
                if !self.client.pending.is_empty() {
                    let n = self.client.pending.len();
                    let req = self.client.pending.remove(i.index(n));
                    self.client.sync.handle_request_failed(req.tag);
                }
            }
            Op::Commit => self.commit_one(),
            Op::Reconnect => {
                self.client.sync.on_disconnected();
                self.client.sync.on_connected();
            }
            Op::Restart => {
                // The old engine's rounds end with it.
                check_rounds(&std::mem::take(&mut self.client.events), false)?;
                let mut sync = Sync::new(self.client.sync.config().clone());
                sync.load(self.client.cursors());
                sync.on_connected();
                self.client.sync = sync;
                self.client.pending.clear();
            }
        }
        Ok(())
    }

    /// What is stored is never wrong, only possibly incomplete.
    fn check_partial(&self) -> Result<(), TestCaseError> {
        for (id, state) in self.client.cursors() {
            let max = self.server.max(id.as_str());
            prop_assert!(
                state.cursor <= Seq(max),
                "{id}: cursor {} past max {max}",
                state.cursor
            );
            for message in self.client.stored(id.as_str()) {
                expect_same(id.as_str(), &message, &self.server)?;
            }
        }
        Ok(())
    }
}

fn expect_same(
    conv: &str,
    message: &chorus_core::Message,
    server: &FakeServer,
) -> Result<(), TestCaseError> {
    let seq = message.seq.0;
    let on_server = server
        .convs
        .get(conv)
        .and_then(|c| c.log.get(seq as usize - 1))
        .cloned();
    match on_server {
        Some(Some(m)) => {
            prop_assert_eq!(
                &message.client_msg_id,
                &m.client_msg_id,
                "{} seq {}",
                conv,
                seq
            );
            let text = format!("m{seq}");
            prop_assert_eq!(message.content.text(), Some(text.as_str()));
            let expected = wire_message(conv, seq, &format!("m{seq}"));
            prop_assert_eq!(&message.server_msg_id, &expected.server_msg_id);
        }
        Some(None) => prop_assert_eq!(&message.status, &MessageStatus::Deleted),
        None => prop_assert!(false, "{} seq {} stored but not on the server", conv, seq),
    }
    Ok(())
}

/// Rounds are bracketed (started, progress within bounds, finished). With `finished`, every
/// round ended and the last one, run on a quiet network, is complete; without, the last round
/// may still be open (its engine was dropped).
fn check_rounds(events: &[SyncEvent], finished: bool) -> Result<(), TestCaseError> {
    let mut open: Option<(u64, u64)> = None;
    let mut last_finish = None;
    for event in events {
        match event {
            SyncEvent::SyncStarted { total } => {
                prop_assert!(open.is_none(), "round started twice");
                open = Some((0, *total));
            }
            SyncEvent::SyncProgress { done, total } => {
                let Some((last, expected_total)) = open else {
                    return Err(TestCaseError::fail("progress outside a round"));
                };
                prop_assert_eq!(*total, expected_total);
                prop_assert!(
                    last <= *done && *done <= *total,
                    "progress {} of {}",
                    done,
                    total
                );
                open = Some((*done, *total));
            }
            SyncEvent::SyncFinished { complete } => {
                prop_assert!(open.is_some(), "finished without a start");
                open = None;
                last_finish = Some(*complete);
            }
            _ => {}
        }
    }
    if finished {
        prop_assert!(open.is_none(), "a round never finished");
        prop_assert_eq!(last_finish, Some(true));
    }
    Ok(())
}

fn config(batch_size: u64, max_in_flight: usize) -> SyncConfig {
    let mut config = SyncConfig::new("me");
    config.depth = 1_000_000;
    config.notification_initial_depth = 1_000_000;
    config.batch_size = batch_size;
    config.max_in_flight = max_in_flight;
    config.max_retries = 1;
    config
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_push_and_request_disorder_converges_to_the_server_log(
        initial in proptest::collection::vec(0u64..30, CONVS.len()),
        ops in proptest::collection::vec(op(), 0..120),
        batch_size in 1u64..25,
        max_in_flight in 1usize..4,
    ) {
        let mut world = World {
            server: FakeServer::new(),
            client: Client::new(config(batch_size, max_in_flight)),
            pushes: Vec::new(),
        };
        for (conv, n) in CONVS.iter().zip(&initial) {
            world.server.append(conv, *n);
        }
        world.client.sync.on_connected();
        for op in ops {
            world.apply(op)?;
            world.check_partial()?;
        }
        // The network quiets down: late pushes arrive, late answers are answered, then one
        // last connect round.
        for push in std::mem::take(&mut world.pushes) {
            world.client.sync.handle_push(push);
        }
        world.client.run(&mut world.server);
        world.client.connect(&mut world.server);

        let cursors = world.client.cursors();
        for conv in CONVS {
            let max = world.server.max(conv);
            let stored = world.client.stored(conv);
            let seqs: Vec<u64> = stored.iter().map(|m| m.seq.0).collect();
            prop_assert_eq!(seqs, (1..=max).collect::<Vec<_>>(), "{} seqs", conv);
            for message in &stored {
                expect_same(conv, message, &world.server)?;
            }
            if max > 0 {
                let state = &cursors[&cid(conv)];
                prop_assert_eq!(state.cursor, Seq(max), "{} cursor", conv);
                prop_assert_eq!(state.floor, Seq(1));
            }
        }
        check_rounds(&world.client.events, true)?;
        prop_assert!(world.client.sync.is_idle());
        prop_assert!(!world.client.sync.is_syncing());
    }
}
