/*
 * relay.c: the durable relay of opaque ciphertext. A message is stored as
 * one copy per recipient; the sender's answer waits for the turn's commit
 * (session.c holds it); copies go out in seq order to every connection of
 * the recipient within a bounded window: from memory, right after their
 * commit, to a connection that has everything before them (push_fresh),
 * else from the store (relay_pump; always, of several nodes on one
 * database: cluster.c); a copy is deleted
 * when its recipient acks it, and its sender is told (msg.delivered, one
 * push per copy deleted, never stored). It never looks inside a ciphertext.
 * Other nodes of the same database are told of both (cluster.c): their
 * connections of the recipient fetch the copy from the store, and the
 * sender's there are told of its delivery.
 * What waits for one recipient is bounded (srv->queue_copies and
 * srv->queue_bytes: a send over it is refused whole, recipient_full), and
 * a full disk refuses sends (storage_full) while acks go on freeing room.
 * Below that, backpressure: a send that leaves more than PACE_COPIES
 * copies waiting for a connected recipient is stored, but its answer is
 * paced (session_reply_text): it goes once that recipient's acks bring
 * its copies back to PACE_COPIES, or at a deadline (5 s without an ack
 * from it, 30 s at most), so that senders go no faster than their
 * recipients read.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cluster.h"
#include "handlers.h"
#include "log.h"
#include "metrics.h"
#include "proto/err.h"
#include "store.h"

#define PUMP_BATCH	64
#define PACE_COPIES	32	/* copies waiting for a connected recipient
				 * past which its senders are paced */

/* Reads copy i of the copies array into the server's scratch buffer and
 * finds its recipient among the participants: OFR_E_NOT_TOLD for one
 * still joining (PROTOCOL.md, "Co-counselling"). */
static int
read_copy(struct server *srv, json_t *e, size_t i,
    const struct peer *p, size_t np, int64_t sender,
    int64_t *recipient, size_t *ct_len)
{
	struct frame_in sub = { .root = e };
	uint8_t to[OFR_PK_BYTES];
	size_t n;

	if (!json_is_object(e) ||
	    frame_bin(&sub, "to", OFR_PK_BYTES, OFR_PK_BYTES, 1, to, &n) ||
	    frame_bin(&sub, "ct", 1, OFR_CT_MAX, 1, srv->copies[i], ct_len))
		return OFR_E_BAD_FIELD;
	for (size_t j = 0; j < np; j++)
		if (p[j].account != sender &&
		    memcmp(p[j].key, to, OFR_PK_BYTES) == 0) {
			*recipient = p[j].account;
			return p[j].joining ? OFR_E_NOT_TOLD : 0;
		}
	return OFR_E_BAD_RECIPIENTS;
}

#define B64_LEN(n)	OFR_B64_LEN(n)

/* The start of an answer of type to request re, as frame_new() and
 * json_dumps() would write it, into text; its length, or 0 when it does
 * not fit. */
static size_t
answer_start(char *text, size_t room, const char *type, int64_t re)
{
	int k = re > 0 ?
	    snprintf(text, room, "{\"v\":%d,\"type\":\"%s\",\"re\":%" PRId64,
	    OFR_PROTO_VERSION, type, re) :
	    snprintf(text, room, "{\"v\":%d,\"type\":\"%s\"",
	    OFR_PROTO_VERSION, type);

	return k < 0 || (size_t)k >= room ? 0 : (size_t)k;
}

/* The answer to a send, paced for recipient pace_on (0: not paced),
 * written as text (the relay's most frequent answer). */
static int
reply_sent(struct session *s, struct frame_in *in,
    const uint8_t mid[OFR_MID_BYTES], int dup, int64_t pace_on)
{
	char text[80 + B64_LEN(OFR_MID_BYTES)];
	size_t n = answer_start(text, sizeof(text), "msg.send.ok", in->id);
	int k;

	if (n == 0)
		return OFR_E_INTERNAL;
	memcpy(text + n, ",\"mid\":\"", 8);
	n += 8;
	b64_encode_public(text + n, sizeof(text) - n, mid, OFR_MID_BYTES);
	n += B64_LEN(OFR_MID_BYTES) - 1;
	k = snprintf(text + n, sizeof(text) - n, "\",\"dup\":%s}",
	    dup ? "true" : "false");
	if (k < 0 || (size_t)k >= sizeof(text) - n)
		return OFR_E_INTERNAL;
	session_reply_text(s, text, n + (size_t)k, in->id, pace_on);
	return 0;
}

