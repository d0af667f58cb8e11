//! Scripted scenarios for the sync engine against a fake server answering from in-memory logs:
//! connect sync with progress, batching and depth limits, pushes (contiguous, ahead, duplicate,
//! transient), reconnects resuming from stored cursors, history paging that fills holes.

mod sync_support;

use chorus_core::assert_ranges;
use chorus_core::model::{MessageStatus, Seq};
use chorus_core::sync::{MessageSource, Sync, SyncEvent};
use chorus_core::SeqRange;
use chorus_proto::constants::ReqIdentifier;
use chorus_proto::envelope::RequestPayload;
use chorus_proto::pb::sdkws::{MsgData, PullMsgs, PushMessages};
use sync_support::{cid, Client, FakeServer};

fn range(start: u64, end: u64) -> SeqRange {
    SeqRange::new(Seq(start), Seq(end)).unwrap()
}

fn progress(events: &[SyncEvent]) -> Vec<(u64, u64)> {
    events
        .iter()
        .filter_map(|e| match e {
            SyncEvent::SyncProgress { done, total } => Some((*done, *total)),
            _ => None,
        })
        .collect()
}

#[test]
fn initial_sync_pulls_every_conversation_with_progress() {
    let mut server = FakeServer::new();
    server.append("sg_a", 30);
    server.append("sg_b", 5);
    server.append("si_bob_me", 12);
    server.append("n_a", 3);
    let mut client = Client::new(Client::config());
    client.connect(&mut server);

    for (conv, max) in [("sg_a", 30), ("sg_b", 5), ("si_bob_me", 12)] {
        assert_eq!(client.stored_seqs(conv), (1..=max).collect::<Vec<_>>());
        let state = client.cursor(conv);
        assert_eq!(state.cursor, Seq(max));
        assert_eq!(state.floor, Seq(1));
    }
    // Old notifications are marked processed, not fetched.
    let n = client.cursor("n_a");
    assert_eq!((n.floor, n.cursor), (Seq(4), Seq(3)));
    assert_ranges!(n.known, empty);
    assert!(client.stored("n_a").is_empty());

    assert_eq!(server.count(ReqIdentifier::GetNewestSeq), 1);
    let pulls = server.pulls();
    assert_eq!(pulls.len(), 1, "47 seqs fit one request: {pulls:?}");
    let mut ranges = pulls[0].clone();
    ranges.sort();
    assert_eq!(
        ranges,
        vec![
            ("sg_a".to_owned(), 1, 30, 30),
            ("sg_b".to_owned(), 1, 5, 5),
            ("si_bob_me".to_owned(), 1, 12, 12),
        ]
    );

    let events = client.take_events();
    assert_eq!(events.first(), Some(&SyncEvent::SyncStarted { total: 47 }));
    assert_eq!(progress(&events), vec![(47, 47)]);
    assert_eq!(
        events.last(),
        Some(&SyncEvent::SyncFinished { complete: true })
    );
    let new: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            SyncEvent::NewMessages {
                conversation_id,
                messages,
                source: MessageSource::Pull,
            } => Some((conversation_id.to_string(), messages.len())),
            _ => None,
        })
        .collect();
    assert_eq!(
        new,
        vec![
            ("sg_a".to_owned(), 30),
            ("sg_b".to_owned(), 5),
            ("si_bob_me".to_owned(), 12)
        ]
    );
    // Nothing else to do: a second connect pulls nothing.
    client.connect(&mut server);
    assert_eq!(server.pulls().len(), 1);
    let events = client.take_events();
    assert_eq!(
        events,
        vec![
            SyncEvent::SyncStarted { total: 0 },
            SyncEvent::SyncFinished { complete: true }
        ]
    );
}

