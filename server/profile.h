/*
 * profile.h: counsellors' profiles and clients' preferences on the wire:
 * reading the profile fields of a request onto a profile, writing profiles
 * and preference sets as JSON, and the names of the enumerations
 * (PROTOCOL.md, "Counsellor profiles").
 */
#ifndef OFFRAMP_PROFILE_H
#define OFFRAMP_PROFILE_H

#include <jansson.h>

#include "proto/frame.h"
#include "store.h"

/* Reads the optional profile fields of in onto p, and the display name
 * into *name (left alone when absent). capacity is read only when
 * allow_capacity; else its presence is OFR_E_FORBIDDEN. 0 or an error,
 * with in->bad_field set for OFR_E_BAD_FIELD. */
int profile_read(struct frame_in *in, struct profile *p, const char **name,
    int allow_capacity);
/* The profile object of a counsellor; NULL on OOM. */
json_t *profile_json(const struct counsellor *c);
/* Adds what the server sees of counsellor now to o: "connections" (its
 * logged-in connections) and "idle" (connected, but no request of its
 * own for the idle time): it is matched only when connected and not
 * idle, besides presence online. */
void profile_now_json(json_t *o, int64_t counsellor);
/* {"asked":[…],"met":[…],"unmet":[…]} of PREF_ bits; met and unmet are
 * null until decided (a counsellor was chosen). */
json_t *profile_prefs_json(unsigned asked, unsigned met, int decided);
/* ",a,b," as a JSON array of strings. */
json_t *profile_list_json(const char *joined);
/* Format bits as a JSON array of names. */
json_t *profile_formats_json(int formats);

/* Names and values of the enumerations; -1 or NULL when unknown. */
int profile_age_band(const char *s);
const char *profile_age_band_name(int v);
int profile_background(const char *s);
const char *profile_background_name(int v);
int profile_format(const char *s);
int profile_presence(const char *s);
const char *profile_presence_name(int v);
int profile_urgency(const char *s);
const char *profile_urgency_name(int v);
/* An optional string field that must name a value of an enumeration
 * (parse gives -1 for others): 0 with *out set or left alone, or
 * OFR_E_BAD_FIELD. */
int profile_read_enum(struct frame_in *in, const char *key,
    int (*parse)(const char *), int *out);
/* An optional token field copied into out (capacity OFR_TOKEN_MAX + 1). */
int profile_read_token(struct frame_in *in, const char *key, char *out);
/* Reads a list of format names (field key) into *bits. */
int profile_read_formats(struct frame_in *in, const char *key, int *bits);

#endif
