/*
 * meetings.c: the commands meeting (propose, accept, decline, cancel,
 * reschedule), meetings (the case's meetings as the key file kept them)
 * and agreement (propose, revise, accept, show), and the readable form
 * of both kinds and of a referral card (referral.c). What a case's meetings and agreement are now is read
 * again, each time, from the meeting and agreement messages the key
 * file kept (ks_item, sent and received, oldest first); the server never
 * sees them: they are envelopes like texts (messages_send).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "proto/envelope.h"
#include "proto/err.h"
#include "cli.h"
#include "keyfile.h"
#include "meetings.h"
#include "messages.h"
#include "text.h"

static const char *const meeting_verb[] = {
	"", "proposed", "accepted", "declined", "cancelled", "rescheduled",
};
static const char *const agreement_verb[] = {
	"", "proposed", "accepted", "revised",
};
static const char *const agreement_label[ENVELOPE_AGREEMENT_FIELDS] = {
	"objectives", "formats", "how often", "in a crisis",
};
static const char *const referral_label[ENVELOPE_REFERRAL_FIELDS] = {
	"[referral to ", "; contact: ", "; what to expect: ",
	"; what to say: ",
};

/* A growing string. */
struct buf {
	char *p;
	size_t len, cap;
	int err;
};

static void
put(struct buf *b, const void *s, size_t n)
{
	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t ncap = (b->len + n + 1) * 2;
		char *p = malloc(ncap);

		if (p == NULL) {
			b->err = 1;
			return;
		}
		if (b->p != NULL) {
			memcpy(p, b->p, b->len);
			sodium_memzero(b->p, b->cap);
			free(b->p);
		}
		b->p = p;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* "YYYY-MM-DD HH:MM UTC" of t into s (at least 32 bytes). */
static void
when_str(char *s, size_t n, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(s, n, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(s, n, "@%" PRId64, t);
}

int
meetings_render(const struct envelope *e, char **out, size_t *len)
{
	const struct envelope_meeting *m = &e->meeting;
	const struct envelope_agreement *a = &e->agreement;
	struct buf b = { NULL, 0, 0, 0 };
	char tmp[64];

	*out = NULL;
	*len = 0;
	if (e->kind == ENVELOPE_MEETING) {
		when_str(tmp, sizeof(tmp), m->time);
		puts_(&b, "[meeting ");
		snprintf(tmp + 32, 32, "%" PRIu32 " ", m->id);
		puts_(&b, tmp + 32);
		puts_(&b, meeting_verb[m->action]);
		puts_(&b, ": ");
		puts_(&b, tmp);
		if (m->place_len > 0) {
			puts_(&b, "; place: ");
			put(&b, m->place, m->place_len);
		}
		if (m->recognise_len > 0) {
			puts_(&b, "; recognise: ");
			put(&b, m->recognise, m->recognise_len);
		}
		puts_(&b, "]");
	} else if (e->kind == ENVELOPE_AGREEMENT) {
		snprintf(tmp, sizeof(tmp), "[agreement version %" PRIu32 " ",
		    a->version);
		puts_(&b, tmp);
		puts_(&b, agreement_verb[a->action]);
		for (size_t i = 0; i < ENVELOPE_AGREEMENT_FIELDS; i++) {
			if (a->action == ENVELOPE_A_ACCEPT)
				break;
			puts_(&b, i == 0 ? ": " : "; ");
			puts_(&b, agreement_label[i]);
			puts_(&b, ": ");
			put(&b, a->field[i], a->len[i]);
		}
		puts_(&b, "]");
	} else if (e->kind == ENVELOPE_REFERRAL) {
		for (size_t i = 0; i < ENVELOPE_REFERRAL_FIELDS; i++) {
			if (e->referral.len[i] == 0)
				continue;	/* what to expect, to say */
			puts_(&b, referral_label[i]);
			put(&b, e->referral.field[i], e->referral.len[i]);
		}
		puts_(&b, "]");
	} else {
		return OFR_E_BAD_FIELD;
	}
	if (b.err) {
		free(b.p);
		return OFR_E_NOMEM;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

/* --- what the key file kept --- */

/* A meeting as the messages kept make it. */
struct meeting {
	uint32_t id;
	uint8_t status;			/* the last action that counted */
	int64_t time;
	const uint8_t *place, *recognise;
	size_t place_len, recognise_len;
	const char *by;			/* who did it ("me" or a name) */
	int side;			/* of its last proposal or reschedule */
};

/* The agreement as the messages kept make it. */
struct agreement {
	uint32_t version;		/* 0: none */
	const char *author;		/* of that version */
	int side;			/* its author's */
	const char *accepted_by;	/* NULL: not accepted by the other */
	const uint8_t *field[ENVELOPE_AGREEMENT_FIELDS];
	size_t len[ENVELOPE_AGREEMENT_FIELDS];
};

struct case_state {
	struct meeting m[KS_ITEMS_CASE];
	size_t n;
	struct agreement a;
};

static struct meeting *
meeting_find(struct case_state *cs, uint32_t id)
{
	for (size_t i = 0; i < cs->n; i++)
		if (cs->m[i].id == id)
			return &cs->m[i];
	return NULL;
}

/* My side: my role's. */
static int
my_side(struct keyfile *k)
{
	return keyfile_role(k) == KEY_ROLE_CLIENT ? KS_ITEM_CLIENT :
	    KS_ITEM_COUNSELLOR;
}

/* The side of the case that sent item it (KS_ITEM_CLIENT or
 * KS_ITEM_COUNSELLOR), or KS_ITEM_NO_SIDE; mine is my_side(). */
static int
item_side(const struct ks_item *it, int mine)
{
	switch (it->sent) {
	case KS_ITEM_MINE:
		return mine;
	case KS_ITEM_THEIRS:		/* kept before sides were */
		return mine == KS_ITEM_CLIENT ? KS_ITEM_COUNSELLOR :
		    KS_ITEM_CLIENT;
	case KS_ITEM_CLIENT:
	case KS_ITEM_COUNSELLOR:
		return it->sent;
	default:
		return KS_ITEM_NO_SIDE;
	}
}

/* The meetings and agreement of case_id from the items of k, oldest
 * first (pointers into the items: valid until the state changes). They
 * are between the case's two sides (CRYPTO.md): its client and its
 * assigned counsellor; what anyone else sent counts for nothing. A
 * proposal makes a meeting once (a reschedule moves it); an accept or a
 * decline counts from the side that did not propose or reschedule it
 * last, a cancel from either; an agreement's accept from the side that
 * did not write its version. As client-web/src/meetings.js reads them. */
static void
case_state(struct keyfile *k, int64_t case_id, struct case_state *cs)
{
	struct ks_state *s = keyfile_state(k);
	int mine = my_side(k);
	struct envelope e;
	struct meeting *m;

	memset(cs, 0, sizeof(*cs));
	for (size_t i = 0; i < s->n_items; i++) {
		const struct ks_item *it = &s->items[i];
		const char *by = it->sent == KS_ITEM_MINE ? "me" : it->name;
		int side = item_side(it, mine);

		if (it->case_id != case_id || side == KS_ITEM_NO_SIDE ||
		    envelope_parse_kind(&e, it->body, it->len) != 0)
			continue;
		if (e.kind == ENVELOPE_MEETING) {
			m = meeting_find(cs, e.meeting.id);
			if (m == NULL && (e.meeting.action !=
			    ENVELOPE_M_PROPOSE || cs->n == KS_ITEMS_CASE))
				continue;	/* nothing to act on */
			if (m != NULL &&
			    e.meeting.action == ENVELOPE_M_PROPOSE)
				continue;	/* made already */
			if (m == NULL) {
				m = &cs->m[cs->n++];
				m->id = e.meeting.id;
			}
			if (e.meeting.action == ENVELOPE_M_PROPOSE ||
			    e.meeting.action == ENVELOPE_M_RESCHEDULE) {
				m->time = e.meeting.time;
				m->place = e.meeting.place;
				m->place_len = e.meeting.place_len;
				m->recognise = e.meeting.recognise;
				m->recognise_len = e.meeting.recognise_len;
				m->side = side;
			} else if (e.meeting.time != m->time) {
				continue;	/* about another time */
			} else if (e.meeting.action != ENVELOPE_M_CANCEL &&
			    side == m->side) {
				continue;	/* the side that asked */
			}
			m->status = e.meeting.action;
			m->by = by;
		} else if (e.kind == ENVELOPE_AGREEMENT) {
			struct agreement *a = &cs->a;

			if (e.agreement.action == ENVELOPE_A_ACCEPT) {
				if (e.agreement.version == a->version &&
				    a->author != NULL && side != a->side)
					a->accepted_by = by;
				continue;
			}
			if (e.agreement.version <= a->version)
				continue;	/* not newer */
			a->version = e.agreement.version;
			a->author = by;
			a->side = side;
			a->accepted_by = NULL;
			for (size_t f = 0; f < ENVELOPE_AGREEMENT_FIELDS; f++) {
				a->field[f] = e.agreement.field[f];
				a->len[f] = e.agreement.len[f];
			}
		}
	}
}

/* --- the commands --- */

/* WHEN: "YYYY-MM-DD HH:MM" or "YYYY-MM-DDTHH:MM" (UTC), or "@SECONDS". */
static int
parse_when(const char *s, int64_t *t)
{
	struct tm tm;
	char sep, end;
	int n;

	if (s[0] == '@') {
		long long v;

		if (sscanf(s + 1, "%lld%c", &v, &end) != 1 || v <= 0)
			return -1;
		*t = v;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	n = sscanf(s, "%4d-%2d-%2d%c%2d:%2d%c", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &sep, &tm.tm_hour, &tm.tm_min, &end);
	if (n != 6 || (sep != ' ' && sep != 'T') || tm.tm_year < 1970 ||
	    tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*t = (int64_t)timegm(&tm);
	return *t > 0 ? 0 : -1;
}

/* A field given on the command line: UTF-8 within max bytes. */
static int
field_ok(const char *what, const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max)
		return cli_fail(OFR_E_TOO_BIG, "%s: at most %zu bytes", what,
		    max);
	if (!text_utf8_ok(s, n))
		return cli_usage("%s: not UTF-8 text", what);
	return 0;
}

/* Renders e into the history text and sends it in case id. */
static int
send_item(struct cli *cli, int64_t id, struct envelope *e)
{
	char *text;
	size_t len;
	int rc;

	if ((rc = meetings_render(e, &text, &len)) != 0)
		return cli_fail(rc, "render");
	rc = messages_send(cli, id, e, text, len);
	sodium_memzero(text, len);
	free(text);
	return rc;
}

#define MEETING_USAGE \
	"meeting propose CASE WHEN PLACE [RECOGNISE] | " \
	"meeting reschedule CASE ID WHEN PLACE [RECOGNISE] | " \
	"meeting accept|decline|cancel CASE ID"

int
cmd_meeting(struct cli *cli, int argc, char **argv)
{
	static const char *const actions[] = { "", "propose", "accept",
	    "decline", "cancel", "reschedule" };
	struct envelope e;
	struct envelope_meeting *m = &e.meeting;
	struct case_state *cs = NULL;
	struct meeting *known;
	unsigned long long idv;
	char end;
	int64_t id;
	int rc, a, full, i = 2;

	memset(&e, 0, sizeof(e));
	e.kind = ENVELOPE_MEETING;
	for (a = 1; a <= ENVELOPE_M_RESCHEDULE; a++)
		if (argc > 0 && strcmp(argv[0], actions[a]) == 0)
			break;
	if (a > ENVELOPE_M_RESCHEDULE || argc < 2 ||
	    cli_parse_id(argv[1], &id) != 0)
		return cli_usage(MEETING_USAGE);
	m->action = (uint8_t)a;
	full = a == ENVELOPE_M_PROPOSE || a == ENVELOPE_M_RESCHEDULE;
	if (a != ENVELOPE_M_PROPOSE) {
		if (argc < 3 || sscanf(argv[2], "%llu%c", &idv, &end) != 1 ||
		    idv == 0 || idv > UINT32_MAX)
			return cli_usage(MEETING_USAGE);
		m->id = (uint32_t)idv;
		i = 3;
	} else {
		m->id = 1 + randombytes_uniform(UINT32_MAX);
	}
	if (full ? argc != i + 2 && argc != i + 3 : argc != i)
		return cli_usage(MEETING_USAGE);
	if (full) {
		if (parse_when(argv[i], &m->time) != 0)
			return cli_usage("WHEN: YYYY-MM-DD HH:MM (UTC) or "
			    "@SECONDS");
		if ((rc = field_ok("PLACE", argv[i + 1],
		    ENVELOPE_PLACE_MAX)) != 0 ||
		    (argc == i + 3 && (rc = field_ok("RECOGNISE", argv[i + 2],
		    ENVELOPE_RECOGNISE_MAX)) != 0))
			return rc;
		if (argv[i + 1][0] == '\0')
			return cli_usage("PLACE is empty");
		m->place = (const uint8_t *)argv[i + 1];
		m->place_len = strlen(argv[i + 1]);
		if (argc == i + 3) {
			m->recognise = (const uint8_t *)argv[i + 2];
			m->recognise_len = strlen(argv[i + 2]);
		}
	}
	if ((rc = cli_load_key(cli)) != 0)
		return rc;
	if (a != ENVELOPE_M_PROPOSE) {
		if ((cs = malloc(sizeof(*cs))) == NULL)
			return cli_fail(OFR_E_NOMEM, "meeting");
		case_state(cli->key, id, cs);
		known = meeting_find(cs, m->id);
		if (known == NULL) {
			free(cs);
			return cli_fail(OFR_E_NOT_FOUND, "no meeting %" PRIu32
			    " in case %lld", m->id, (long long)id);
		}
		if (!full)
			m->time = known->time;	/* what it is about */
		if ((a == ENVELOPE_M_ACCEPT || a == ENVELOPE_M_DECLINE) &&
		    known->side == my_side(cli->key)) {
			free(cs);
			return cli_usage("meeting %" PRIu32 " was proposed by "
			    "your side: the other side answers it", m->id);
		}
		free(cs);
	}
	if ((rc = send_item(cli, id, &e)) == 0 && a == ENVELOPE_M_PROPOSE)
		printf("meeting: %" PRIu32 "\n", m->id);
	return rc;
}

int
cmd_meetings(struct cli *cli, int argc, char **argv)
{
	struct case_state *cs;
	char when[64];
	int64_t id;
	int rc;

	if ((rc = cli_one_case(cli, argc, argv, "meetings CASE", &id)) != 0)
		return rc;
	if ((rc = cli_load_key(cli)) != 0)
		return rc;
	if ((cs = malloc(sizeof(*cs))) == NULL)
		return cli_fail(OFR_E_NOMEM, "meetings");
	case_state(cli->key, id, cs);
	for (size_t i = 0; i < cs->n; i++) {
		const struct meeting *m = &cs->m[i];

		when_str(when, sizeof(when), m->time);
		printf("%" PRIu32 "\t%s\t%s by ", m->id, when,
		    meeting_verb[m->status]);
		text_puts(stdout, m->by);
		fputc('\t', stdout);
		text_put(stdout, (const char *)m->place, m->place_len);
		fputc('\t', stdout);
		text_put(stdout, (const char *)m->recognise,
		    m->recognise_len);
		fputc('\n', stdout);
	}
	if (cs->n == 0)
		fputs("(no meetings kept for this case)\n", stderr);
	free(cs);
	return 0;
}

#define AGREEMENT_USAGE \
	"agreement propose|revise CASE OBJECTIVES FORMATS HOW-OFTEN CRISIS | " \
	"agreement accept CASE | agreement show CASE"

/* Prints the agreement of cs. */
static void
agreement_show(const struct case_state *cs, int64_t id)
{
	const struct agreement *a = &cs->a;

	if (a->version == 0) {
		fprintf(stderr, "(no agreement in case %lld)\n",
		    (long long)id);
		return;
	}
	printf("version %" PRIu32 " by ", a->version);
	text_puts(stdout, a->author);
	if (a->accepted_by != NULL) {
		fputs(", accepted by ", stdout);
		text_puts(stdout, a->accepted_by);
	} else {
		fputs(", not accepted yet", stdout);
	}
	fputc('\n', stdout);
	for (size_t f = 0; f < ENVELOPE_AGREEMENT_FIELDS; f++) {
		printf("%s: ", agreement_label[f]);
		text_put(stdout, (const char *)a->field[f], a->len[f]);
		fputc('\n', stdout);
	}
}

int
cmd_agreement(struct cli *cli, int argc, char **argv)
{
	struct envelope e;
	struct envelope_agreement *a = &e.agreement;
	struct case_state *cs;
	int64_t id;
	int rc, act = 0;

	memset(&e, 0, sizeof(e));
	e.kind = ENVELOPE_AGREEMENT;
	if (argc >= 1 && strcmp(argv[0], "propose") == 0)
		act = ENVELOPE_A_PROPOSE;
	else if (argc >= 1 && strcmp(argv[0], "revise") == 0)
		act = ENVELOPE_A_REVISE;
	else if (argc >= 1 && strcmp(argv[0], "accept") == 0)
		act = ENVELOPE_A_ACCEPT;
	else if (argc < 1 || strcmp(argv[0], "show") != 0)
		return cli_usage(AGREEMENT_USAGE);
	if (argc != (act == ENVELOPE_A_PROPOSE || act == ENVELOPE_A_REVISE ?
	    6 : 2) || cli_parse_id(argv[1], &id) != 0)
		return cli_usage(AGREEMENT_USAGE);
	for (int f = 0; act != 0 && act != ENVELOPE_A_ACCEPT &&
	    f < ENVELOPE_AGREEMENT_FIELDS; f++) {
		if ((rc = field_ok(agreement_label[f], argv[2 + f],
		    ENVELOPE_AGREEMENT_FIELD_MAX)) != 0)
			return rc;
		a->field[f] = (const uint8_t *)argv[2 + f];
		a->len[f] = strlen(argv[2 + f]);
	}
	if (act != 0 && act != ENVELOPE_A_ACCEPT && a->len[0] == 0)
		return cli_usage("OBJECTIVES is empty");
	if ((rc = cli_load_key(cli)) != 0)
		return rc;
	if ((cs = malloc(sizeof(*cs))) == NULL)
		return cli_fail(OFR_E_NOMEM, "agreement");
	case_state(cli->key, id, cs);
	rc = 0;
	a->action = (uint8_t)act;
	if (act == 0) {
		agreement_show(cs, id);
	} else if (act == ENVELOPE_A_PROPOSE && cs->a.version != 0) {
		rc = cli_usage("case %lld has an agreement (version %" PRIu32
		    "): revise it", (long long)id, cs->a.version);
	} else if (act != ENVELOPE_A_PROPOSE && cs->a.version == 0) {
		rc = cli_fail(OFR_E_NOT_FOUND, "no agreement in case %lld",
		    (long long)id);
	} else if (act == ENVELOPE_A_ACCEPT &&
	    cs->a.side == my_side(cli->key)) {
		rc = cli_usage("version %" PRIu32 " is your side's: the other "
		    "side accepts it", cs->a.version);
	} else if (act == ENVELOPE_A_REVISE && cs->a.version == UINT32_MAX) {
		rc = cli_fail(OFR_E_LIMIT, "no more versions");
	} else {
		a->version = act == ENVELOPE_A_PROPOSE ? 1 :
		    act == ENVELOPE_A_REVISE ? cs->a.version + 1 :
		    cs->a.version;
	}
	free(cs);
	if (rc != 0 || act == 0)
		return rc;
	return send_item(cli, id, &e);
}
