/*
 * trust.c - the trust bundle (roots, intermediates, label signers) and the
 * verification of a label against it. Chain checks use OpenSSL's verifier.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "internal.h"

struct signer {
	X509 *cert;
	uint8_t id[JCS_KEYID_LEN];
	char id_hex[2 * JCS_KEYID_LEN + 1];
	char subject[200];
	time_t not_before, not_after;
	/* The chain check does not depend on the label: it is done once, when
	 * the bundle is loaded (prepare_signers). chain_err is JCS_OK when
	 * the signer chains to a root and may sign labels; then the chain is
	 * valid from win_nb to win_na (inclusive), the bounds set by the
	 * certificates at depth nb_depth and na_depth. */
	jcs_err chain_err;
	char chain_msg[512];
	time_t win_nb, win_na;
	int nb_depth, na_depth;
};

struct jcs_trust {
	X509_STORE *store;            /* the roots */
	STACK_OF(X509) *intermediates;
	size_t n_roots;
	struct signer *signers;
	size_t n_signers;
	ASN1_OBJECT *eku;              /* label-signing key purpose */
};

static int prepare_signer(const jcs_trust *t, struct signer *s);

void
jcs_trust_free(jcs_trust *t)
{
	if (t == NULL)
		return;
	X509_STORE_free(t->store);
	sk_X509_pop_free(t->intermediates, X509_free);
	for (size_t i = 0; i < t->n_signers; i++)
		X509_free(t->signers[i].cert);
	free(t->signers);
	ASN1_OBJECT_free(t->eku);
	free(t);
}

static int
add_cert(jcs_ctx *ctx, jcs_trust *t, X509 *cert, int block)
{
	struct signer *s, *ns;

	if (X509_check_ca(cert) != 0) {
		if (X509_self_signed(cert, 1) == 1) {
			if (X509_STORE_add_cert(t->store, cert) != 1)
				return jcs_fail_ossl(ctx, JCS_ERR_MALFORMED,
				    "trust bundle: cannot add root "
				    "(block %d)", block);
			t->n_roots++;
			X509_free(cert);
			return 0;
		}
		if (sk_X509_push(t->intermediates, cert) <= 0)
			return jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		return 0;
	}
	ns = realloc(t->signers, (t->n_signers + 1) * sizeof(*ns));
	if (ns == NULL)
		return jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
	t->signers = ns;
	s = &t->signers[t->n_signers];
	memset(s, 0, sizeof(*s));
	if (jcs_key_id_of(X509_get0_pubkey(cert), s->id) == -1 ||
	    jcs_asn1_time_to_time(X509_get0_notBefore(cert),
	    &s->not_before) == -1 ||
	    jcs_asn1_time_to_time(X509_get0_notAfter(cert),
	    &s->not_after) == -1)
		return jcs_fail_ossl(ctx, JCS_ERR_MALFORMED,
		    "trust bundle: certificate in block %d has an unusable "
		    "key or validity", block);
	jcs_hex(s->id, JCS_KEYID_LEN, s->id_hex);
	X509_NAME_oneline(X509_get_subject_name(cert), s->subject,
	    sizeof(s->subject));
	s->cert = cert;
	t->n_signers++;
	return 0;
}

