/*
 * inbox.c: offramp inbox, a line-based terminal interface to all of one's
 * cases at once. It owns what the user sees of them: the list of cases
 * with unread counts, the case open now and its messages (time in UTC,
 * sender, text with its line breaks, ✓ once the server stored an own
 * message, ✓✓ once every other participant received it), clear lines
 * when a case comes, changes, or someone joins or leaves, and the line
 * being typed, drawn again below whatever arrives. It reads keystrokes
 * (term.h) when stdin and stdout are a terminal, plain lines otherwise.
 *
 * It never opens, seals or acknowledges a message but through
 * messages.h, which checks as recv and chat do; it never prints text of
 * others but through text.h. Messages of every case are opened, kept in
 * the history and acknowledged as they come; those of other cases than
 * the open one are counted as unread until it is opened. It keeps no
 * state across runs but what the store keeps (the history).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "proto/err.h"
#include "proto/frame.h"
#include "proto/ocrypto.h"
#include "account.h"
#include "cases.h"
#include "cli.h"
#include "conn.h"
#include "e2e.h"
#include "keyfile.h"
#include "messages.h"
#include "term.h"
#include "text.h"
#include "trust.h"

#define INBOX_CASES_MAX	100	/* cases followed (case.list has 100) */
#define INBOX_SHOWN	30	/* listed by /cases */
#define INBOX_HISTORY	20	/* messages shown when a case is opened */
#define INBOX_SENT_MAX	64	/* own messages followed for their marks */
#define INBOX_WINDOW	32	/* msg.send in flight at once */
#define INBOX_PEERS	8	/* receipts counted per message (copies) */
#define INBOX_NAME_COLS	24	/* of a name in the prompt and the list */
#define INBOX_INDENT	"        "	/* under a message's first line */

static const char MARK_SENT[] = "\u2713";		/* ✓ */
static const char MARK_DELIVERED[] = "\u2713\u2713";	/* ✓✓ */

/* One case as this run shows it; its object is in inbox.cases. */
struct icase {
	int64_t id;
	int num;		/* its number in this run's list, from 1 */
	int unread;		/* messages received here, not yet seen */
	int server_unread;	/* case.list's "unread" at the start */
	int64_t queue_pos;	/* the last place in the queue told */
};

/* An own message of this run, for its marks. */
struct sent {
	int64_t case_id;
	int64_t rid;		/* its msg.send in flight, or 0 */
	int64_t ts;		/* when the server stored it */
	char mid[OFR_B64_LEN(OFR_MID_BYTES)];
	char *text;		/* malloc'd */
	size_t len;
	int others;		/* participants it went to */
	uint8_t to[INBOX_PEERS][OFR_PK_BYTES];	/* receipts from */
	int nto;
	int stored;		/* the server's ack came */
};

struct inbox {
	struct cli *cli;
	json_t *cases;		/* the case objects, newest first */
	struct icase c[INBOX_CASES_MAX];
	int nc, next_num;
	int cur;		/* index in c of the open case, or -1 */
	char me[OFR_B64_LEN(OFR_PK_BYTES)];	/* my key */
	int counsellor;		/* I am one */
	struct msg_acks acks;
	struct sent sent[INBOX_SENT_MAX];	/* a ring */
	int next_sent, inflight;
	int keys;		/* keystroke mode (a terminal) */
	int drawn;		/* the prompt is on the screen */
	int esc;		/* in an escape sequence: 1 after ESC, 2 CSI */
	char *line;		/* the line being typed */
	size_t llen;
	char *msg;		/* the lines of a message so far (ended by
				 * "\") */
	size_t mlen;
	int quit;		/* /quit, Ctrl-D, end of stdin */
	int failed;		/* something not sent */
	int serve_failed;	/* offramp daemon: the caller went away */
};

static const char *
frame_type(json_t *f)
{
	const char *t = json_string_value(json_object_get(f, "type"));

	return t != NULL ? t : "";
}

/* --- the cases --- */

static struct icase *
icase_find(struct inbox *ib, int64_t id)
{
	for (int i = 0; i < ib->nc; i++)
		if (ib->c[i].id == id)
			return &ib->c[i];
	return NULL;
}

/* Follows case id (when there is room): its entry, or NULL. */
static struct icase *
icase_add(struct inbox *ib, int64_t id, int server_unread)
{
	struct icase *c = icase_find(ib, id);

	if (c != NULL || ib->nc == INBOX_CASES_MAX)
		return c;
	c = &ib->c[ib->nc++];
	memset(c, 0, sizeof(*c));
	c->id = id;
	c->num = ++ib->next_num;
	c->server_unread = server_unread;
	return c;
}

static int
unread_of(const struct icase *c)
{
	return c->unread > c->server_unread ? c->unread : c->server_unread;
}