#[test]
fn pulls_are_batched_and_limited_in_flight() {
    let mut server = FakeServer::new();
    server.append("sg_a", 25);
    server.append("sg_b", 7);
    server.append("sg_c", 3);
    let mut config = Client::config();
    config.batch_size = 10;
    config.max_in_flight = 1;
    let mut client = Client::new(config);
    client.sync.on_connected();
    client.settle();
    assert_eq!(client.pending.len(), 1, "only the 1001 goes first");
    let req = client.pending.pop().unwrap();
    let answer = server.answer(&req);
    client.sync.handle_response(req.tag, answer);
    client.settle();
    assert_eq!(client.pending.len(), 1, "one pull in flight at a time");
    client.run(&mut server);

    let pulls = server.pulls();
    for pull in &pulls {
        let sum: i64 = pull.iter().map(|(_, b, e, _)| e - b + 1).sum();
        assert!(sum <= 10, "request over the batch size: {pull:?}");
        for (_, b, e, num) in pull {
            assert_eq!(*num, e - b + 1, "num is the range length");
        }
        let mut convs: Vec<&String> = pull.iter().map(|(c, ..)| c).collect();
        convs.dedup();
        assert_eq!(convs.len(), pull.len(), "a conversation once per request");
    }
    // Newest chunk of every conversation first.
    assert_eq!(pulls[0], vec![("sg_a".to_owned(), 16, 25, 10)]);
    assert_eq!(
        pulls[1],
        vec![("sg_b".to_owned(), 1, 7, 7), ("sg_c".to_owned(), 1, 3, 3)]
    );
    assert_eq!(pulls.len(), 4);
    for (conv, max) in [("sg_a", 25), ("sg_b", 7), ("sg_c", 3)] {
        assert_eq!(client.stored_seqs(conv), (1..=max).collect::<Vec<_>>());
        assert_eq!(client.cursor(conv).cursor, Seq(max));
    }
    let events = client.take_events();
    assert_eq!(
        progress(&events),
        vec![(10, 35), (20, 35), (30, 35), (35, 35)]
    );
    assert_eq!(
        events.last(),
        Some(&SyncEvent::SyncFinished { complete: true })
    );
}

#[test]
fn depth_limits_the_pull_and_raises_the_floor() {
    let mut server = FakeServer::new();
    server.append("sg_a", 50);
    let mut config = Client::config();
    config.depth = 10;
    let mut client = Client::new(config);
    client.connect(&mut server);
    assert_eq!(server.pulls(), vec![vec![("sg_a".to_owned(), 41, 50, 10)]]);
    let state = client.cursor("sg_a");
    assert_eq!((state.floor, state.cursor), (Seq(41), Seq(50)));
    assert_ranges!(state.known, [41..=50]);

    // A few more while offline: resumes from the cursor.
    server.append("sg_a", 5);
    client.connect(&mut server);
    assert_eq!(server.pulls()[1], vec![("sg_a".to_owned(), 51, 55, 5)]);

    // Far behind again: only the newest `depth`, older ones stay below the new floor.
    server.append("sg_a", 100);
    client.connect(&mut server);
    assert_eq!(server.pulls()[2], vec![("sg_a".to_owned(), 146, 155, 10)]);
    let state = client.cursor("sg_a");
    assert_eq!((state.floor, state.cursor), (Seq(146), Seq(155)));
    assert_ranges!(state.known, [41..=55] gap [146..=155]);
    assert!(
        !client
            .take_events()
            .iter()
            .any(|e| matches!(e, SyncEvent::GapOpened { .. })),
        "seqs below the floor are not gaps"
    );
}

