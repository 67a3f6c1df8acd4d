/*
 * dispatch.h: requests, from a whole frame to its handler. dispatch.c
 * holds the table of request types (handlers.h), with the roles allowed
 * to send each; it limits the rate of frames, checks the envelope and the
 * caller's role, runs the handler as one unit of work (casework_begin ..
 * casework_end: all its writes, or none), and answers a failure with an
 * error frame, closing a connection that keeps failing. The transport
 * (ws.c) hands it every frame. It never runs SQL, never touches the
 * transport, and adds nothing to the answer of a handler that succeeded.
 */
#ifndef OFFRAMP_DISPATCH_H
#define OFFRAMP_DISPATCH_H

#include <stddef.h>

struct session;

/* Handles one complete incoming frame of s (text, or binary when binary is
 * 1). Never fails: bad input becomes an error frame. */
void dispatch_frame(struct session *s, const char *buf, size_t len,
    int binary);
/* The peer sent a frame over OFR_FRAME_MAX: too_big, then close. */
void dispatch_oversize(struct session *s);
/* The transport dropped a frame of s over its budget of frames or bytes:
 * rate_limited, a strike as for any error. */
void dispatch_over_budget(struct session *s);

#endif
