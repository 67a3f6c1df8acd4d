/*
 * model.h: the server's domain types: roles, case states, counsellor
 * profiles, intake preferences, cases, participants, programmes, their
 * partnerships and external partners, notes, audit entries and stored message copies, with the enumerations and sizes
 * they use. Store, matcher, domain layer and handlers all speak in these
 * types; this header declares no function and includes no storage or
 * transport API.
 */
#ifndef OFFRAMP_MODEL_H
#define OFFRAMP_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "proto/cert.h"
#include "proto/limits.h"
#include "proto/ocrypto.h"

/* Soft preferences a client may state; also the bits of met/asked. */
enum match_pref {
	PREF_GENDER = 1 << 0,
	PREF_AGE = 1 << 1,
	PREF_BACKGROUND = 1 << 2,
	PREF_FORMAT = 1 << 3,
	PREF_REGION = 1 << 4,
};

enum presence {
	PRESENCE_OFFLINE = 0,
	PRESENCE_AWAY = 1,
	PRESENCE_ONLINE = 2,
};

enum background {
	BACKGROUND_NONE = 0,
	BACKGROUND_PEER = 1,		/* a former member */
	BACKGROUND_PROFESSIONAL = 2,
};

enum format {
	FORMAT_CHAT = 1 << 0,
	FORMAT_IN_PERSON = 1 << 1,
	FORMAT_PHONE_VIDEO = 1 << 2,
};

#define MODEL_LIST_BYTES	(OFR_LIST_MAX * (OFR_TOKEN_MAX + 1) + 2)
#define MODEL_PARTICIPANTS_MAX	8

enum role {
	ROLE_NONE = 0,
	ROLE_CLIENT = 1,
	ROLE_COUNSELLOR = 2,
	ROLE_ADMIN = 3,
};

enum case_status {
	CASE_WAITING = 1,
	CASE_ACTIVE = 2,
	CASE_CLOSED = 3,
	CASE_PAUSED = 4,
};

/* A case is open (in its counsellor's caseload, and the client's one open
 * case) while waiting, active or paused. */
#define CASE_IS_OPEN(status) ((status) != CASE_CLOSED)

#define MODEL_HOURS_BYTES	21	/* 168 bits: hours of a week, UTC */
#define MODEL_DESCRIPTION_MAX	512

struct account {
	int64_t id;
	uint8_t key[OFR_PK_BYTES];
	int role;			/* enum role */
	int64_t programme;		/* 0: none (clients) */
	char name[OFR_NAME_MAX + 1];	/* pseudonym or display name */
	int disabled;
	int64_t created;
};

/* A counsellor's profile. Enumerations as above (presence, background,
 * format bits); 0 is "not stated". */
struct profile {
	char languages[MODEL_LIST_BYTES];	/* ",en,de," ; "," when empty */
	char topics[MODEL_LIST_BYTES];
	int capacity;				/* default 5 */
	int presence;				/* default PRESENCE_ONLINE */
	char gender[OFR_TOKEN_MAX + 1];		/* "" when not stated */
	int age_band;				/* 1..4, 0 */
	int background;
	int formats;				/* default FORMAT_CHAT */
	char region[OFR_TOKEN_MAX + 1];
	uint8_t hours[MODEL_HOURS_BYTES];	/* all zero: any time */
};

/* What a client asked for, besides language and topic (0 / "": nothing). */
struct case_prefs {
	int urgency;				/* 0 low, 1 normal, 2 high */
	int64_t programme;
	char gender[OFR_TOKEN_MAX + 1];
	int age_band;
	int background;
	int format;				/* one format bit */
	char region[OFR_TOKEN_MAX + 1];
};

struct case_info {
	int64_t id;			/* random, 1..2^53-1 */
	int status;			/* enum case_status */
	char language[OFR_TOKEN_MAX + 1];
	char topic[OFR_TOKEN_MAX + 1];	/* "" when none */
	int64_t client;			/* account id */
	int64_t counsellor;		/* account id, 0 when waiting */
	int64_t created;
	int64_t updated;			/* last message or change */
	struct case_prefs prefs;
	unsigned asked, met;			/* enum match_pref bits */
	int64_t first_response;			/* 0: none yet */
	int64_t left;				/* the counsellor the client
						 * left (never matched back),
						 * 0: none */
	int64_t members;			/* membership version: one
						 * up per join or leave */
};

/* Why a participant is in a case beside its client and counsellor. */
enum member_kind {
	MEMBER_OWN = 0,			/* the client, the assigned counsellor */
	MEMBER_SUPERVISOR = 1,
	MEMBER_CO_COUNSELLOR = 2,
	MEMBER_LANGUAGE_HELPER = 3,
};

/* Why a participant left a case. */
enum member_why {
	LEFT_REASSIGNED = 1,		/* the client asked for another */
	LEFT_DISABLED = 2,		/* an admin disabled the counsellor */
	LEFT_REMOVED = 3,		/* a participant asked (case.remove) */
	LEFT_LEFT = 4,			/* it left by itself */
	LEFT_REFERRAL = 5,		/* the case was handed over */
	LEFT_PARTNERSHIP = 6,		/* its partnership ended */
};
#define LEFT_WHY_MAX	LEFT_PARTNERSHIP