/* OFR_E_RECIPIENT_FULL when a copy would take a recipient's stored queue
 * over srv->queue_copies copies or srv->queue_bytes bytes. *pace_on: the
 * first connected recipient it takes over PACE_COPIES, or 0. The bytes
 * are summed (every copy's row read) only when the copies, each of
 * OFR_CT_MAX bytes at most, could be over srv->queue_bytes: with the
 * defaults, past 4,095 copies. */
static int
check_room(struct server *srv, const int64_t *recipients,
    const size_t *ct_len, size_t n, int64_t *pace_on)
{
	int64_t copies, bytes;
	int rc;

	*pace_on = 0;
	for (size_t i = 0; i < n; i++) {
		if ((rc = store_recipient_queue(srv->st, recipients[i],
		    &copies, NULL)) != 0)
			return rc;
		if (srv->queue_copies > 0 && copies + 1 > srv->queue_copies)
			return OFR_E_RECIPIENT_FULL;
		if (srv->queue_bytes > 0 &&
		    (copies + 1) * OFR_CT_MAX > srv->queue_bytes &&
		    ((rc = store_recipient_queue(srv->st, recipients[i],
		    &copies, &bytes)) != 0 ||
		    bytes + (int64_t)ct_len[i] > srv->queue_bytes))
			return rc != 0 ? rc : OFR_E_RECIPIENT_FULL;
		if (*pace_on == 0 && copies + 1 > PACE_COPIES &&
		    session_account_online(recipients[i]))
			*pace_on = recipients[i];
	}
	return 0;
}

/* The text of a msg push, as frame_new() and json_dumps() would write it
 * (the same keys in the same order), at most OFR_CT_MAX bytes of
 * ciphertext in base64. */
#define MSG_TEXT_MAX	(160 + B64_LEN(OFR_MID_BYTES) + \
			    B64_LEN(OFR_PK_BYTES) + B64_LEN(OFR_CT_MAX))

static char msg_text[MSG_TEXT_MAX];

/* Writes the msg push of copy d into msg_text, without building it as a
 * JSON object (a push is the relay's most frequent frame, its ciphertext
 * most of it). Its length, or 0 when d does not fit (it cannot: ct is
 * checked against OFR_CT_MAX before it is stored). */
static size_t
msg_format(const struct delivery *d)
{
	size_t n, room = sizeof(msg_text);
	int k;

	if (d->ct_len > OFR_CT_MAX)
		return 0;
	k = snprintf(msg_text, room, "{\"v\":%d,\"type\":\"msg\","
	    "\"seq\":%" PRId64 ",\"case\":%" PRId64 ",\"ts\":%" PRId64
	    ",\"mid\":\"", OFR_PROTO_VERSION, d->seq, d->case_id, d->ts);
	if (k < 0 || (size_t)k >= room)
		return 0;
	n = (size_t)k;
	b64_encode_public(msg_text + n, room - n, d->mid, OFR_MID_BYTES);
	n += B64_LEN(OFR_MID_BYTES) - 1;
	memcpy(msg_text + n, "\",\"from\":\"", 10);
	n += 10;
	b64_encode_public(msg_text + n, room - n, d->from_key, OFR_PK_BYTES);
	n += B64_LEN(OFR_PK_BYTES) - 1;
	memcpy(msg_text + n, "\",\"ct\":\"", 8);
	n += 8;
	b64_encode_public(msg_text + n, room - n, d->ct, d->ct_len);
	n += B64_LEN(d->ct_len) - 1;
	memcpy(msg_text + n, "\"}", 2);
	return n + 2;
}

/* A copy read from the store: pushed as committed. */
static int
push_one(void *arg, const struct delivery *d)
{
	struct session *s = arg;
	size_t len = msg_format(d);

	if (len == 0)
		return OFR_E_INTERNAL;
	session_push_msg(s, msg_text, len, 0);
	s->cursor = d->seq;
	s->inflight++;
	return 0;
}