#[test]
fn pushes_contiguous_ahead_duplicate_and_transient() {
    let mut server = FakeServer::new();
    server.append("sg_a", 5);
    let mut client = Client::new(Client::config());
    client.connect(&mut server);
    client.take_events();
    let pulls_before = server.pulls().len();

    // Contiguous: applied, nothing requested.
    server.append("sg_a", 1);
    client.push(&mut server, "sg_a", 6);
    assert_eq!(server.pulls().len(), pulls_before);
    let events = client.take_events();
    assert!(matches!(
        &events[..],
        [SyncEvent::NewMessages { source: MessageSource::Push, messages, .. }] if messages[0].seq == Seq(6)
    ));
    assert_eq!(client.cursor("sg_a").cursor, Seq(6));

    // Ahead: applied, the gap recorded and pulled.
    server.append("sg_a", 3);
    client.sync.handle_push(server.push_of("sg_a", 9));
    client.settle();
    assert_ranges!(client.cursor("sg_a").known, [1..=6] gap [9..=9]);
    assert_eq!(client.cursor("sg_a").cursor, Seq(6));
    assert_eq!(client.pending.len(), 1);
    client.run(&mut server);
    assert_eq!(
        server.pulls().last().unwrap(),
        &vec![("sg_a".to_owned(), 7, 8, 2)]
    );
    assert_ranges!(client.cursor("sg_a").known, [1..=9]);
    assert_eq!(client.cursor("sg_a").cursor, Seq(9));
    let events = client.take_events();
    let gap_events: Vec<&SyncEvent> = events
        .iter()
        .filter(|e| matches!(e, SyncEvent::GapOpened { .. } | SyncEvent::GapClosed { .. }))
        .collect();
    assert_eq!(
        gap_events,
        vec![
            &SyncEvent::GapOpened {
                conversation_id: cid("sg_a"),
                range: range(7, 8)
            },
            &SyncEvent::GapClosed {
                conversation_id: cid("sg_a"),
                range: range(7, 8)
            }
        ]
    );
    assert_eq!(client.stored_seqs("sg_a"), (1..=9).collect::<Vec<_>>());

    // Duplicate and behind: ignored, nothing persisted, no request.
    let requests = server.requests.len();
    client.push(&mut server, "sg_a", 9);
    client.push(&mut server, "sg_a", 3);
    assert!(client.take_events().is_empty());
    assert_eq!(server.requests.len(), requests);
    assert_eq!(client.stored_seqs("sg_a"), (1..=9).collect::<Vec<_>>());

    // Seq 0: an event, never stored.
    let mut transient = sync_support::wire_message("n_a", 0, "typing");
    transient.seq = 0;
    let mut push = PushMessages::default();
    push.notification_msgs.insert(
        "n_a".into(),
        PullMsgs {
            msgs: vec![transient.clone()],
            ..PullMsgs::default()
        },
    );
    client.sync.handle_push(push);
    client.run(&mut server);
    assert_eq!(
        client.take_events(),
        vec![SyncEvent::TransientNotification {
            conversation_id: cid("n_a"),
            msg: Box::new(transient)
        }]
    );
    assert!(client.stored("n_a").is_empty());
    assert!(!client.cursors().contains_key(&cid("n_a")));
}

#[test]
fn notification_pushes_are_stored_and_surfaced() {
    let mut server = FakeServer::new();
    server.append("sg_g", 2);
    server.append("n_g", 4);
    let mut client = Client::new(Client::config());
    client.connect(&mut server);
    assert_eq!(client.cursor("n_g").cursor, Seq(4));
    client.take_events();
    server.append("n_g", 1);
    client.push(&mut server, "n_g", 5);
    assert_eq!(client.stored_seqs("n_g"), vec![5]);
    assert_eq!(client.cursor("n_g").cursor, Seq(5));
    let events = client.take_events();
    assert!(matches!(
        &events[..],
        [SyncEvent::NewMessages { conversation_id, source: MessageSource::Push, .. }] if conversation_id == &cid("n_g")
    ));
}

#[test]
fn reconnect_resumes_from_stored_cursors() {
    let mut server = FakeServer::new();
    server.append("sg_a", 20);
    server.append("si_bob_me", 4);
    let mut client = Client::new(Client::config());
    client.connect(&mut server);
    client.take_events();

    // A fresh engine over the same store, as after a restart.
    let mut sync = Sync::new(Client::config());
    sync.load(client.cursors());
    client.sync = sync;
    server.append("sg_a", 7);
    client.connect(&mut server);
    let pulls = server.pulls();
    assert_eq!(pulls.len(), 2);
    assert_eq!(pulls[1], vec![("sg_a".to_owned(), 21, 27, 7)]);
    assert_eq!(client.stored_seqs("sg_a"), (1..=27).collect::<Vec<_>>());
    assert_eq!(client.cursor("sg_a").cursor, Seq(27));
    assert_eq!(
        client.take_events().first(),
        Some(&SyncEvent::SyncStarted { total: 7 })
    );
}

