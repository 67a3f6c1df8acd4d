/*
 * server.h: the state of one server process, shared by the frame handlers.
 * There is one struct server; it is created in main.c and lives until exit.
 */
#ifndef OFFRAMP_SERVER_H
#define OFFRAMP_SERVER_H

#include <stdint.h>

#include "proto/limits.h"
#include "proto/ocrypto.h"

struct store;
struct match_index;
struct casework_notify;
struct conn_ops;
struct session;

#define POOL_TOUCHED_MAX	32	/* counsellors one request changes */

struct server {
	struct store *st;
	uint8_t pk[OFR_PK_BYTES];		/* server identity */
	int login_timeout;			/* seconds */
	int message_timeout;			/* seconds: a message under
						 * way, once logged in (ws.c) */
	int stall_timeout;			/* seconds: a peer that does
						 * not read (ws.c, cut_at) */
	int ping_after, hangup_after;		/* seconds: a silent peer
						 * (ws.c, keepalive) */
	int idle_away;				/* seconds; 0: never idle */
	int seen_grain;				/* seconds: a client's last
						 * login is kept to this */
	int64_t now;				/* seconds, per request or job */
	/* Limits (config.h) */
	int conns_per_account;			/* logged-in connections */
	int64_t queue_copies, queue_bytes;	/* waiting for one recipient */
	int prekey_fetches;			/* per requester, key, hour */
	struct match_index *pool;		/* pool.c */
	int pool_stale;				/* a commit failed and the
						 * pool could not be read
						 * back: read at the next
						 * request or job */
	/* The tables that join the layers, filled by main.c: no module
	 * calls one above it by name. */
	const struct conn_ops *conn;		/* the transport: ws.c */
	const struct casework_notify *notify;	/* casework's reports: cases.c */
	void (*pump)(struct session *s);	/* stored messages: relay_pump */
	int64_t touched[POOL_TOUCHED_MAX];	/* by the current request */
	size_t touched_n;
	int64_t intake_after[2];		/* the accepted referral the
						 * next intake pass starts
						 * after (proposed, id; 0, 0:
						 * the first):
						 * casework_referral_rematch */
	/* Scratch for decoding the copies of one msg.send. */
	uint8_t copies[OFR_COPIES_MAX][OFR_CT_MAX];
};

#endif