static json_t *
kase_of(struct inbox *ib, const struct icase *c)
{
	return cases_find(ib->cases, c->id);
}

static const char *
status_of(json_t *kase)
{
	const char *s = json_string_value(json_object_get(kase, "status"));

	return s != NULL ? s : "?";
}

static int
is_me(struct inbox *ib, json_t *p)
{
	const char *k = json_string_value(json_object_get(p, "key"));

	return k != NULL && strcmp(k, ib->me) == 0;
}

/* Writes at most cols characters of s (text_puts), "…" when cut. */
static void
put_cut(const char *s, int cols)
{
	size_t n = 0;
	int chars = 0;

	if (s == NULL)
		s = "?";
	while (s[n] != '\0') {
		if (((unsigned char)s[n] & 0xc0) != 0x80 && chars++ == cols)
			break;
		n++;
	}
	text_put(stdout, s, n);
	if (s[n] != '\0')
		fputs("\u2026", stdout);
}

/* The names of the other participants of kase, ", " between them. */
static void
put_others(struct inbox *ib, json_t *kase, int cols)
{
	json_t *p;
	size_t i;
	int n = 0;

	json_array_foreach(json_object_get(kase, "participants"), i, p) {
		if (is_me(ib, p))
			continue;
		fputs(n++ ? ", " : "", stdout);
		put_cut(cases_participant_name(p), cols);
	}
	if (n == 0)
		fputs("nobody else yet", stdout);
}

/* "#N" and the other participants: how the inbox names a case. */
static void
put_case(struct inbox *ib, const struct icase *c)
{
	printf("#%d (", c->num);
	put_others(ib, kase_of(ib, c), INBOX_NAME_COLS);
	fputs(")", stdout);
}

static void
list_cases(struct inbox *ib)
{
	int shown = 0;

	printf("cases (%d):\n", ib->nc);
	for (int i = 0; i < ib->nc && shown < INBOX_SHOWN; i++, shown++) {
		struct icase *c = &ib->c[i];
		json_t *kase = kase_of(ib, c);

		printf("%s #%-3d case %lld  ", i == ib->cur ? ">" : " ",
		    c->num, (long long)c->id);
		text_puts(stdout, status_of(kase));
		fputs("  with ", stdout);
		put_others(ib, kase, INBOX_NAME_COLS);
		if (unread_of(c) > 0)
			printf("  %d unread", unread_of(c));
		fputc('\n', stdout);
	}
	if (ib->nc > shown)
		printf("  ... and %d more (/open ID)\n", ib->nc - shown);
	if (ib->nc == 0)
		fputs("  (no cases yet: a new one shows here when it comes)\n",
		    stdout);
}

/* --- printing messages --- */

/* "HH:MM" (UTC) for today, else "YYYY-MM-DD HH:MM". */
static void
put_time(int64_t t)
{
	time_t tt = (time_t)t, now = time(NULL);
	struct tm tm, today;
	char buf[32];

	if (gmtime_r(&tt, &tm) == NULL || gmtime_r(&now, &today) == NULL) {
		fputs("--:--", stdout);
		return;
	}
	strftime(buf, sizeof(buf), tm.tm_year == today.tm_year &&
	    tm.tm_yday == today.tm_yday ? "%H:%M" : "%Y-%m-%d %H:%M", &tm);
	fputs(buf, stdout);
}

/* Writes text (len bytes) line by line, every line after the first
 * indented under it. */
static void
put_lines(const char *text, size_t len)
{
	const char *nl;

	for (;;) {
		nl = memchr(text, '\n', len);
		text_put(stdout, text, nl != NULL ? (size_t)(nl - text) : len);
		if (nl == NULL)
			break;
		fputs("\n" INBOX_INDENT, stdout);
		len -= (size_t)(nl - text) + 1;
		text = nl + 1;
	}
}

/* One message: "TIME NAME: TEXT[ MARK]" (mark NULL: none). */
static void
put_message(int64_t ts, const char *name, const char *text, size_t len,
    const char *mark)
{
	put_time(ts);
	fputc(' ', stdout);
	text_puts(stdout, name);
	fputs(": ", stdout);
	put_lines(text, len);
	if (mark != NULL)
		printf(" %s", mark);
	fputc('\n', stdout);
}

static int
sent_delivered(const struct sent *s)
{
	return s->stored && s->nto >= s->others;
}

/* The mark of an own message of the history: ✓✓ when this run saw it
 * delivered, else ✓ (the history keeps what the server stored). */
static const char *
history_mark(struct inbox *ib, const struct ks_msg *m)
{
	for (int i = 0; i < INBOX_SENT_MAX; i++) {
		const struct sent *s = &ib->sent[i];

		if (s->text != NULL && s->stored && s->case_id == m->case_id &&
		    s->ts == m->ts && s->len == m->len &&
		    memcmp(s->text, m->text, m->len) == 0)
			return sent_delivered(s) ? MARK_DELIVERED : MARK_SENT;
	}
	return MARK_SENT;
}

