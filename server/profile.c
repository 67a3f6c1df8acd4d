/*
 * profile.c: profile fields on the wire (profile.h). Every value is checked
 * against its enumeration or token rule before it touches a profile.
 */
#include <string.h>

#include "casework.h"
#include "match.h"
#include "profile.h"
#include "proto/err.h"

#define HOURS_RANGES_MAX	28

static const char *const age_bands[] = { NULL, "18-29", "30-44", "45-59",
    "60-plus" };
static const char *const backgrounds[] = { NULL, "peer", "professional" };
static const char *const presences[] = { "offline", "away", "online" };
static const char *const urgencies[] = { "low", "normal", "high" };
static const struct {
	const char *name;
	int bit;
} formats[] = {
	{ "chat", FORMAT_CHAT },
	{ "in-person", FORMAT_IN_PERSON },
	{ "phone-video", FORMAT_PHONE_VIDEO },
};
static const struct {
	const char *name;
	unsigned bit;
} prefs[] = {
	{ "gender", PREF_GENDER },
	{ "age_band", PREF_AGE },
	{ "background", PREF_BACKGROUND },
	{ "format", PREF_FORMAT },
	{ "region", PREF_REGION },
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static int
lookup(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] != NULL && strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

static const char *
name_at(const char *const *names, size_t n, int v)
{
	return v >= 0 && (size_t)v < n ? names[v] : NULL;
}

int
profile_age_band(const char *s)
{
	return lookup(age_bands, NELEM(age_bands), s);
}

const char *
profile_age_band_name(int v)
{
	return name_at(age_bands, NELEM(age_bands), v);
}

int
profile_background(const char *s)
{
	return lookup(backgrounds, NELEM(backgrounds), s);
}

const char *
profile_background_name(int v)
{
	return name_at(backgrounds, NELEM(backgrounds), v);
}

int
profile_presence(const char *s)
{
	return lookup(presences, NELEM(presences), s);
}

const char *
profile_presence_name(int v)
{
	return name_at(presences, NELEM(presences), v);
}

int
profile_urgency(const char *s)
{
	return lookup(urgencies, NELEM(urgencies), s);
}

const char *
profile_urgency_name(int v)
{
	return name_at(urgencies, NELEM(urgencies), v);
}

int
profile_format(const char *s)
{
	for (size_t i = 0; i < NELEM(formats); i++)
		if (strcmp(formats[i].name, s) == 0)
			return formats[i].bit;
	return -1;
}

static int
bad(struct frame_in *in, const char *key)
{
	in->bad_field = key;
	return OFR_E_BAD_FIELD;
}

int
profile_read_enum(struct frame_in *in, const char *key,
    int (*parse)(const char *), int *out)
{
	const char *s = NULL;
	int rc, v;

	if ((rc = frame_str(in, key, 32, 0, &s)) != 0 || s == NULL)
		return rc;
	if ((v = parse(s)) < 0)
		return bad(in, key);
	*out = v;
	return 0;
}

int
profile_read_formats(struct frame_in *in, const char *key, int *bits)
{
	json_t *arr = NULL, *e;
	size_t i;
	int rc, v, out = 0;

	if ((rc = frame_array(in, key, NELEM(formats), 0, &arr)) != 0 ||
	    arr == NULL)
		return rc;
	json_array_foreach(arr, i, e) {
		if (!json_is_string(e) ||
		    (v = profile_format(json_string_value(e))) < 0 ||
		    (out & v))
			return bad(in, key);
		out |= v;
	}
	*bits = out;
	return 0;
}

static int
read_hours(struct frame_in *in, uint8_t hours[MODEL_HOURS_BYTES])
{
	uint8_t out[MODEL_HOURS_BYTES] = { 0 };
	json_t *arr = NULL, *r;
	size_t i;
	int rc;

	if ((rc = frame_array(in, "hours", HOURS_RANGES_MAX, 0, &arr)) != 0 ||
	    arr == NULL)
		return rc;
	json_array_foreach(arr, i, r) {
		json_t *d = json_array_get(r, 0), *f = json_array_get(r, 1);
		json_t *t = json_array_get(r, 2);
		json_int_t day, from, to;

		if (!json_is_array(r) || json_array_size(r) != 3 ||
		    !json_is_integer(d) || !json_is_integer(f) ||
		    !json_is_integer(t))
			return bad(in, "hours");
		day = json_integer_value(d);
		from = json_integer_value(f);
		to = json_integer_value(t);
		if (day < 0 || day > 6 || from < 0 || from > 23 || to < 1 ||
		    to > 24 || from >= to)
			return bad(in, "hours");
		for (json_int_t h = day * 24 + from; h < day * 24 + to; h++)
			out[h / 8] |= (uint8_t)(1u << (h % 8));
	}
	memcpy(hours, out, MODEL_HOURS_BYTES);
	return 0;
}

int
profile_read_token(struct frame_in *in, const char *key, char *out)
{
	const char *s = NULL;
	int rc;

	if ((rc = frame_token(in, key, 0, &s)) != 0 || s == NULL)
		return rc;
	strcpy(out, s);			/* frame_token: at most OFR_TOKEN_MAX */
	return 0;
}

int
profile_read(struct frame_in *in, struct profile *p, const char **name,
    int allow_capacity)
{
	char languages[MODEL_LIST_BYTES] = "", topics[MODEL_LIST_BYTES] = "";
	struct profile n = *p;
	int64_t capacity = -1;
	int available = -1, rc;
	json_t *v;

	if ((v = json_object_get(in->root, "capacity")) != NULL &&
	    !json_is_null(v) && !allow_capacity)
		return OFR_E_FORBIDDEN;
	if ((rc = frame_name(in, "name", 0, name)) != 0 ||
	    (rc = frame_token_list(in, "languages", 0, languages,
	    sizeof(languages))) != 0 ||
	    (rc = frame_token_list(in, "topics", 0, topics,
	    sizeof(topics))) != 0 ||
	    (rc = frame_int(in, "capacity", 0, 100, 0, &capacity)) != 0 ||
	    (rc = frame_bool(in, "available", 0, &available)) != 0 ||
	    (rc = profile_read_enum(in, "presence", profile_presence,
	    &n.presence)) != 0 ||
	    (rc = profile_read_enum(in, "age_band", profile_age_band,
	    &n.age_band)) != 0 ||
	    (rc = profile_read_enum(in, "background", profile_background,
	    &n.background)) != 0 ||
	    (rc = profile_read_token(in, "gender", n.gender)) != 0 ||
	    (rc = profile_read_token(in, "region", n.region)) != 0 ||
	    (rc = profile_read_formats(in, "formats", &n.formats)) != 0 ||
	    (rc = read_hours(in, n.hours)) != 0)
		return rc;
	if (languages[0] != '\0')
		strcpy(n.languages, languages);
	if (topics[0] != '\0')
		strcpy(n.topics, topics);
	if (capacity >= 0)
		n.capacity = (int)capacity;
	if (available >= 0)
		n.presence = available ? PRESENCE_ONLINE : PRESENCE_AWAY;
	*p = n;
	return 0;
}

json_t *
profile_list_json(const char *joined)
{
	json_t *arr = json_array();
	const char *p = joined;

	while (arr != NULL && *p == ',' && p[1] != '\0') {
		const char *end = strchr(p + 1, ',');

		if (end == NULL)
			break;
		json_array_append_new(arr, json_stringn(p + 1,
		    (size_t)(end - p - 1)));
		p = end;
	}
	return arr;
}

json_t *
profile_formats_json(int bits)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < NELEM(formats); i++)
		if (bits & formats[i].bit)
			json_array_append_new(arr, json_string(formats[i].name));
	return arr;
}