/* A copy just stored, and its msg push once written (one text for
 * every connection of its recipient). */
struct fresh {
	const struct delivery *d;
	size_t len;			/* of its text in msg_text; 0: not
					 * written yet */
};

/*
 * A copy just stored, fr->d, for session s of its recipient: pushed from
 * memory when s has everything stored before it (caught up) and room in
 * its window, held like an answer until the commit and its sync (dropped
 * with the commit, which undoes the cursor: session.c, unwind); else s
 * fetches it from the store after the commit (relay_pump).
 */
static void
push_fresh(struct session *s, void *arg)
{
	struct fresh *fr = arg;

	/* Of several nodes, another may have committed a copy for s
	 * since s caught up, its note not here yet: caught_up says only
	 * what this node stored, and the store serves them in order. */
	if (cluster_enabled() || !s->caught_up ||
	    s->inflight >= SESSION_INFLIGHT_MAX ||
	    s->out_bytes > SESSION_OUT_HIGH ||
	    (fr->len == 0 && (fr->len = msg_format(fr->d)) == 0)) {
		s->caught_up = 0;
		s->want_pump = 1;
		session_touch(s);
		return;
	}
	if (!s->fresh_turn) {
		s->fresh_turn = 1;
		s->cursor_undo = s->cursor;
		s->inflight_undo = s->inflight;
	}
	session_push_msg(s, msg_text, fr->len, 1);
	s->cursor = fr->d->seq;
	s->inflight++;
}

int
relay_send(struct session *s, struct frame_in *in)
{
	struct server *srv = s->srv;
	struct peer p[MODEL_PARTICIPANTS_MAX];
	int64_t recipients[OFR_COPIES_MAX], seqs[OFR_COPIES_MAX], pace_on;
	int64_t case_id;
	const uint8_t *ct[OFR_COPIES_MAX];
	size_t ct_len[OFR_COPIES_MAX], np, ncopies, n, told = 0;
	uint8_t mid[OFR_MID_BYTES];
	json_t *copies, *e;
	int rc, dup = 0, status, member = 0, crowded;

	if ((rc = frame_bin(in, "mid", OFR_MID_BYTES, OFR_MID_BYTES, 1, mid,
	    &n)) != 0 ||
	    (rc = frame_array(in, "copies", OFR_COPIES_MAX, 1, &copies)) != 0 ||
	    (rc = frame_int(in, "case", 1, OFR_ID_MAX, 1, &case_id)) != 0)
		return rc;
	/* Who sends first: a mid is no way past a refusal. The case is
	 * not locked: a send changes no case, and is the hot path. Its
	 * participants and status in one read; a case of more than it may
	 * have (crowded: the store's promise broken) is refused only where
	 * a read of all its participants would fail, after the checks that
	 * need none of them. */
	rc = store_case_peers(srv->st, case_id, p, MODEL_PARTICIPANTS_MAX,
	    &np, &status);
	if (rc != 0 && rc != OFR_E_LIMIT)
		return rc;
	if ((crowded = rc == OFR_E_LIMIT) &&
	    (rc = store_case_has_participant(srv->st, case_id, s->acct.id,
	    &member)) != 0)
		return rc;
	for (size_t j = 0; j < np && !crowded; j++)
		member |= p[j].account == s->acct.id;
	if (!member)
		return OFR_E_NOT_FOUND;	/* as for no such case */
	/* A retry of a stored message is answered as one, whatever became
	 * of the case since: the sender must not think it was lost. */
	if ((rc = store_message_seen(srv->st, s->acct.id, mid, &dup)) != 0)
		return rc;
	if (dup)
		return reply_sent(s, in, mid, 1, 0);
	/* The room left on a full disk is for acks (store_full). */
	if (store_full(srv->st))
		return OFR_E_STORAGE_FULL;
	if (status == CASE_CLOSED)
		return OFR_E_CASE_CLOSED;
	if (status == CASE_WAITING)
		return OFR_E_CASE_WAITING;	/* active and paused cases relay */
	if (crowded)
		return OFR_E_LIMIT;
	/* Nobody writes to, or as, a participant not everyone was told of. */
	for (size_t j = 0; j < np; j++) {
		if (p[j].joining && p[j].account == s->acct.id)
			return OFR_E_NOT_TOLD;
		told += !p[j].joining && p[j].account != s->acct.id;
	}

	ncopies = json_array_size(copies);
	json_array_foreach(copies, n, e) {
		if ((rc = read_copy(srv, e, n, p, np, s->acct.id,
		    &recipients[n], &ct_len[n])) != 0) {
			if (rc == OFR_E_BAD_FIELD)
				in->bad_field = "copies";
			return rc;
		}
		for (size_t j = 0; j < n; j++)
			if (recipients[j] == recipients[n])
				return OFR_E_BAD_RECIPIENTS;
		ct[n] = srv->copies[n];
	}
	/* Every other participant told of, exactly once: nobody is left
	 * out. */
	if (ncopies != told)
		return OFR_E_BAD_RECIPIENTS;
#ifdef OFFRAMP_POSTGRES
	/* Across nodes, copies commit in the order of their seqs, and the
	 * queue's bound counts every node's (cluster.c). */
	if ((rc = store_lock(srv->st, STORE_LOCK_DELIVERIES)) != 0)
		return rc;
#endif
	if ((rc = check_room(srv, recipients, ct_len, ncopies,
	    &pace_on)) != 0)
		return rc;

	if ((rc = store_message_insert(srv->st, case_id, s->acct.id, mid,
	    srv->now, recipients, ct, ct_len, ncopies, &dup, seqs)) != 0)
		return rc;
	if ((rc = reply_sent(s, in, mid, dup, dup ? 0 : pace_on)) != 0)
		return rc;
	if (dup)
		return 0;
	metrics_stored(ncopies);
	for (size_t i = 0; i < ncopies; i++) {
		struct delivery d = {
			.seq = seqs[i], .case_id = case_id, .mid = mid,
			.from_key = s->acct.key, .ts = srv->now, .ct = ct[i],
			.ct_len = ct_len[i],
		};
		struct fresh fr = { &d, 0 };

		session_each_account(recipients[i], push_fresh, &fr);
		cluster_note_messages(recipients[i]);
	}
	return 0;
}

