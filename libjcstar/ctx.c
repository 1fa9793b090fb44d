/* ctx.c - the context, error codes and messages, version. */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "internal.h"

static const struct {
	const char *name;
	jcs_err err;
	int verdict;
} err_table[] = {
	{ "ok", JCS_OK, 0 },
	{ "invalid-argument", JCS_ERR_INVALID_ARG, 0 },
	{ "out-of-memory", JCS_ERR_NOMEM, 0 },
	{ "io-error", JCS_ERR_IO, 0 },
	{ "exists", JCS_ERR_EXISTS, 0 },
	{ "too-large", JCS_ERR_TOO_LARGE, 0 },
	{ "key-error", JCS_ERR_KEY, 0 },
	{ "passphrase", JCS_ERR_PASSPHRASE, 0 },
	{ "bad-profile", JCS_ERR_PROFILE, 0 },
	{ "crypto-error", JCS_ERR_CRYPTO, 0 },
	{ "issuance-rule", JCS_ERR_POLICY_RULE, 0 },
	{ "malformed", JCS_ERR_MALFORMED, 1 },
	{ "truncated", JCS_ERR_TRUNCATED, 1 },
	{ "not-der", JCS_ERR_NOT_DER, 1 },
	{ "bad-signature", JCS_ERR_BAD_SIGNATURE, 1 },
	{ "unknown-issuer", JCS_ERR_UNKNOWN_ISSUER, 1 },
	{ "untrusted", JCS_ERR_UNTRUSTED, 1 },
	{ "not-label-signer", JCS_ERR_NOT_LABEL_SIGNER, 1 },
	{ "signer-expired", JCS_ERR_SIGNER_EXPIRED, 1 },
	{ "expired", JCS_ERR_EXPIRED, 1 },
	{ "not-yet-valid", JCS_ERR_NOT_YET_VALID, 1 },
	{ "outside-signer-validity", JCS_ERR_OUTSIDE_SIGNER, 1 },
	{ "unknown-critical-extension", JCS_ERR_UNKNOWN_CRITICAL, 1 },
	{ "revoked", JCS_ERR_REVOKED, 1 },
	{ "below-policy", JCS_ERR_BELOW_POLICY, 1 },
	{ "not-a-payload", JCS_ERR_NOT_PAYLOAD, 1 },
	{ "damaged-payload", JCS_ERR_BAD_PAYLOAD, 1 },
	{ "no-code", JCS_ERR_NO_CODE, 1 },
	{ "bad-template", JCS_ERR_TEMPLATE, 0 },
	{ "stale-crl", JCS_ERR_STALE_CRL, 1 },
	{ "registry-error", JCS_ERR_REGISTRY, 0 },
	{ "not-found", JCS_ERR_NOT_FOUND, 0 },
	{ "audit-broken", JCS_ERR_AUDIT, 0 },
	{ "interrupted", JCS_ERR_INTERRUPTED, 0 },
};

const char *
jcs_version(void)
{
	return JCS_VERSION_STRING;
}

const char *
jcs_err_name(jcs_err err)
{
	for (size_t i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
		if (err_table[i].err == err)
			return err_table[i].name;
	return "unknown";
}

int
jcs_err_is_verdict(jcs_err err)
{
	for (size_t i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
		if (err_table[i].err == err)
			return err_table[i].verdict;
	return 0;
}

const jcs_decision *
jcs_ctx_decision(const jcs_ctx *ctx)
{
	return ctx != NULL && ctx->has_decision ? &ctx->decision : NULL;
}

jcs_ctx *
jcs_ctx_new(void)
{
	return calloc(1, sizeof(jcs_ctx));
}

void
jcs_ctx_free(jcs_ctx *ctx)
{
	if (ctx == NULL)
		return;
	EVP_PKEY_CTX_free(ctx->verify_pctx);
	EVP_MD_free(ctx->sha256);
	free(ctx);
}

jcs_ctx *
jcs_ctx_new_like(const jcs_ctx *ctx)
{
	jcs_ctx *c = jcs_ctx_new();

	if (c != NULL && ctx != NULL) {
		c->schemes = ctx->schemes;
		c->defer_sync = ctx->defer_sync;
	}
	return c;
}

jcs_err
jcs_ctx_error(const jcs_ctx *ctx)
{
	return ctx != NULL ? ctx->err : JCS_ERR_NOMEM;
}

const char *
jcs_ctx_message(const jcs_ctx *ctx)
{
	return ctx != NULL ? ctx->msg : "no context (out of memory)";
}

void
jcs_free(void *p)
{
	free(p);
}

/* ERR_clear_error() walks the whole queue of the thread; a label checked
 * in bulk passes here several times, mostly with the queue empty. */
void
jcs_ossl_clear(void)
{
	if (ERR_peek_error() != 0)
		ERR_clear_error();
}

void
jcs_ok(jcs_ctx *ctx)
{
	jcs_ossl_clear();
	if (ctx == NULL)
		return;
	ctx->err = JCS_OK;
	ctx->msg[0] = '\0';
}

static void
vset(jcs_ctx *ctx, jcs_err err, const char *fmt, va_list ap)
{
	char buf[sizeof(ctx->msg)];

	/* Format into a copy: callers may pass ctx's own message as an
	 * argument when they add context to it. */
	vsnprintf(buf, sizeof(buf), fmt, ap);
	memcpy(ctx->msg, buf, sizeof(buf));
	ctx->err = err;
}

int
jcs_fail(jcs_ctx *ctx, jcs_err err, const char *fmt, ...)
{
	va_list ap;

	if (ctx == NULL)
		return -1;
	va_start(ap, fmt);
	vset(ctx, err, fmt, ap);
	va_end(ap);
	return -1;
}

int
jcs_fail_ossl(jcs_ctx *ctx, jcs_err err, const char *fmt, ...)
{
	va_list ap;
	unsigned long e;
	const char *data = NULL;
	int flags = 0;
	char buf[256];

	e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags);
	if (ctx != NULL) {
		va_start(ap, fmt);
		vset(ctx, err, fmt, ap);
		va_end(ap);
		if (e != 0) {
			size_t n = strlen(ctx->msg);
			const char *reason = ERR_reason_error_string(e);

			if (reason == NULL) {
				ERR_error_string_n(e, buf, sizeof(buf));
				reason = buf;
			}
			snprintf(ctx->msg + n, sizeof(ctx->msg) - n, ": %s%s%s",
			    reason, (flags & ERR_TXT_STRING) && data && *data ?
			    " " : "", (flags & ERR_TXT_STRING) && data ? data :
			    "");
		}
	}
	ERR_clear_error();
	return -1;
}