static json_t *
hours_json(const uint8_t hours[MODEL_HOURS_BYTES])
{
	json_t *arr = json_array();

	/* Runs of set hours within a day, as [day, from, to]. */
	for (int day = 0; arr != NULL && day < 7; day++) {
		int h = 0;

		while (h < 24) {
			int from;

			while (h < 24 && !(hours[(day * 24 + h) / 8] &
			    (1u << ((day * 24 + h) % 8))))
				h++;
			if (h == 24)
				break;
			from = h;
			while (h < 24 && (hours[(day * 24 + h) / 8] &
			    (1u << ((day * 24 + h) % 8))))
				h++;
			json_array_append_new(arr, json_pack("[iii]", day,
			    from, h));
		}
	}
	return arr;
}

static json_t *
token_or_null(const char *s)
{
	return s[0] != '\0' ? json_string(s) : json_null();
}

static json_t *
name_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

void
profile_now_json(json_t *o, int64_t counsellor)
{
	struct presence_now now;

	casework_presence(counsellor, &now);
	json_object_set_new(o, "connections", json_integer(now.connections));
	json_object_set_new(o, "idle", json_boolean(now.idle));
}

json_t *
profile_json(const struct counsellor *c)
{
	const struct profile *p = &c->prof;
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "name", json_string(c->acct.name));
	json_object_set_new(o, "gender", token_or_null(p->gender));
	json_object_set_new(o, "age_band",
	    name_or_null(profile_age_band_name(p->age_band)));
	json_object_set_new(o, "background",
	    name_or_null(profile_background_name(p->background)));
	json_object_set_new(o, "languages", profile_list_json(p->languages));
	json_object_set_new(o, "topics", profile_list_json(p->topics));
	json_object_set_new(o, "formats", profile_formats_json(p->formats));
	json_object_set_new(o, "region", token_or_null(p->region));
	json_object_set_new(o, "capacity", json_integer(p->capacity));
	json_object_set_new(o, "presence",
	    name_or_null(profile_presence_name(p->presence)));
	json_object_set_new(o, "available",
	    json_boolean(p->presence == PRESENCE_ONLINE));
	json_object_set_new(o, "hours", hours_json(p->hours));
	profile_now_json(o, c->acct.id);
	json_object_set_new(o, "open", json_integer(c->open));
	json_object_set_new(o, "certified", json_boolean(c->certified));
	json_object_set_new(o, "disabled", json_boolean(c->acct.disabled));
	return o;
}

json_t *
profile_prefs_json(unsigned asked, unsigned met, int decided)
{
	json_t *o = json_object(), *a = json_array(), *m = json_array();
	json_t *u = json_array();

	if (o == NULL || a == NULL || m == NULL || u == NULL) {
		json_decref(o);
		json_decref(a);
		json_decref(m);
		json_decref(u);
		return NULL;
	}
	for (size_t i = 0; i < NELEM(prefs); i++) {
		if (!(asked & prefs[i].bit))
			continue;
		json_array_append_new(a, json_string(prefs[i].name));
		json_array_append_new((met & prefs[i].bit) ? m : u,
		    json_string(prefs[i].name));
	}
	json_object_set_new(o, "asked", a);
	if (decided) {
		json_object_set_new(o, "met", m);
		json_object_set_new(o, "unmet", u);
	} else {
		/* No counsellor yet: nothing is met or unmet so far. */
		json_decref(m);
		json_decref(u);
		json_object_set_new(o, "met", json_null());
		json_object_set_new(o, "unmet", json_null());
	}
	return o;
}