void
relay_tell_delivered(int64_t sender, int64_t case_id,
    const uint8_t mid[OFR_MID_BYTES], const uint8_t to[OFR_PK_BYTES])
{
	char text[160 + B64_LEN(OFR_MID_BYTES) + B64_LEN(OFR_PK_BYTES)];
	size_t n;
	int k;

	k = snprintf(text, sizeof(text), "{\"v\":%d,\"type\":"
	    "\"msg.delivered\",\"case\":%" PRId64 ",\"mid\":\"",
	    OFR_PROTO_VERSION, case_id);
	if (k < 0 || (size_t)k >= sizeof(text))
		return;
	n = (size_t)k;
	b64_encode_public(text + n, sizeof(text) - n, mid, OFR_MID_BYTES);
	n += B64_LEN(OFR_MID_BYTES) - 1;
	memcpy(text + n, "\",\"to\":\"", 8);
	n += 8;
	b64_encode_public(text + n, sizeof(text) - n, to, OFR_PK_BYTES);
	n += B64_LEN(OFR_PK_BYTES) - 1;
	memcpy(text + n, "\"}", 2);
	session_push_account_text(sender, text, n + 2, NULL);
}

/* The receipt of a copy s's account acked: a msg.delivered push to the
 * sender's sessions, held until the ack's commit, written as text at once
 * (one per copy acked, the relay's second most frequent push), and a
 * note for the sender's sessions on other nodes (cluster.c). A sender
 * no longer in the case (a counsellor who left it) learns nothing. */
static void
tell_delivered(struct session *s, const struct copy_source *src)
{
	if (!src->sender_stays)
		return;
	relay_tell_delivered(src->sender, src->case_id, src->mid,
	    s->acct.key);
	cluster_note_delivered(src->sender, src->case_id, src->mid,
	    s->acct.id);
}

/* The senders paced for s's account go once its acks have brought what
 * waits for it back to PACE_COPIES copies; until then each ack gives
 * them more time (a store that cannot count leaves them to their
 * deadline). */