#[test]
fn answers_of_an_old_connection_are_ignored() {
    let mut server = FakeServer::new();
    server.append("sg_a", 8);
    let mut client = Client::new(Client::config());
    client.sync.on_connected();
    client.settle();
    let old_max = client.pending.pop().unwrap();
    client.sync.on_disconnected();
    client.sync.on_connected();
    let stale = server.answer(&old_max);
    client.sync.handle_response(old_max.tag, stale);
    client.settle();
    assert!(server.pulls().is_empty(), "stale answer planned nothing");
    client.run(&mut server);
    assert_eq!(client.stored_seqs("sg_a"), (1..=8).collect::<Vec<_>>());
    assert_eq!(server.pulls().len(), 1);
}

#[test]
fn failed_pulls_are_retried_then_given_up_without_looping() {
    let mut server = FakeServer::new();
    server.append("sg_a", 8);
    let mut config = Client::config();
    config.max_retries = 1;
    let mut client = Client::new(config);
    client.sync.on_connected();
    client.settle();
    let max = client.pending.pop().unwrap();
    let answer = server.answer(&max);
    client.sync.handle_response(max.tag, answer);
    client.settle();
    // First attempt fails: retried with a new tag.
    let pull = client.pending.pop().unwrap();
    client.sync.handle_request_failed(pull.tag);
    client.settle();
    let retry = client.pending.pop().unwrap();
    assert_ne!(retry.tag, pull.tag);
    assert_eq!(retry.payload, pull.payload);
    // Second failure: given up for this connection.
    client.sync.handle_request_failed(retry.tag);
    client.settle();
    assert!(client.pending.is_empty());
    let events = client.take_events();
    assert_eq!(
        events.last(),
        Some(&SyncEvent::SyncFinished { complete: false })
    );
    assert!(client.stored("sg_a").is_empty());
    // The next connection tries again and succeeds.
    client.connect(&mut server);
    assert_eq!(client.stored_seqs("sg_a"), (1..=8).collect::<Vec<_>>());
}

#[test]
fn history_pages_backwards_filling_holes() {
    let mut server = FakeServer::new();
    server.append("sg_a", 40);
    server.delete("sg_a", 15);
    let mut config = Client::config();
    config.depth = 10;
    let mut client = Client::new(config);
    client.connect(&mut server);
    assert_ranges!(client.cursor("sg_a").known, [31..=40]);
    client.take_events();

    // A small page leaves a hole below the floor.
    let first = client.sync.load_history(cid("sg_a"), Seq(26), 5);
    client.run(&mut server);
    assert_ranges!(client.cursor("sg_a").known, [21..=25] gap [31..=40]);
    let events = client.take_events();
    assert!(events.contains(&SyncEvent::HistoryLoaded {
        id: first,
        conversation_id: cid("sg_a"),
        page: Some(range(21, 25)),
        complete: true,
        reached_start: false,
    }));

    // The next page spans the hole and known seqs: only the hole is asked for, newest first.
    let second = client.sync.load_history(cid("sg_a"), Seq(31), 10);
    client.run(&mut server);
    let RequestPayload::PullMsgBySeqList(req) = server.requests.last().unwrap() else {
        panic!("expected a 1005 request");
    };
    assert_eq!(req.order, 1);
    assert_eq!(req.conversations.len(), 1);
    assert_eq!(req.conversations[0].conversation_id, "sg_a");
    assert_eq!(req.conversations[0].seqs, vec![30, 29, 28, 27, 26]);
    assert_ranges!(client.cursor("sg_a").known, [21..=40]);
    assert!(client.take_events().iter().any(|e| matches!(
        e,
        SyncEvent::HistoryLoaded { id, complete: true, .. } if *id == second
    )));

    // The rest, with a deleted message stored as a placeholder.
    let third = client.sync.load_history(cid("sg_a"), Seq(21), 50);
    client.run(&mut server);
    assert_ranges!(client.cursor("sg_a").known, [1..=40]);
    let stored = client.stored("sg_a");
    assert_eq!(stored.len(), 40);
    assert_eq!(stored[14].status, MessageStatus::Deleted);
    assert_eq!(stored[13].content.text(), Some("m14"));
    assert!(client.take_events().contains(&SyncEvent::HistoryLoaded {
        id: third,
        conversation_id: cid("sg_a"),
        page: Some(range(1, 20)),
        complete: true,
        reached_start: true,
    }));
    // The cursor and floor are untouched by history.
    let state = client.cursor("sg_a");
    assert_eq!((state.floor, state.cursor), (Seq(31), Seq(40)));

    // A page that is all known asks nothing.
    let requests = server.requests.len();
    let fourth = client.sync.load_history(cid("sg_a"), Seq(30), 10);
    client.run(&mut server);
    assert_eq!(server.requests.len(), requests);
    assert!(client.take_events().contains(&SyncEvent::HistoryLoaded {
        id: fourth,
        conversation_id: cid("sg_a"),
        page: Some(range(20, 29)),
        complete: true,
        reached_start: false,
    }));
}

