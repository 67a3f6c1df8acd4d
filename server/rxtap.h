/*
 * rxtap.h: the bytes libwebsockets reads from a WebSocket client, seen
 * before lws parses them, so that wsguard.c checks each frame (lws 4.1
 * tells its callback neither the mask bit nor the length's encoding,
 * closes at once on the rules it checks, and has no hook between its
 * read and its parser).
 *
 * The server executable defines recv(), SSL_read() and close(): its
 * definitions take precedence over libc's and libssl's for every caller,
 * libwebsockets.so among them, and call the real ones. Only descriptors
 * ws.c marks are followed; every other read passes through untouched.
 * ws.c marks a connection's descriptor when it is accepted (the HTTP
 * head: a read ends at the head's end, so that nothing behind an upgrade
 * request is read with it) and when it is upgraded (its frames from the
 * next read on); a mark ends with the descriptor's close().
 *
 * Called from the loop's thread only (the marks); the wrappers from any.
 */
#ifndef OFFRAMP_SERVER_RXTAP_H
#define OFFRAMP_SERVER_RXTAP_H

/* The function called, once per connection and from inside lws's read,
 * when its client breaks a rule of wsguard.h or sends its close: conn as
 * given to rxtap_frames(), fault an enum wsguard_fault. The read hands
 * lws only the bytes before that frame; the transport closes the
 * connection (rxtap_close_code). */
void rxtap_on_fault(void (*fn)(void *conn, int fault));

/* A connection on fd was accepted: its reads end at the end of each HTTP
 * head. 0, or -1 (fd out of range, or out of memory: the connection
 * must be refused). */
int rxtap_accept(int fd);

/* The connection on fd (conn, the transport's handle) was upgraded to a
 * WebSocket: its frames are followed from the next read on. 0, or -1
 * when fd was not accepted through rxtap_accept() (it must be closed).
 * When bytes came behind the upgrade request in its read (over TLS, in
 * its TLS record: SSL_peek gives one record), before the answer a client
 * must wait for (RFC 6455, 4.1), its fault is at once WSGUARD_EARLY, for
 * the caller to act on (rxtap_fault); bytes that came in a read or a
 * record of their own are not told from later ones. */
int rxtap_frames(int fd, void *conn);

/* The fault of the connection on fd: an enum wsguard_fault, 0 if none. */
int rxtap_fault(int fd);

/* The close code to send on the connection on fd once it has a fault
 * (wsguard_close_code). */
int rxtap_close_code(int fd);

#endif