/* Opens case c: its header, its last messages kept, and no more
 * unread. */
static void
open_case(struct inbox *ib, int idx)
{
	struct ks_state *s = keyfile_state(ib->cli->key);
	struct icase *c = &ib->c[idx];
	size_t n = 0, skip;

	ib->cur = idx;
	fputs("== case ", stdout);
	put_case(ib, c);
	printf(" %lld, ", (long long)c->id);
	text_puts(stdout, status_of(kase_of(ib, c)));
	fputs(" ==\n", stdout);
	for (size_t i = 0; i < s->n_msgs; i++)
		n += s->msgs[i].case_id == c->id;
	skip = n > INBOX_HISTORY ? n - INBOX_HISTORY : 0;
	if (skip > 0)
		printf("(%zu earlier messages: offramp history %lld)\n", skip,
		    (long long)c->id);
	for (size_t i = 0; i < s->n_msgs; i++) {
		const struct ks_msg *m = &s->msgs[i];

		if (m->case_id != c->id || (skip > 0 && skip--))
			continue;
		put_message(m->ts, m->sent ? "me" : m->name, m->text, m->len,
		    m->sent ? history_mark(ib, m) : NULL);
	}
	if (n == 0)
		fputs("(no messages yet)\n", stdout);
	c->unread = c->server_unread = 0;
}

static void
who(struct inbox *ib)
{
	json_t *kase, *p;
	size_t i;

	if (ib->cur < 0) {
		fputs("no case is open (/cases, /open N)\n", stdout);
		return;
	}
	kase = kase_of(ib, &ib->c[ib->cur]);
	printf("participants of case #%d:\n", ib->c[ib->cur].num);
	json_array_foreach(json_object_get(kase, "participants"), i, p) {
		fputs("  ", stdout);
		text_puts(stdout, cases_participant_name(p));
		fputs(" (", stdout);
		text_puts(stdout, json_string_value(json_object_get(p,
		    "role")));
		fputs(is_me(ib, p) ? ", you)\n" : ")\n", stdout);
	}
}

static void
help(void)
{
	fputs("commands (times are UTC):\n"
	    "  /cases          the cases, with unread counts\n"
	    "  /open N         open case N of the list (or a case ID)\n"
	    "  /who            the participants of the open case\n"
	    "  /help           this\n"
	    "  /quit           leave (or Ctrl-D on an empty line)\n"
	    "  TEXT            send TEXT to the open case\n"
	    "  TEXT\\           end a line with \\ to go on: a message of\n"
	    "                  several lines, sent at the first line without\n"
	    "                  it (/cancel drops it)\n"
	    "  //TEXT          send a text that begins with /\n"
	    "marks: " "\u2713" " the server has your message, " "\u2713\u2713"
	    " the others received it\n", stdout);
}

/* --- the prompt and the line being typed --- */