struct participant {
	int64_t account;
	uint8_t key[OFR_PK_BYTES];
	int role;
	char name[OFR_NAME_MAX + 1];
	int64_t programme;		/* 0: none */
	uint8_t cert[CERT_BYTES];	/* when has_cert */
	int has_cert;
	int kind;			/* enum member_kind */
	int64_t since;			/* membership version it joined at */
	int joining;			/* 1: not every other participant has
					 * confirmed it was told */
	int64_t joined_at, left_at;	/* times; left_at 0: still in */
	int why;			/* enum member_why, when left */
};

/* What the relay needs of a participant (store_case_peers). */
struct peer {
	int64_t account;
	uint8_t key[OFR_PK_BYTES];
	int joining;			/* as a participant's */
};

struct programme {
	int64_t id;
	char name[OFR_NAME_MAX + 1];
	uint8_t key[OFR_PK_BYTES];	/* signing public key, when has_key */
	int has_key;
	char description[MODEL_DESCRIPTION_MAX + 1];
	char languages[MODEL_LIST_BYTES];	/* "," when none */
	char topics[MODEL_LIST_BYTES];
	char regions[MODEL_LIST_BYTES];
	int formats;
	uint8_t intake[32];	/* hash of its intake code, when has_intake */
	int has_intake;
};

/* A partnership of two programmes (PROTOCOL.md, "Partnerships"). */
enum partnership_status {
	PARTNERSHIP_PROPOSED = 0,
	PARTNERSHIP_ACTIVE = 1,
	PARTNERSHIP_ENDED = 2,
};

/* A referral of a case to a partner programme (PROTOCOL.md,
 * "Referrals"). */
enum referral_status {
	REFERRAL_PROPOSED = 0,		/* waits for the client's answer */
	REFERRAL_ACCEPTED = 1,		/* the client said yes: intake at B */
	REFERRAL_DECLINED = 2,		/* the client said no */
	REFERRAL_WITHDRAWN = 3,		/* the client took its yes back */
	REFERRAL_CANCELLED = 4,		/* the proposing counsellor did */
	REFERRAL_COMPLETED = 5,		/* handed over: the case is B's */
};
#define REFERRAL_DIGEST_BYTES	32	/* BLAKE2b-256 of the summary */

struct referral {
	int64_t id;
	int64_t case_id;
	int64_t from;			/* programme ids */
	int64_t to;
	int64_t receiver;		/* B's counsellor; 0 until chosen */
	int status;			/* enum referral_status */
	int64_t proposed;
	int64_t answered;		/* 0 until answered */
	int64_t completed;		/* 0 until it ended */
	int approved;			/* the client approved a summary */
	uint8_t digest[REFERRAL_DIGEST_BYTES];	/* of that summary */
	int summary_sent;
};

/* A programme's referral figures, one side (as proposer or receiver). */
struct referral_figures {
	int64_t proposed, accepted, declined, completed;
	int64_t median;			/* proposal to handover, seconds;
					 * -1 when under 5 completed */
};

struct partnership {
	int64_t id;
	int64_t proposer;		/* programme ids */
	int64_t partner;
	int status;
	int64_t created;
	int64_t ended;			/* 0 while not ended */
	int64_t ended_by;		/* the programme that ended it; 0 */
	uint8_t proposer_st[PARTNER_BYTES];	/* vouches for the partner */
	uint8_t partner_st[PARTNER_BYTES];	/* when has_partner_st */
	int has_partner_st;
};

/* A partner of a programme that runs no account on this server: a
 * directory entry its admin keeps. */
#define MODEL_CONTACT_MAX	256
#define MODEL_EXTERNALS_MAX	100	/* per programme */
struct external_partner {
	int64_t id;
	int64_t programme;
	char name[OFR_NAME_MAX + 1];
	char regions[MODEL_LIST_BYTES];
	char topics[MODEL_LIST_BYTES];
	int formats;
	char contact[MODEL_CONTACT_MAX + 1];
};

/* A counsellor as the matching index and the admin tools see it. */
struct counsellor {
	struct account acct;
	struct profile prof;
	int certified;
	int open;			/* waiting, active and paused cases */
	int64_t last_assigned;		/* 0: never */
};

struct note {
	int64_t id;
	int64_t ts;
	const uint8_t *ct;		/* valid during the callback only */
	size_t ct_len;
};

struct audit_entry {
	int64_t id;
	int64_t ts;
	int64_t actor;			/* account id */
	char actor_name[OFR_NAME_MAX + 1];
	char action[OFR_TYPE_MAX + 1];
	int64_t target;			/* account id, 0: none */
	char target_name[OFR_NAME_MAX + 1];
	char detail[128];
};

/* One stored copy of a message, as handed to store_deliveries_each(). The
 * pointers are valid only during the callback. */
struct delivery {
	int64_t seq;
	int64_t case_id;
	const uint8_t *mid;		/* OFR_MID_BYTES */
	const uint8_t *from_key;	/* OFR_PK_BYTES */
	int64_t ts;
	const uint8_t *ct;
	size_t ct_len;
};

/* The message a stored copy belongs to, as its recipient acks it. */
struct copy_source {
	int64_t sender;			/* account id */
	int64_t case_id;
	uint8_t mid[OFR_MID_BYTES];
	int sender_stays;		/* 1: the sender still participates in
					 * the case */
};

#endif