jcs_trust *
jcs_trust_load_mem(jcs_ctx *ctx, const uint8_t *buf, size_t len)
{
	jcs_trust *t = NULL;
	BIO *bio = NULL;
	int block = 0;

	ERR_clear_error();
	if (buf == NULL || len == 0) {
		jcs_fail(ctx, JCS_ERR_MALFORMED, "trust bundle is empty");
		return NULL;
	}
	if (len > JCS_TRUST_MAX_FILE) {
		jcs_fail(ctx, JCS_ERR_TOO_LARGE,
		    "trust bundle is %zu bytes; at most %d are accepted", len,
		    JCS_TRUST_MAX_FILE);
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->store = X509_STORE_new()) == NULL ||
	    (t->intermediates = sk_X509_new_null()) == NULL ||
	    (t->eku = OBJ_txt2obj(JCS_OID_EKU_LABEL_SIGNING, 1)) == NULL ||
	    (bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		jcs_fail_ossl(ctx, JCS_ERR_NOMEM, "cannot create trust bundle");
		goto err;
	}
	for (;;) {
		char *name = NULL, *header = NULL;
		unsigned char *data = NULL;
		const unsigned char *p;
		long dlen;
		X509 *cert;

		if (PEM_read_bio(bio, &name, &header, &data, &dlen) != 1) {
			unsigned long e = ERR_peek_last_error();

			if (ERR_GET_REASON(e) == PEM_R_NO_START_LINE &&
			    block > 0) {
				ERR_clear_error();
				break;
			}
			jcs_fail_ossl(ctx, JCS_ERR_MALFORMED,
			    "trust bundle: PEM block %d cannot be read",
			    block + 1);
			goto err;
		}
		block++;
		if (strcmp(name, "CERTIFICATE") != 0) {
			jcs_fail(ctx, JCS_ERR_MALFORMED,
			    "trust bundle: block %d is '%s'; a bundle holds "
			    "only CERTIFICATE blocks%s", block, name,
			    strstr(name, "PRIVATE") != NULL ?
			    " (never publish a private key)" : "");
			OPENSSL_free(name);
			OPENSSL_free(header);
			OPENSSL_free(data);
			goto err;
		}
		p = data;
		cert = d2i_X509(NULL, &p, dlen);
		if (cert == NULL || p != data + dlen) {
			X509_free(cert);
			OPENSSL_free(name);
			OPENSSL_free(header);
			OPENSSL_free(data);
			jcs_fail_ossl(ctx, JCS_ERR_MALFORMED,
			    "trust bundle: block %d is not a valid "
			    "certificate", block);
			goto err;
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		if (add_cert(ctx, t, cert, block) == -1) {
			X509_free(cert);
			goto err;
		}
	}
	if (t->n_roots == 0) {
		jcs_fail(ctx, JCS_ERR_MALFORMED,
		    "trust bundle has no root (self-signed CA) certificate");
		goto err;
	}
	for (size_t i = 0; i < t->n_signers; i++)
		if (prepare_signer(t, &t->signers[i]) == -1) {
			jcs_fail_ossl(ctx, JCS_ERR_NOMEM,
			    "cannot check the signers' chains");
			goto err;
		}
	BIO_free(bio);
	jcs_ok(ctx);
	return t;
err:
	BIO_free(bio);
	jcs_trust_free(t);
	ERR_clear_error();
	return NULL;
}

jcs_trust *
jcs_trust_load_file(jcs_ctx *ctx, const char *path)
{
	uint8_t *buf = NULL;
	size_t len;
	jcs_trust *t;
	char msg[512];

	if (jcs_read_file(ctx, path, JCS_TRUST_MAX_FILE, &buf, &len) == -1)
		return NULL;
	t = jcs_trust_load_mem(ctx, buf, len);
	free(buf);
	if (t == NULL) {
		snprintf(msg, sizeof(msg), "%s", jcs_ctx_message(ctx));
		jcs_fail(ctx, jcs_ctx_error(ctx), "%s: %s", path, msg);
	}
	return t;
}

size_t
jcs_trust_root_count(const jcs_trust *t)
{
	return t != NULL ? t->n_roots : 0;
}

size_t
jcs_trust_signer_count(const jcs_trust *t)
{
	return t != NULL ? t->n_signers : 0;
}

int
jcs_trust_insecure_set_signer_id(jcs_trust *t, size_t i,
    const uint8_t id[JCS_KEYID_LEN])
{
	if (t == NULL || i >= t->n_signers)
		return -1;
	memcpy(t->signers[i].id, id, JCS_KEYID_LEN);
	jcs_hex(id, JCS_KEYID_LEN, t->signers[i].id_hex);
	return 0;
}

/* ---- verification ---- */

static int
has_label_eku(const jcs_trust *t, X509 *cert)
{
	EXTENDED_KEY_USAGE *eku;
	int found = 0;

	eku = X509_get_ext_d2i(cert, NID_ext_key_usage, NULL, NULL);
	if (eku == NULL)
		return 0;
	for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++)
		if (OBJ_cmp(sk_ASN1_OBJECT_value(eku, i), t->eku) == 0)
			found = 1;
	EXTENDED_KEY_USAGE_free(eku);
	return found;
}

/* Checks signer s once: its chain to a root of the bundle (OpenSSL's
 * verifier, strict, without its time check), the label-signing EKU and key
 * usage; records the verdict and the chain's validity window on s. */
