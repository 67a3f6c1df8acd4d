/*
 * err.c: names of the error codes of err.h. The names are part of the wire
 * protocol: add new ones, never change old ones.
 */
#include <string.h>

#include "proto/err.h"

static const struct {
	int code;
	const char *name;
} errs[] = {
	{ OFR_OK, "ok" },
	{ OFR_E_BAD_JSON, "bad_json" },
	{ OFR_E_TOO_BIG, "too_big" },
	{ OFR_E_BAD_VERSION, "bad_version" },
	{ OFR_E_UNKNOWN_TYPE, "unknown_type" },
	{ OFR_E_BAD_FIELD, "bad_field" },
	{ OFR_E_NOT_LOGGED_IN, "not_logged_in" },
	{ OFR_E_ALREADY_LOGGED_IN, "already_logged_in" },
	{ OFR_E_BAD_SIGNATURE, "bad_signature" },
	{ OFR_E_UNKNOWN_KEY, "unknown_key" },
	{ OFR_E_BAD_INVITE, "bad_invite" },
	{ OFR_E_WRONG_ROLE, "wrong_role" },
	{ OFR_E_FORBIDDEN, "forbidden" },
	{ OFR_E_NOT_FOUND, "not_found" },
	{ OFR_E_CASE_OPEN, "case_open" },
	{ OFR_E_CASE_CLOSED, "case_closed" },
	{ OFR_E_CASE_WAITING, "case_waiting" },
	{ OFR_E_BAD_RECIPIENTS, "bad_recipients" },
	{ OFR_E_RATE_LIMITED, "rate_limited" },
	{ OFR_E_DISABLED, "account_disabled" },
	{ OFR_E_LIMIT, "limit" },
	{ OFR_E_INTERNAL, "internal" },
	{ OFR_E_BAD_STATE, "bad_state" },
	{ OFR_E_STORAGE_FULL, "storage_full" },
	{ OFR_E_RECIPIENT_FULL, "recipient_full" },
	{ OFR_E_UNAVAILABLE, "unavailable" },
	{ OFR_E_NOT_TOLD, "not_told" },
	{ OFR_E_POW_REQUIRED, "pow_required" },
	{ OFR_E_INTAKE_CODE_REQUIRED, "intake_code_required" },
	{ OFR_E_BAD_INTAKE_CODE, "bad_intake_code" },
	{ OFR_E_NOMEM, "no_memory" },
	{ OFR_E_IO, "io" },
	{ OFR_E_CRYPTO, "crypto" },
	{ OFR_E_TIMEOUT, "timeout" },
	{ OFR_E_CONN, "connection" },
	{ OFR_E_PASSPHRASE, "passphrase" },
	{ OFR_E_USAGE, "usage" },
};

const char *
err_str(int err)
{
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
		if (errs[i].code == err)
			return errs[i].name;
	return "unknown";
}

int
err_from_str(const char *name)
{
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
		if (strcmp(errs[i].name, name) == 0)
			return errs[i].code;
	return OFR_E_INTERNAL;
}