static void
unpace(struct session *s)
{
	int64_t copies;

	if (!session_paced_on(s->acct.id))
		return;
	if (store_recipient_queue(s->srv->st, s->acct.id, &copies,
	    NULL) != 0)
		log_err("relay: cannot count the copies waiting");
	else if (copies <= PACE_COPIES)
		session_unpark(s->acct.id);
	else
		session_paced_progress(s->acct.id);
}

int
relay_ack(struct session *s, struct frame_in *in)
{
	int64_t seqs[OFR_ACKS_MAX];
	char text[96];
	json_t *arr, *e;
	size_t i, n, k;
	int rc, m, deleted, acked = 0;

	if ((rc = frame_array(in, "seqs", OFR_ACKS_MAX, 1, &arr)) != 0)
		return rc;
	n = json_array_size(arr);
	if (n == 0) {
		in->bad_field = "seqs";
		return OFR_E_BAD_FIELD;
	}
	json_array_foreach(arr, i, e) {
		if (!json_is_integer(e) || json_integer_value(e) < 1) {
			in->bad_field = "seqs";
			return OFR_E_BAD_FIELD;
		}
		seqs[i] = json_integer_value(e);
	}
	for (i = 0; i < n; i++) {
		struct copy_source src;
		int known;

		rc = store_delivery_source(s->srv->st, s->acct.id, seqs[i],
		    &src);
		if (rc != 0 && rc != OFR_E_NOT_FOUND)
			return rc;
		known = rc == 0;
		if ((rc = store_delivery_ack(s->srv->st, s->acct.id, seqs[i],
		    &deleted)) != 0)
			return rc;
		if (deleted && known)
			tell_delivered(s, &src);
		acked += deleted;
	}
	if ((k = answer_start(text, sizeof(text), "msg.ack.ok",
	    in->id)) == 0 ||
	    (m = snprintf(text + k, sizeof(text) - k, ",\"acked\":%d}",
	    acked)) < 0 || (size_t)m >= sizeof(text) - k)
		return OFR_E_INTERNAL;
	session_reply_text(s, text, k + (size_t)m, in->id, 0);
	metrics_delivered((size_t)acked);
	if (acked > 0)
		unpace(s);
	/* The window opens by what is gone from the store after the
	 * commit (relay_pump counts it), never by the seqs named: one seq
	 * named 256 times frees one place at most. */
	s->want_pump = 1;
	session_touch(s);
	return 0;
}


/* A read of the pump failed: the session keeps want_pump, and session.c
 * pumps it again in a moment (nothing else might: no ack, no new copy).
 * One line a retry, however many sessions failed. */
static void
pump_failed(struct session *s, const char *what)
{
	if (session_pump_again(s))
		log_err("relay: cannot %s: tried again in %d s", what,
		    SESSION_PUMP_RETRY_SECS);
}

void
relay_pump(struct session *s)
{
	size_t room;
	int64_t before = s->cursor, left;
	unsigned sent_before;

	s->caught_up = 0;		/* until the store says so */
	/* In flight: the copies pushed here (seq up to the cursor) still
	 * stored, whoever acked the others (any connection of the account,
	 * or the retention job). */
	if (s->cursor > 0) {
		if (store_deliveries_upto(s->srv->st, s->acct.id, s->cursor,
		    &left) != 0) {
			pump_failed(s, "count the copies in flight");
			return;
		}
		s->inflight = left > SESSION_INFLIGHT_MAX ?
		    SESSION_INFLIGHT_MAX : (unsigned)left;
	}
	room = SESSION_INFLIGHT_MAX - s->inflight;
	sent_before = s->inflight;
	if (s->inflight >= SESSION_INFLIGHT_MAX || s->out_bytes >
	    SESSION_OUT_HIGH)
		return;			/* an ack or a drained queue calls again */
	if (room > PUMP_BATCH)
		room = PUMP_BATCH;
	if (store_deliveries_each(s->srv->st, s->acct.id, s->cursor, room,
	    push_one, s) < 0) {
		pump_failed(s, "read stored messages");
		return;
	}
	if (s->inflight - sent_before < room) {
		s->want_pump = 0;	/* caught up */
		s->caught_up = 1;
	} else if (s->cursor != before) {
		session_touch(s);	/* more may wait: next turn */
	}
}