#[test]
fn history_stops_at_the_first_visible_seq() {
    let mut server = FakeServer::new();
    server.append("sg_h", 12);
    server.convs.get_mut("sg_h").unwrap().lo = 5;
    let mut config = Client::config();
    config.depth = 4;
    let mut client = Client::new(config);
    client.connect(&mut server);
    assert_ranges!(client.cursor("sg_h").known, [9..=12]);
    let id = client.sync.load_history(cid("sg_h"), Seq(9), 20);
    client.run(&mut server);
    assert_ranges!(client.cursor("sg_h").known, [5..=12]);
    assert!(client.take_events().contains(&SyncEvent::HistoryLoaded {
        id,
        conversation_id: cid("sg_h"),
        page: Some(range(1, 8)),
        complete: true,
        reached_start: true,
    }));
    // Known to start at 5 now: the next page is empty and asks nothing.
    let requests = server.requests.len();
    let next = client.sync.load_history(cid("sg_h"), Seq(5), 20);
    client.run(&mut server);
    assert_eq!(server.requests.len(), requests);
    assert!(client.take_events().contains(&SyncEvent::HistoryLoaded {
        id: next,
        conversation_id: cid("sg_h"),
        page: None,
        complete: true,
        reached_start: true,
    }));
}

#[test]
fn malformed_entries_are_dropped_not_fatal() {
    let mut server = FakeServer::new();
    server.append("sg_a", 2);
    let mut client = Client::new(Client::config());
    client.connect(&mut server);
    client.take_events();
    let mut push = PushMessages::default();
    push.msgs.insert(
        "bogus".into(),
        PullMsgs {
            msgs: vec![MsgData {
                seq: 3,
                ..MsgData::default()
            }],
            ..PullMsgs::default()
        },
    );
    push.msgs.insert(
        "sg_a".into(),
        PullMsgs {
            msgs: vec![MsgData {
                seq: -4,
                ..MsgData::default()
            }],
            ..PullMsgs::default()
        },
    );
    client.sync.handle_push(push);
    client.run(&mut server);
    let events = client.take_events();
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events
        .iter()
        .all(|e| matches!(e, SyncEvent::Dropped { .. })));
    assert_eq!(client.stored_seqs("sg_a"), vec![1, 2]);
}