static int
prepare_signer(const jcs_trust *t, struct signer *s)
{
	X509_STORE_CTX *sctx;
	STACK_OF(X509) *chain;
	int verr;

	s->chain_err = JCS_ERR_UNTRUSTED;
	if ((sctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(sctx, t->store, s->cert,
	    t->intermediates) != 1) {
		X509_STORE_CTX_free(sctx);
		return -1;
	}
	X509_STORE_CTX_set_flags(sctx, X509_V_FLAG_X509_STRICT |
	    X509_V_FLAG_NO_CHECK_TIME);
	if (X509_verify_cert(sctx) != 1) {
		verr = X509_STORE_CTX_get_error(sctx);
		snprintf(s->chain_msg, sizeof(s->chain_msg),
		    "signer %s (%s) does not chain to a root in the trust "
		    "bundle: %s", s->id_hex, s->subject,
		    X509_verify_cert_error_string(verr));
		goto done;
	}
	if (!has_label_eku(t, s->cert)) {
		s->chain_err = JCS_ERR_NOT_LABEL_SIGNER;
		snprintf(s->chain_msg, sizeof(s->chain_msg),
		    "signer %s (%s) is not authorised to sign labels: its "
		    "certificate lacks the label-signing extended key usage "
		    "%s", s->id_hex, s->subject, JCS_OID_EKU_LABEL_SIGNING);
		goto done;
	}
	if ((X509_get_extension_flags(s->cert) & EXFLAG_KUSAGE) &&
	    !(X509_get_key_usage(s->cert) & KU_DIGITAL_SIGNATURE)) {
		s->chain_err = JCS_ERR_NOT_LABEL_SIGNER;
		snprintf(s->chain_msg, sizeof(s->chain_msg),
		    "signer %s (%s) certificate does not allow "
		    "digitalSignature", s->id_hex, s->subject);
		goto done;
	}
	chain = X509_STORE_CTX_get0_chain(sctx);
	s->win_nb = 0;
	s->win_na = (time_t)INT64_MAX;
	for (int i = 0; i < sk_X509_num(chain); i++) {
		X509 *c = sk_X509_value(chain, i);
		time_t nb, na;

		if (jcs_asn1_time_to_time(X509_get0_notBefore(c), &nb) == -1 ||
		    jcs_asn1_time_to_time(X509_get0_notAfter(c), &na) == -1) {
			snprintf(s->chain_msg, sizeof(s->chain_msg),
			    "a certificate of signer %s has unreadable dates",
			    s->id_hex);
			goto done;
		}
		if (nb > s->win_nb) {
			s->win_nb = nb;
			s->nb_depth = i;
		}
		if (na < s->win_na) {
			s->win_na = na;
			s->na_depth = i;
		}
	}
	s->chain_err = JCS_OK;
done:
	X509_STORE_CTX_free(sctx);
	ERR_clear_error();
	return 0;
}

/* Checks signer s at time at, from what prepare_signer found; every
 * certificate of the chain must be valid at t, both ends inclusive as for
 * labels (OpenSSL's own check treats notAfter itself as expired). Returns
 * 0, or -1 with the reason on ctx; the reason is JCS_ERR_SIGNER_EXPIRED
 * only when time is the sole problem. */
static int
check_signer(jcs_ctx *ctx, const struct signer *s, time_t at)
{
	char when[32];
	int late;

	if (s->chain_err != JCS_OK)
		return jcs_fail(ctx, s->chain_err, "%s", s->chain_msg);
	if (at >= s->win_nb && at <= s->win_na)
		return 0;
	late = at > s->win_na;
	return jcs_fail(ctx, JCS_ERR_SIGNER_EXPIRED, "%s of signer %s (%s) %s "
	    "%s", (late ? s->na_depth : s->nb_depth) == 0 ? "the certificate" :
	    "the root or CA certificate", s->id_hex, s->subject,
	    late ? "expired on" : "is not valid until",
	    jcs_time_format(late ? s->win_na : s->win_nb, when, sizeof(when)));
}

/* Ranks verdicts so that when several signers match, the most telling
 * failure is reported (a good signature from a bad chain beats a bad
 * signature). */
static int
rank(jcs_err e)
{
	switch (e) {
	case JCS_ERR_BAD_SIGNATURE:
		return 1;
	case JCS_ERR_UNTRUSTED:
		return 2;
	case JCS_ERR_NOT_LABEL_SIGNER:
		return 3;
	case JCS_ERR_SIGNER_EXPIRED:
		return 4;
	default:
		return 0;
	}
}

int
jcs_verify(jcs_ctx *ctx, const jcs_trust *t, const jcs_label *l,
    const jcs_verify_opts *opts, const char **signer_out)
{
	const jcs_label_fields *f;
	const struct signer *good = NULL, *late = NULL;
	jcs_err best = JCS_OK;
	char best_msg[512] = "", when[32], why[128];
	char signer_time_msg[512] = "";
	time_t at;
	size_t tried = 0;
	const uint8_t *id;

	if (t == NULL || l == NULL || jcs_label_der(l, NULL) == NULL)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "verify needs a trust bundle and a signed label");
	f = jcs_label_get_fields(l);
	at = opts != NULL && opts->at != 0 ? opts->at : time(NULL);
	id = jcs_label_issuer_id(l);

	for (size_t i = 0; i < t->n_signers && good == NULL; i++) {
		const struct signer *s = &t->signers[i];
		int rc;

		if (memcmp(s->id, id, JCS_KEYID_LEN) != 0)
			continue;
		tried++;
		rc = jcs_label_check_sig(ctx, l, X509_get0_pubkey(s->cert),
		    why, sizeof(why));
		if (rc == -1)
			return -1;
		if (rc == 0) {
			jcs_fail(ctx, JCS_ERR_BAD_SIGNATURE,
			    "%s with signer key %s (%s): the label was "
			    "altered or forged", why, s->id_hex, s->subject);
		} else if (check_signer(ctx, s, at) == 0) {
			good = s;
			break;
		} else if (jcs_ctx_error(ctx) == JCS_ERR_SIGNER_EXPIRED &&
		    late == NULL) {
			/* Sound but outside a certificate's validity: keep it
			 * in case no other certificate of this key (e.g.
			 * re-certified) passes fully. */
			late = s;
			snprintf(signer_time_msg, sizeof(signer_time_msg),
			    "%s", jcs_ctx_message(ctx));
			continue;
		}
		if (rank(jcs_ctx_error(ctx)) > rank(best)) {
			best = jcs_ctx_error(ctx);
			snprintf(best_msg, sizeof(best_msg), "%s",
			    jcs_ctx_message(ctx));
		}
	}
	if (good == NULL && late != NULL) {
		/* The label's own dates (authentic: the signature verified)
		 * make the clearer verdict when they fail too; otherwise the
		 * signer's time is reported below. */
		good = late;
	} else {
		signer_time_msg[0] = '\0';
	}
	if (good == NULL) {
		if (tried == 0)
			return jcs_fail(ctx, JCS_ERR_UNKNOWN_ISSUER,
			    "no signer in the trust bundle has key id %s "
			    "(the bundle has %zu signer%s)",
			    jcs_label_issuer_hex(l), t->n_signers,
			    t->n_signers == 1 ? "" : "s");
		if (tried > 1) {
			size_t n = strlen(best_msg);

			snprintf(best_msg + n, sizeof(best_msg) - n,
			    " (%zu signers share key id %s; none verified)",
			    tried, jcs_label_issuer_hex(l));
		}
		return jcs_fail(ctx, best, "%s", best_msg);
	}

	for (size_t i = 0; i < jcs_label_extension_count(l); i++) {
		int crit;
		const char *oid = jcs_label_extension(l, i, &crit);

		if (crit && !jcs_ext_known(oid))
			return jcs_fail(ctx, JCS_ERR_UNKNOWN_CRITICAL,
			    "label has a critical extension %s that this "
			    "verifier does not understand", oid);
	}
	if (at < f->not_before)
		return jcs_fail(ctx, JCS_ERR_NOT_YET_VALID,
		    "label is not valid until %s",
		    jcs_time_format(f->not_before, when, sizeof(when)));
	if (at > f->not_after)
		return jcs_fail(ctx, JCS_ERR_EXPIRED, "label expired on %s",
		    jcs_time_format(f->not_after, when, sizeof(when)));
	if (signer_time_msg[0] != '\0')
		return jcs_fail(ctx, JCS_ERR_SIGNER_EXPIRED, "%s",
		    signer_time_msg);
	if (f->not_before < good->not_before ||
	    f->not_after > good->not_after) {
		char a[32], b[32];

		return jcs_fail(ctx, JCS_ERR_OUTSIDE_SIGNER,
		    "label validity is not within its signer's (%s to %s)",
		    jcs_time_format(good->not_before, a, sizeof(a)),
		    jcs_time_format(good->not_after, b, sizeof(b)));
	}
	if (opts != NULL && (opts->min_level > 0 || opts->scheme != 0)) {
		int want = opts->scheme != 0 ? opts->scheme : f->scheme;
		int min = opts->min_level > 0 ? opts->min_level : 1;
		char have[48], need[48];

		jcs_level_display(f->scheme, f->level, have, sizeof(have));
		jcs_level_display(want, min, need, sizeof(need));
		if (want != f->scheme || f->level < min)
			return jcs_fail(ctx, JCS_ERR_BELOW_POLICY,
			    "label is %s; %s or higher is required", have,
			    need);
	}
	if (signer_out != NULL)
		*signer_out = good->subject;
	jcs_ok(ctx);
	return 0;
}