/* Code points in s[0..len). */
static size_t
chars(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

/* Draws the prompt and the line typed so far, on one row: only the end
 * of a line longer than the terminal is wide. */
static void
show(struct inbox *ib)
{
	const char *t = ib->line;
	size_t len = ib->llen, cols, used = 0;
	int total = 0;
	char prompt[64];

	if (!ib->keys || ib->drawn || ib->quit)
		return;
	for (int i = 0; i < ib->nc; i++)
		if (i != ib->cur)
			total += unread_of(&ib->c[i]);
	if (total > 0)
		used += (size_t)printf("[%d unread] ", total);
	if (ib->mlen > 0)
		snprintf(prompt, sizeof(prompt), "... ");
	else if (ib->cur < 0)
		snprintf(prompt, sizeof(prompt), "(no case)> ");
	else
		snprintf(prompt, sizeof(prompt), "#%d> ", ib->c[ib->cur].num);
	fputs(prompt, stdout);
	used += strlen(prompt);
	cols = (size_t)term_columns(1);
	if (used + chars(t, len) + 1 > cols && cols > used + 2) {
		while (len > 0 && chars(t, len) + used + 2 > cols) {
			t++;
			len--;
			while (len > 0 && ((unsigned char)*t & 0xc0) == 0x80) {
				t++;
				len--;
			}
		}
		fputc('<', stdout);
	}
	text_put(stdout, t, len);
	fflush(stdout);
	ib->drawn = 1;
}

/* Takes the prompt and the typed line off the screen, so that something
 * else can be printed in their place. */
static void
hide(struct inbox *ib)
{
	if (!ib->drawn)
		return;
	fputs("\r\033[K", stdout);
	fflush(stdout);
	ib->drawn = 0;
}

/* --- sending --- */

static void
sent_free(struct sent *s)
{
	if (s->text != NULL) {
		sodium_memzero(s->text, s->len);
		free(s->text);
	}
	memset(s, 0, sizeof(*s));
}

/* Sends text (len bytes) to the open case. */
static void
send_text(struct inbox *ib, const char *text, size_t len)
{
	struct cli *cli = ib->cli;
	uint8_t mid[OFR_MID_BYTES];
	struct sent *s;
	json_t *kase, *f = NULL;
	int64_t rid;

	if (ib->cur < 0) {
		fputs("no case is open: not sent (/cases, /open N)\n", stderr);
		ib->failed = 1;
		return;
	}
	kase = kase_of(ib, &ib->c[ib->cur]);
	if (!text_utf8_ok(text, len)) {
		fputs("offramp: not UTF-8 text: not sent\n", stderr);
		ib->failed = 1;
		return;
	}
	s = &ib->sent[ib->next_sent];
	if (s->rid != 0) {	/* the ring came round to one in flight */
		fputs("offramp: too many messages in flight: not sent\n",
		    stderr);
		ib->failed = 1;
		return;
	}
	randombytes_buf(mid, sizeof(mid));
	if (messages_seal(cli, kase, mid, text, len, &f) != 0 ||
	    cli_save(cli) != 0) {	/* durable before it leaves */
		json_decref(f);
		ib->failed = 1;
		return;
	}
	sent_free(s);
	if ((s->text = malloc(len + 1)) == NULL) {
		json_decref(f);
		cli_fail(OFR_E_NOMEM, "message not sent");
		ib->failed = 1;
		return;
	}
	memcpy(s->text, text, len);
	s->text[len] = '\0';
	s->len = len;
	s->case_id = ib->c[ib->cur].id;
	s->others = (int)json_array_size(json_object_get(kase,
	    "participants")) - 1;
	b64_encode(s->mid, sizeof(s->mid), mid, sizeof(mid));
	if (conn_send(cli->conn, f, &rid) != 0) {
		cli_fail(OFR_E_CONN, "message not sent: %s",
		    conn_error(cli->conn));
		sent_free(s);
		ib->failed = 1;
		return;
	}
	s->rid = rid;
	ib->inflight++;
	ib->next_sent = (ib->next_sent + 1) % INBOX_SENT_MAX;
}

/* The answer to one of our msg.send: the message is shown, with ✓. 0
 * when f answers none of them. */
static int
send_answer(struct inbox *ib, json_t *f)
{
	json_t *re = json_object_get(f, "re");
	struct icase *c;
	struct sent *s = NULL;

	if (!json_is_integer(re))
		return 0;
	for (int i = 0; i < INBOX_SENT_MAX && s == NULL; i++)
		if (ib->sent[i].rid != 0 &&
		    ib->sent[i].rid == json_integer_value(re))
			s = &ib->sent[i];
	if (s == NULL)
		return 1;	/* not ours to take: ignored */
	s->rid = 0;
	ib->inflight--;
	if (strcmp(frame_type(f), "error") == 0) {
		cli_fail_request(ib->cli, OFR_E_INTERNAL, f, "msg.send");
		fputs("not sent: ", stderr);
		text_put(stderr, s->text, s->len > 60 ? 60 : s->len);
		fputc('\n', stderr);
		sent_free(s);
		ib->failed = 1;
		return 1;
	}
	s->stored = 1;
	s->ts = (int64_t)time(NULL);
	if (keyfile_history_add(ib->cli->key, s->case_id, s->ts, 1, "me",
	    s->text, s->len) == 0)
		ib->cli->dirty = 1;
	c = icase_find(ib, s->case_id);
	if (c != NULL && ib->cur >= 0 && c != &ib->c[ib->cur]) {
		fputs("(in ", stdout);
		put_case(ib, c);
		fputs(") ", stdout);
	}
	put_message(s->ts, "me", s->text, s->len, sent_delivered(s) ?
	    MARK_DELIVERED : MARK_SENT);
	return 1;
}

/* A msg.delivered push: ✓✓ once every other participant has it. */
static void
delivered(struct inbox *ib, json_t *f)
{
	const char *mid = json_string_value(json_object_get(f, "mid"));
	const char *to = json_string_value(json_object_get(f, "to"));
	uint8_t key[OFR_PK_BYTES];
	struct sent *s = NULL;
	size_t n;
	int i, before;

	if (mid == NULL || to == NULL || b64_decode(key, sizeof(key), &n, to,
	    strlen(to)) != 0 || n != sizeof(key))
		return;
	for (i = 0; i < INBOX_SENT_MAX && s == NULL; i++)
		if (ib->sent[i].text != NULL && strcmp(ib->sent[i].mid,
		    mid) == 0)
			s = &ib->sent[i];
	if (s == NULL)
		return;	/* of another run, or forgotten */
	for (i = 0; i < s->nto; i++)
		if (memcmp(s->to[i], key, sizeof(key)) == 0)
			return;	/* told already */
	if (s->nto == INBOX_PEERS)
		return;
	before = sent_delivered(s);
	memcpy(s->to[s->nto++], key, sizeof(key));
	if (!before && sent_delivered(s) && ib->cur >= 0 &&
	    ib->c[ib->cur].id == s->case_id) {
		put_time((int64_t)time(NULL));
		printf(" %s delivered: \"", MARK_DELIVERED);
		put_cut(s->text, 40);
		fputs("\"\n", stdout);
	}
}

/* --- what arrives --- */

/* A case of a msg push that this run does not follow yet: case.list
 * asked again (its new cases checked). Borrowed, or NULL. */
static json_t *
case_for_msg(struct inbox *ib, int64_t id)
{
	json_t *kase = cases_find(ib->cases, id), *fresh = NULL, *k;
	size_t i;

	if (kase != NULL)
		return kase;
	if (cases_list(ib->cli, &fresh) != 0)
		return NULL;
	json_array_foreach(fresh, i, k) {
		int64_t kid = (int64_t)json_integer_value(json_object_get(k,
		    "id"));

		if (cases_find(ib->cases, kid) == NULL) {
			(void)trust_check_case(ib->cli, k);	/* warns */
			(void)icase_add(ib, kid, 0);
		}
	}
	json_decref(ib->cases);
	ib->cases = fresh;
	return cases_find(ib->cases, id);
}

/* A msg push: shown in the open case, else counted and told. */
static void
message(struct inbox *ib, json_t *f)
{
	int64_t id = (int64_t)json_integer_value(json_object_get(f, "case"));
	json_t *kase = case_for_msg(ib, id);
	struct icase *c = icase_find(ib, id);
	struct msg_in m;
	enum msg_fate fate;
	int before;

	fate = messages_take(ib->cli, kase, f, &m);
	if (fate == MSG_FAIL) {
		fprintf(stderr, "offramp: a message in case %lld could not be "
		    "checked: it stays on the server and comes again at the "
		    "next login\n", (long long)id);
		return;
	}
	if (fate == MSG_ACK || fate == MSG_NOTICE)
		(void)messages_ack_add(&ib->acks, f);
	if (fate == MSG_NOTICE)
		return;
	if (c != NULL && ib->cur >= 0 && c == &ib->c[ib->cur]) {
		put_message(m.ts, m.name, m.text != NULL ? m.text : m.mark,
		    m.text != NULL ? m.len : strlen(m.mark), NULL);
	} else if (c != NULL) {
		before = unread_of(c);
		c->unread++;
		if (unread_of(c) > before) {
			fputs("-- new message in ", stdout);
			put_case(ib, c);
			printf(": %d unread (/open %d)\n", unread_of(c),
			    c->num);
		}
	} else {
		fprintf(stdout, "-- a message in case %lld, which this inbox "
		    "does not follow\n", (long long)id);
	}
	fflush(stdout);
	messages_warn(&m);
	messages_in_clear(&m);
}

/* Who joined (in now, not in before) or left (the other way): a line
 * each. */
static void
joined_left(struct inbox *ib, struct icase *c, json_t *before, json_t *now,
    const char *what)
{
	json_t *p;
	size_t i;

	json_array_foreach(before, i, p) {
		if (cases_with_key(now, json_object_get(p, "key")) != NULL)
			continue;
		fputs("-- ", stdout);
		put_case(ib, c);
		fputs(": ", stdout);
		if (is_me(ib, p)) {
			printf("you %s the case\n", what);
			continue;
		}
		text_puts(stdout, cases_participant_name(p));
		fputs(" (", stdout);
		text_puts(stdout, json_string_value(json_object_get(p,
		    "role")));
		printf(") %s\n", what);
	}
}

/* A "case" push: a new case, a new status, someone joined or left. */
static void
case_push(struct inbox *ib, json_t *push)
{
	json_t *kase = json_object_get(push, "case"), *old, *before = NULL;
	json_t *now;
	int64_t id = (int64_t)json_integer_value(json_object_get(kase, "id"));
	const char *status;
	struct icase *c;
	size_t i;

	if (!json_is_object(kase) || id <= 0 ||
	    !cases_current(cases_find(ib->cases, id), kase))
		return;		/* older than the case held: left unread */
	(void)trust_check_case(ib->cli, kase);	/* warns */
	cases_keep_shown(ib->cli, kase);
	/* the old object stays ours until the end: status points into it */
	old = json_incref(cases_find(ib->cases, id));
	if (old != NULL) {
		before = json_incref(json_object_get(old, "participants"));
		status = status_of(old);
		json_array_foreach(ib->cases, i, now)
			if (json_integer_value(json_object_get(now, "id")) ==
			    id)
				break;
		json_array_set(ib->cases, i, kase);
	} else {
		status = NULL;
		json_array_insert(ib->cases, 0, kase);
	}
	if ((c = icase_add(ib, id, 0)) == NULL) {
		printf("-- case %lld: not followed (this inbox follows %d "
		    "cases)\n", (long long)id, INBOX_CASES_MAX);
		json_decref(before);
		json_decref(old);
		return;
	}
	now = json_object_get(kase, "participants");
	if (status == NULL) {
		fputs("-- ", stdout);
		put_case(ib, c);
		printf(" case %lld: %s", (long long)id, ib->counsellor ?
		    "assigned to you" : "new, ");
		if (!ib->counsellor)
			text_puts(stdout, status_of(kase));
		printf(" (/open %d)\n", c->num);
	} else {
		if (strcmp(status, status_of(kase)) != 0) {
			fputs("-- ", stdout);
			put_case(ib, c);
			fputs(": case ", stdout);
			text_puts(stdout, status_of(kase));
			fputc('\n', stdout);
		}
		joined_left(ib, c, now, before, "joined");
		joined_left(ib, c, before, now, "left");
	}
	json_decref(before);
	json_decref(old);
	if (ib->cur < 0)
		open_case(ib, (int)(c - ib->c));
}

/* A "queue" push: the place of a waiting case, told when it moved. */
static void
queue_push(struct inbox *ib, json_t *f)
{
	struct icase *c = icase_find(ib, (int64_t)json_integer_value(
	    json_object_get(f, "case")));
	int64_t pos = (int64_t)json_integer_value(json_object_get(f,
	    "queue_position"));

	if (c == NULL || pos <= 0 || pos == c->queue_pos)
		return;
	c->queue_pos = pos;
	fputs("-- ", stdout);
	put_case(ib, c);
	printf(": waiting for a counsellor, place %lld in the queue\n",
	    (long long)pos);
}

static void
frame(struct inbox *ib, json_t *f)
{
	const char *type = frame_type(f);

	if (send_answer(ib, f))
		return;
	if (strcmp(type, "msg") == 0)
		message(ib, f);
	else if (strcmp(type, "msg.delivered") == 0)
		delivered(ib, f);
	else if (strcmp(type, "case") == 0)
		case_push(ib, f);
	else if (strcmp(type, "queue") == 0)
		queue_push(ib, f);
	else if (strcmp(type, "prekeys.low") == 0 &&
	    e2e_replenish(ib->cli, f) != 0)
		ib->failed = 1;
}

/* --- what the user types --- */

/* /open WHAT: a number of the list, else a case id. */
static void
cmd_open(struct inbox *ib, const char *what)
{
	int64_t n;

	if (cli_parse_id(what, &n) != 0) {
		fputs("/open N: N is a number of /cases, or a case ID\n",
		    stdout);
		return;
	}
	for (int i = 0; i < ib->nc; i++)
		if (ib->c[i].num == n) {
			open_case(ib, i);
			return;
		}
	for (int i = 0; i < ib->nc; i++)
		if (ib->c[i].id == n) {
			open_case(ib, i);
			return;
		}
	printf("no case %lld here (/cases)\n", (long long)n);
}

/* A command (a line that begins with one "/"). */
static void
command(struct inbox *ib, const char *line)
{
	const char *arg = strchr(line, ' ');
	size_t n = arg != NULL ? (size_t)(arg - line) : strlen(line);

	while (arg != NULL && *arg == ' ')
		arg++;
#define IS(w)	(n == strlen(w) && strncmp(line, w, n) == 0)
	if (IS("/quit") || IS("/q"))
		ib->quit = 1;
	else if (IS("/cases") || IS("/c"))
		list_cases(ib);
	else if ((IS("/open") || IS("/o")) && arg != NULL && *arg != '\0')
		cmd_open(ib, arg);
	else if (IS("/who") || IS("/w"))
		who(ib);
	else if (IS("/help") || IS("/h") || IS("/?"))
		help();
	else if (IS("/cancel"))
		fputs("nothing to cancel\n", stdout);
	else {
		fputs("unknown command: ", stdout);
		put_cut(line, 20);
		fputs(" (/help)\n", stdout);
	}
#undef IS
}

/* A whole line typed (without its newline). */
static void
line_done(struct inbox *ib, const char *line, size_t len)
{
	int more = len > 0 && line[len - 1] == '\\';

	if (ib->mlen == 0 && len > 0 && line[0] == '/' &&
	    (len < 2 || line[1] != '/')) {
		command(ib, line);
		return;
	}
	if (ib->mlen > 0 && len == 7 && memcmp(line, "/cancel", 7) == 0) {
		sodium_memzero(ib->msg, ib->mlen);
		ib->mlen = 0;
		fputs("(message dropped)\n", stdout);
		return;
	}
	if (ib->mlen == 0 && len > 1 && line[0] == '/') {
		line++;		/* "//": a text that begins with "/" */
		len--;
	}
	if (more)
		len--;
	if (ib->mlen + len + 1 > CLI_TEXT_MAX) {
		fprintf(stderr, "offramp: a message is at most %d bytes: not "
		    "sent\n", CLI_TEXT_MAX);
		sodium_memzero(ib->msg, ib->mlen);
		ib->mlen = 0;
		ib->failed = 1;
		return;
	}
	memcpy(ib->msg + ib->mlen, line, len);
	ib->mlen += len;
	if (more) {
		ib->msg[ib->mlen++] = '\n';
		if (ib->keys) {
			fputs("  | ", stdout);
			text_put(stdout, line, len);
			fputc('\n', stdout);
		}
		return;
	}
	if (ib->mlen > 0)
		send_text(ib, ib->msg, ib->mlen);
	sodium_memzero(ib->msg, ib->mlen);
	ib->mlen = 0;
}

/* Keystrokes (n bytes) of a terminal in non-canonical mode. */
static void
keys(struct inbox *ib, const char *k, size_t n)
{
	for (size_t i = 0; i < n && !ib->quit; i++) {
		unsigned char ch = (unsigned char)k[i];

		if (ib->esc == 1) {	/* ESC x: CSI and SS3 go on */
			ib->esc = ch == '[' || ch == 'O' ? 2 : 0;
			continue;
		}
		if (ib->esc == 2) {	/* ... up to a final byte */
			if (ch >= 0x40 && ch <= 0x7e)
				ib->esc = 0;
			continue;
		}
		switch (ch) {
		case 0x1b:
			ib->esc = 1;
			break;
		case '\r':
		case '\n':
			hide(ib);
			ib->line[ib->llen] = '\0';
			line_done(ib, ib->line, ib->llen);
			sodium_memzero(ib->line, ib->llen);
			ib->llen = 0;
			break;
		case 0x04:	/* Ctrl-D: leave, on an empty line */
			if (ib->llen == 0) {
				hide(ib);
				ib->quit = 1;
			}
			break;
		case 0x7f:
		case 0x08:	/* erase one character */
			while (ib->llen > 0 && ((unsigned char)ib->line[
			    ib->llen - 1] & 0xc0) == 0x80)
				ib->llen--;
			if (ib->llen > 0)
				ib->llen--;
			break;
		case 0x15:	/* Ctrl-U: erase the line */
			ib->llen = 0;
			break;
		case 0x17:	/* Ctrl-W: erase a word */
			while (ib->llen > 0 && ib->line[ib->llen - 1] == ' ')
				ib->llen--;
			while (ib->llen > 0 && ib->line[ib->llen - 1] != ' ')
				ib->llen--;
			break;
		default:
			if (ch < 0x20)
				break;	/* other controls: nothing */
			if (ib->llen >= CLI_TEXT_MAX) {
				fputc('\a', stdout);
				break;
			}
			ib->line[ib->llen++] = (char)ch;
		}
	}
	hide(ib);
}

/* --- the loop --- */

/* Events until the user leaves and what was sent is answered. 0 or an
 * error code (printed). */
static int
loop(struct inbox *ib)
{
	struct cli *cli = ib->cli;
	struct conn_event ev;
	int64_t deadline = 0;
	int rc, flags;

	for (;;) {
		if (ib->acks.n > 0 && !conn_has_frames(cli->conn)) {
			hide(ib);
			if ((rc = messages_ack_flush(cli, ib->cases,
			    &ib->acks)) != 0)
				return rc;
		}
		if (ib->quit && deadline == 0)
			deadline = cli_now_ms() + cli->timeout_ms;
		if (ib->quit && ib->inflight == 0)
			return cli_save(cli);
		show(ib);
		flags = !ib->quit && ib->inflight < INBOX_WINDOW ?
		    CONN_WANT_STDIN : 0;
		rc = conn_wait(cli->conn, &ev, flags, ib->quit ?
		    (int)(deadline > cli_now_ms() ? deadline - cli_now_ms() : 0) : -1);
		if (rc == OFR_E_TIMEOUT) {
			hide(ib);
			return cli_fail(rc, "%d messages not answered within "
			    "%d ms", ib->inflight, cli->timeout_ms);
		}
		if (rc != 0) {
			hide(ib);
			return cli_fail(rc, "%s", conn_error(cli->conn));
		}
		switch (ev.kind) {
		case CONN_EV_LINE:
			if (ib->keys) {
				keys(ib, ev.data, ev.len);
			} else {
				hide(ib);
				line_done(ib, ev.data, ev.len);
			}
			break;
		case CONN_EV_LINE_LONG:
			fprintf(stderr, "offramp: a line over %d bytes: not "
			    "sent\n", CLI_TEXT_MAX);
			ib->failed = 1;
			break;
		case CONN_EV_EOF:
			hide(ib);
			ib->quit = 1;
			break;
		case CONN_EV_FRAME:
			hide(ib);
			frame(ib, ev.frame);
			fflush(stdout);
			break;
		case CONN_EV_WATCH:	/* offramp daemon: others wait */
			if ((rc = cli_serve(cli)) != 0) {
				conn_event_clear(&ev);
				ib->serve_failed = 1;
				return rc;
			}
			break;
		}
		if (ev.data != NULL)
			sodium_memzero(ev.data, ev.len);
		conn_event_clear(&ev);
	}
}

/* The start: the banner, the cases, and one of them open (the first
 * with unread messages, else the first). */
static void
start(struct inbox *ib)
{
	const char *name = json_string_value(json_object_get(ib->cli->account,
	    "name"));
	int first = -1;

	fputs("offramp inbox", stdout);
	if (name != NULL) {
		fputs(" of ", stdout);
		text_puts(stdout, name);
	}
	printf(": /help for the commands, /quit or Ctrl-D to leave; times "
	    "are UTC\n");
	list_cases(ib);
	for (int i = 0; i < ib->nc && first < 0; i++)
		if (unread_of(&ib->c[i]) > 0)
			first = i;
	if (first < 0 && ib->nc > 0)
		first = 0;
	if (first >= 0)
		open_case(ib, first);
	fflush(stdout);
}

int
cmd_inbox(struct cli *cli, int argc, char **argv)
{
	struct inbox *ib;
	json_t *kase;
	const char *role;
	size_t i;
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, NULL, NULL, 0, &npos)) != 0)
		return rc;
	if ((rc = account_login(cli)) != 0)
		return rc;
	role = json_string_value(json_object_get(cli->account, "role"));
	if (role != NULL && strcmp(role, "admin") == 0)
		return cli_fail(OFR_E_FORBIDDEN, "an admin is in no case: the "
		    "inbox is for clients and counsellors");
	if ((ib = calloc(1, sizeof(*ib))) == NULL ||
	    (ib->line = malloc(CLI_TEXT_MAX + 1)) == NULL ||
	    (ib->msg = malloc(CLI_TEXT_MAX + 1)) == NULL) {
		if (ib != NULL)
			free(ib->line);
		free(ib);
		return cli_fail(OFR_E_NOMEM, "inbox");
	}
	ib->cli = cli;
	ib->cur = -1;
	ib->counsellor = role != NULL && strcmp(role, "counsellor") == 0;
	b64_encode(ib->me, sizeof(ib->me), keyfile_pk(cli->key), OFR_PK_BYTES);
	if ((rc = cases_list(cli, &ib->cases)) != 0)
		goto out;
	json_array_foreach(ib->cases, i, kase) {
		(void)trust_check_case(cli, kase);	/* warns */
		(void)icase_add(ib, (int64_t)json_integer_value(
		    json_object_get(kase, "id")), (int)json_integer_value(
		    json_object_get(kase, "unread")));
	}
	/* keystrokes on a terminal (signals give it back, but in offramp
	 * daemon, whose caller's side does), else lines */
	ib->keys = isatty(0) && isatty(1) &&
	    term_save(0, cli->daemon == NULL) == 0;
	if (ib->keys && term_keys() != 0) {
		term_restore();
		ib->keys = 0;
	}
	rc = ib->keys ? conn_watch_stdin_raw(cli->conn) :
	    conn_watch_stdin(cli->conn, CLI_TEXT_MAX);
	if (rc != 0) {
		term_restore();
		rc = cli_fail(rc, "cannot watch stdin");
		goto out;
	}
	start(ib);
	rc = loop(ib);
	hide(ib);
	fflush(stdout);
	if (ib->serve_failed)
		term_forget();	/* the caller's side gives it back */
	else
		term_restore();
	if (rc == 0 && ib->failed)
		rc = OFR_E_CONN;	/* told when it happened */
out:
	for (int k = 0; k < INBOX_SENT_MAX; k++)
		sent_free(&ib->sent[k]);
	json_decref(ib->cases);
	sodium_memzero(ib->line, CLI_TEXT_MAX + 1);
	sodium_memzero(ib->msg, CLI_TEXT_MAX + 1);
	free(ib->line);
	free(ib->msg);
	free(ib);
	return rc;
}