#[test]
fn commit_protocol_is_checked_and_raw_answers_are_decoded() {
    use chorus_core::sync::{SyncConfig, SyncError};
    use chorus_core::Changes;
    use chorus_proto::envelope::ResponsePayload;

    let mut server = FakeServer::new();
    server.append("sg_a", 3);
    let mut sync = Sync::new(SyncConfig::new("me"));
    assert_eq!(
        sync.commit(&Changes::new()),
        Err(SyncError::NothingToCommit)
    );
    sync.on_connected();
    let max = sync.poll_request().unwrap();
    assert_eq!(max.req_identifier, ReqIdentifier::GetNewestSeq);
    let answer = server.answer(&max);
    assert!(matches!(answer, ResponsePayload::GetNewestSeq(_)));
    // Raw protobuf bytes, as the connection delivers them.
    sync.handle_response_data(max.tag, &answer.encode_to_vec());
    let floors = sync.poll_changes().expect("the new conversation's floor");
    assert!(sync.poll_changes().is_none(), "one batch out at a time");
    assert_eq!(sync.commit(&Changes::new()), Err(SyncError::NotTheBatch));
    sync.commit(&floors).unwrap();
    let pull = sync.poll_request().unwrap();
    assert_eq!(pull.req_identifier, ReqIdentifier::PullMsgByRange);
    // Garbage counts as a failure and is retried.
    sync.handle_response_data(pull.tag, &[0xff, 0xff, 0xff]);
    let retry = sync.poll_request().unwrap();
    assert_eq!(retry.payload, pull.payload);
    let answer = server.answer(&retry);
    sync.handle_response(retry.tag, answer);
    let batch = sync.poll_changes().unwrap();
    assert_eq!(batch.messages.len(), 3);
    assert_eq!(batch.sync_states[&cid("sg_a")].cursor, Seq(3));
    // Nothing is released before the commit.
    while let Some(event) = sync.poll_event() {
        assert!(!matches!(event, SyncEvent::NewMessages { .. }), "{event:?}");
    }
    sync.commit(&batch).unwrap();
    let mut saw_new = false;
    while let Some(event) = sync.poll_event() {
        saw_new |= matches!(event, SyncEvent::NewMessages { .. });
    }
    assert!(saw_new);
    assert_eq!(sync.sync_state(&cid("sg_a")).unwrap().cursor, Seq(3));
    assert_eq!(sync.server_max_seq(&cid("sg_a")), Some(Seq(3)));
    assert!(sync.is_idle());
}

#[test]
fn conversation_rows_follow_new_messages() {
    use chorus_core::model::Conversation;
    use chorus_core::store::Store;

    let mut server = FakeServer::new();
    server.append("sg_a", 4);
    server.delete("sg_a", 4);
    server.append("n_a", 2);
    let mut sync = Sync::new({
        let mut c = Client::config();
        c.notification_initial_depth = 10;
        c
    });
    let store = chorus_core::MemoryStore::new();
    let mut pinned = Conversation::new(cid("sg_a"));
    pinned.is_pinned = true;
    pinned.has_read_seq = Seq(1);
    sync.on_connected();
    let mut rows_seen = Vec::new();
    for _ in 0..100 {
        while let Some(req) = sync.poll_request() {
            let answer = server.answer(&req);
            sync.handle_response(req.tag, answer);
        }
        let Some(mut changes) = sync.poll_changes() else {
            break;
        };
        let rows =
            sync.conversation_updates(&changes, |id| (id == &cid("sg_a")).then(|| pinned.clone()));
        changes.conversations.extend(rows.iter().cloned());
        futures::executor::block_on(store.save_changes(&changes)).unwrap();
        sync.commit(&changes).unwrap();
        rows_seen.extend(rows);
    }
    assert_eq!(rows_seen.len(), 1, "no row for the hidden n_ conversation");
    let row = &rows_seen[0];
    assert!(row.is_pinned, "other fields are kept");
    assert_eq!(row.max_seq, Seq(4));
    assert_eq!(row.has_read_seq, Seq(1));
    assert_eq!(row.unread_count(), 3);
    assert_eq!(
        row.latest_message.as_ref().map(|m| m.seq),
        Some(Seq(3)),
        "the deleted placeholder is not the latest message"
    );
    let stored = futures::executor::block_on(store.conversation(&cid("sg_a")))
        .unwrap()
        .unwrap();
    assert_eq!(&stored, row);
}
