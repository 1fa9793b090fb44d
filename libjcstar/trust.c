/*
 * trust.c - the trust bundle (roots, intermediates, label signers, CRLs)
 * and the verification of a label against it. Chain checks use OpenSSL's
 * verifier. Revocation (docs/FORMAT.md §5.3): a CRL issued by a root lists
 * revoked signer certificates; a CRL issued by a label signer lists revoked
 * label serials, for every signer under the same root. Everything is
 * checked once, at load; a bundle is immutable afterwards, so a label's
 * verification only compares times and binary-searches the revoked serials.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "internal.h"

/* RFC 5280 §4.1.2.2: serials are at most 20 octets. */
#define JCS_MAX_SERIAL 20

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
	/* The chain's anchor (index in jcs_trust.roots; -1 if none) and
	 * whether that root issued this certificate itself (the scope of the
	 * root's signer CRLs). */
	int root;
	int direct;
	/* Set from the root's signer CRLs (revoked_key: not listed itself,
	 * but another certificate of its key was, for key compromise). */
	int revoked, revoked_reason, revoked_key;
	time_t revoked_at;
};

struct root {
	X509 *cert;
	/* has_crl: of the label CRLs under this root whose issuer is not
	 * revoked, there is one; crl_this and crl_next are the dates of the
	 * one with the latest nextUpdate (docs/FORMAT.md §5.3, freshness).
	 * n_label_crls counts all of them, revoked issuers included. */
	size_t n_label_crls;
	int has_crl;
	time_t crl_this, crl_next;
};

/* A revoked serial: of a label (label CRLs, scoped to a root), or of a
 * signer certificate (signer CRLs, while the bundle is loaded). */
struct revoked {
	uint8_t serial[JCS_MAX_SERIAL];  /* magnitude, no leading zeros */
	uint8_t len;
	uint8_t reason;
	uint32_t root;
	time_t when;
};

struct jcs_trust {
	X509_STORE *store;            /* the roots */
	STACK_OF(X509) *intermediates;
	struct root *roots;           /* the same roots, in bundle order */
	size_t n_roots;
	struct signer *signers;
	size_t n_signers;
	struct revoked *revoked;      /* label serials, sorted (cmp_revoked) */
	size_t n_revoked;
	ASN1_OBJECT *eku;              /* label-signing key purpose */
};

struct pending_crl;
static int prepare_signer(const jcs_trust *t, struct signer *s);
static int load_crls(jcs_ctx *ctx, jcs_trust *t, struct pending_crl *crls,
    size_t n);

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
	for (size_t i = 0; i < t->n_roots; i++)
		X509_free(t->roots[i].cert);
	free(t->roots);
	free(t->revoked);
	ASN1_OBJECT_free(t->eku);
	free(t);
}

static int
add_cert(jcs_ctx *ctx, jcs_trust *t, X509 *cert, int block)
{
	struct signer *s, *ns;

	if (X509_check_ca(cert) != 0) {
		if (X509_self_signed(cert, 1) == 1) {
			struct root *nr;

			if (X509_STORE_add_cert(t->store, cert) != 1)
				return jcs_fail_ossl(ctx, JCS_ERR_MALFORMED,
				    "trust bundle: cannot add root "
				    "(block %d)", block);
			nr = realloc(t->roots, (t->n_roots + 1) * sizeof(*nr));
			if (nr == NULL)
				return jcs_fail(ctx, JCS_ERR_NOMEM,
				    "out of memory");
			t->roots = nr;
			memset(&nr[t->n_roots], 0, sizeof(*nr));
			nr[t->n_roots++].cert = cert; /* takes the reference */
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
	if (jcs_cert_key_id(cert, s->id) == -1 ||
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

/* A CRL block, kept until every certificate has been read (a CRL may come
 * before its issuer in the file). */
struct pending_crl {
	unsigned char *der;
	long len;
	int block;
};

jcs_trust *
jcs_trust_load_mem(jcs_ctx *ctx, const uint8_t *buf, size_t len)
{
	jcs_trust *t = NULL;
	BIO *bio = NULL;
	struct pending_crl *crls = NULL;
	size_t n_crls = 0;
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
		if (strcmp(name, "X509 CRL") == 0) {
			struct pending_crl *nc;

			OPENSSL_free(name);
			OPENSSL_free(header);
			nc = realloc(crls, (n_crls + 1) * sizeof(*nc));
			if (nc == NULL) {
				OPENSSL_free(data);
				jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
				goto err;
			}
			crls = nc;
			crls[n_crls].der = data;
			crls[n_crls].len = dlen;
			crls[n_crls++].block = block;
			continue;
		}
		if (strcmp(name, "CERTIFICATE") != 0) {
			jcs_fail(ctx, JCS_ERR_MALFORMED,
			    "trust bundle: block %d is '%s'; a bundle holds "
			    "only CERTIFICATE and X509 CRL blocks%s", block,
			    name, strstr(name, "PRIVATE") != NULL ?
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
	BIO_free(bio);
	bio = NULL;
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
	if (load_crls(ctx, t, crls, n_crls) == -1)
		goto err;
	free(crls);
	jcs_ok(ctx);
	return t;
err:
	for (size_t i = 0; i < n_crls; i++)
		OPENSSL_free(crls[i].der);
	free(crls);
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
	X509 *anchor;
	int verr;

	s->chain_err = JCS_ERR_UNTRUSTED;
	s->root = -1;
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
	anchor = sk_X509_value(chain, sk_X509_num(chain) - 1);
	for (size_t i = 0; i < t->n_roots && s->root == -1; i++)
		if (X509_cmp(anchor, t->roots[i].cert) == 0)
			s->root = (int)i;
	if (s->root == -1) {
		snprintf(s->chain_msg, sizeof(s->chain_msg),
		    "signer %s (%s) chains to a root that is not in the "
		    "trust bundle", s->id_hex, s->subject);
		goto done;
	}
	s->direct = sk_X509_num(chain) == 2;
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

/* ---- CRLs (docs/FORMAT.md §5.3) ---- */

/* Orders revoked serials by root, then serial (as numbers: length, then
 * octets), then revocation date. */
static int
cmp_serial(const struct revoked *x, const struct revoked *y)
{
	if (x->root != y->root)
		return x->root < y->root ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->serial, y->serial, x->len);
}

static int
cmp_revoked(const void *a, const void *b)
{
	const struct revoked *x = a, *y = b;
	int c = cmp_serial(x, y);

	if (c != 0)
		return c;
	return x->when < y->when ? -1 : x->when > y->when;
}

/* Returns the earliest entry of sorted v[0..n) for key's root and serial,
 * or NULL: a binary search, O(log n). */
static const struct revoked *
find_revoked(const struct revoked *v, size_t n, const struct revoked *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp_serial(&v[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && cmp_serial(&v[lo], key) == 0 ? &v[lo] : NULL;
}

/* Sets key's serial from a positive INTEGER's octets (leading zeros
 * dropped). Returns 0, or -1 if it is zero or over JCS_MAX_SERIAL. */
static int
set_key_serial(struct revoked *key, const uint8_t *d, size_t len)
{
	while (len > 0 && d[0] == 0) {
		d++;
		len--;
	}
	if (len == 0 || len > JCS_MAX_SERIAL)
		return -1;
	memcpy(key->serial, d, len);
	key->len = (uint8_t)len;
	return 0;
}

/* The name of a CRL reason for messages. */
static const char *
reason_text(int reason, char *buf, size_t len)
{
	if (reason == JCS_REASON_UNSPECIFIED ||
	    strcmp(jcs_reason_name(reason), "unspecified") != 0)
		return jcs_reason_name(reason);
	snprintf(buf, len, "reason code %d", reason);
	return buf;
}

/* Reads entry i of a CRL into out (root left 0). Returns 0 or -1. */
static int
crl_entry(jcs_ctx *ctx, const X509_REVOKED *r, int block, int i,
    struct revoked *out)
{
	const ASN1_INTEGER *sn = X509_REVOKED_get0_serialNumber(r);
	const STACK_OF(X509_EXTENSION) *exts = X509_REVOKED_get0_extensions(r);
	ASN1_ENUMERATED *reason;
	long code = JCS_REASON_UNSPECIFIED;
	int crit;

	memset(out, 0, sizeof(*out));
	if (ASN1_STRING_type(sn) != V_ASN1_INTEGER ||
	    set_key_serial(out, ASN1_STRING_get0_data(sn),
	    (size_t)ASN1_STRING_length(sn)) == -1)
		return jcs_fail(ctx, JCS_ERR_MALFORMED,
		    "trust bundle: entry %d of the X509 CRL in block %d has a "
		    "serial that is not positive or is longer than %d octets",
		    i + 1, block, JCS_MAX_SERIAL);
	if (jcs_asn1_time_to_time(X509_REVOKED_get0_revocationDate(r),
	    &out->when) == -1)
		return jcs_fail(ctx, JCS_ERR_MALFORMED,
		    "trust bundle: entry %d of the X509 CRL in block %d has "
		    "an unreadable revocation date", i + 1, block);
	for (int j = 0; j < sk_X509_EXTENSION_num(exts); j++) {
		X509_EXTENSION *x = sk_X509_EXTENSION_value(exts, j);
		int nid = OBJ_obj2nid(X509_EXTENSION_get_object(x));
		char oid[80];

		if (nid == NID_certificate_issuer)
			return jcs_fail(ctx, JCS_ERR_MALFORMED,
			    "trust bundle: the X509 CRL in block %d is an "
			    "indirect CRL (entry %d names a certificate "
			    "issuer), which jcstar does not accept", block,
			    i + 1);
		if (nid != NID_crl_reason && nid != NID_invalidity_date &&
		    X509_EXTENSION_get_critical(x)) {
			OBJ_obj2txt(oid, sizeof(oid),
			    X509_EXTENSION_get_object(x), 1);
			return jcs_fail(ctx, JCS_ERR_MALFORMED,
			    "trust bundle: entry %d of the X509 CRL in block "
			    "%d has an unknown critical extension %s", i + 1,
			    block, oid);
		}
	}
	reason = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, &crit, NULL);
	if (reason != NULL) {
		code = ASN1_ENUMERATED_get(reason);
		ASN1_ENUMERATED_free(reason);
	}
	/* RFC 5280 §5.3.1: 7 is unused, 8 (removeFromCRL) is for delta
	 * CRLs only. */
	if ((reason == NULL && crit != -1) || code < 0 || code > 10 ||
	    code == 7 || code == 8)
		return jcs_fail(ctx, JCS_ERR_MALFORMED,
		    "trust bundle: entry %d of the X509 CRL in block %d has an "
		    "unusable reasonCode", i + 1, block);
	out->reason = (uint8_t)code;
	return 0;
}

/* Decodes and checks the form of the CRL in block (strict DER, v2, a CRL
 * number, thisUpdate before nextUpdate, no extension that would change
 * its meaning). Returns the CRL or NULL. */
static X509_CRL *
crl_parse(jcs_ctx *ctx, const unsigned char *der, long len, int block,
    time_t *this_update, time_t *next_update)
{
	const STACK_OF(X509_EXTENSION) *exts;
	const unsigned char *p = der;
	X509_CRL *crl = NULL;
	ASN1_INTEGER *num;
	char what[64], msg[512], oid[80];
	int crit, nid;

	snprintf(what, sizeof(what), "the X509 CRL in block %d", block);
	if (len <= 0 || der[0] != 0x30) {
		jcs_fail(ctx, JCS_ERR_MALFORMED, "trust bundle: block %d is "
		    "not a valid X509 CRL (not a DER SEQUENCE)", block);
		return NULL;
	}
	if (jcs_der_check(ctx, der, (size_t)len, what,
	    JCS_DER_ANY) == -1) {
		snprintf(msg, sizeof(msg), "%s", jcs_ctx_message(ctx));
		jcs_fail(ctx, JCS_ERR_MALFORMED, "trust bundle: %s", msg);
		return NULL;
	}
	crl = d2i_X509_CRL(NULL, &p, len);
	if (crl == NULL || p != der + len) {
		jcs_fail_ossl(ctx, JCS_ERR_MALFORMED,
		    "trust bundle: block %d is not a valid X509 CRL", block);
		goto err;
	}
	nid = X509_CRL_get_signature_nid(crl);
	if (nid != NID_ecdsa_with_SHA256 && nid != NID_ED25519) {
		jcs_fail(ctx, JCS_ERR_MALFORMED,
		    "trust bundle: %s is signed with %s; jcstar CRLs are "
		    "signed with ecdsa-with-SHA256 or Ed25519", what,
		    OBJ_nid2ln(nid) != NULL ? OBJ_nid2ln(nid) : "an unknown "
		    "algorithm");
		goto err;
	}
	if (X509_CRL_get_version(crl) != X509_CRL_VERSION_2) {
		jcs_fail(ctx, JCS_ERR_MALFORMED,
		    "trust bundle: %s is not an X.509 v2 CRL", what);
		goto err;
	}
	if (jcs_asn1_time_to_time(X509_CRL_get0_lastUpdate(crl),
	    this_update) == -1 ||
	    jcs_asn1_time_to_time(X509_CRL_get0_nextUpdate(crl),
	    next_update) == -1) {
		jcs_fail(ctx, JCS_ERR_MALFORMED,
		    "trust bundle: %s lacks a readable thisUpdate or "
		    "nextUpdate", what);
		goto err;
	}
	if (*next_update <= *this_update) {
		jcs_fail(ctx, JCS_ERR_MALFORMED,
		    "trust bundle: %s has its nextUpdate before its "
		    "thisUpdate", what);
		goto err;
	}
	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
	if (num == NULL) {
		jcs_fail(ctx, JCS_ERR_MALFORMED,
		    "trust bundle: %s has %s CRL number", what,
		    crit == -1 ? "no" : "a bad or repeated");
		goto err;
	}
	ASN1_INTEGER_free(num);
	exts = X509_CRL_get0_extensions(crl);
	for (int j = 0; j < sk_X509_EXTENSION_num(exts); j++) {
		X509_EXTENSION *x = sk_X509_EXTENSION_value(exts, j);

		nid = OBJ_obj2nid(X509_EXTENSION_get_object(x));
		if (nid == NID_delta_crl) {
			jcs_fail(ctx, JCS_ERR_MALFORMED, "trust bundle: %s is "
			    "a delta CRL, which jcstar does not accept", what);
			goto err;
		}
		if (nid == NID_issuing_distribution_point) {
			jcs_fail(ctx, JCS_ERR_MALFORMED, "trust bundle: %s has "
			    "an issuingDistributionPoint (a partial CRL), "
			    "which jcstar does not accept", what);
			goto err;
		}
		if (nid != NID_crl_number &&
		    nid != NID_authority_key_identifier &&
		    X509_EXTENSION_get_critical(x)) {
			OBJ_obj2txt(oid, sizeof(oid),
			    X509_EXTENSION_get_object(x), 1);
			jcs_fail(ctx, JCS_ERR_MALFORMED, "trust bundle: %s has "
			    "an unknown critical extension %s", what, oid);
			goto err;
		}
	}
	return crl;
err:
	X509_CRL_free(crl);
	return NULL;
}

static int
may_sign_crls(X509 *cert)
{
	return !(X509_get_extension_flags(cert) & EXFLAG_KUSAGE) ||
	    (X509_get_key_usage(cert) & KU_CRL_SIGN);
}

/* Finds who issued crl: a root of the bundle (*root_i) or a label signer
 * (*signer_i), by name and by signature; the other is set to -1. Returns 0
 * or -1. */
static int
crl_issuer(jcs_ctx *ctx, const jcs_trust *t, X509_CRL *crl, int block,
    int *root_i, int *signer_i)
{
	const X509_NAME *in = X509_CRL_get_issuer(crl);
	char name[256];
	int named = 0;

	X509_NAME_oneline(in, name, sizeof(name));
	*root_i = *signer_i = -1;
	for (size_t i = 0; i < t->n_roots; i++) {
		X509 *c = t->roots[i].cert;

		if (X509_NAME_cmp(in, X509_get_subject_name(c)) != 0)
			continue;
		named = 1;
		if (X509_CRL_verify(crl, X509_get0_pubkey(c)) != 1)
			continue;
		ERR_clear_error();
		if (!may_sign_crls(c))
			return jcs_fail(ctx, JCS_ERR_MALFORMED,
			    "trust bundle: the X509 CRL in block %d is signed "
			    "by root %s, whose keyUsage does not allow "
			    "cRLSign", block, name);
		*root_i = (int)i;
		return 0;
	}
	for (size_t i = 0; i < t->n_signers; i++) {
		const struct signer *s = &t->signers[i];

		if (X509_NAME_cmp(in, X509_get_subject_name(s->cert)) != 0)
			continue;
		named = 1;
		if (X509_CRL_verify(crl, X509_get0_pubkey(s->cert)) != 1)
			continue;
		ERR_clear_error();
		if (s->chain_err != JCS_OK)
			return jcs_fail(ctx, JCS_ERR_MALFORMED,
			    "trust bundle: the X509 CRL in block %d cannot be "
			    "trusted: %s", block, s->chain_msg);
		if (!may_sign_crls(s->cert))
			return jcs_fail(ctx, JCS_ERR_MALFORMED,
			    "trust bundle: the X509 CRL in block %d is signed "
			    "by signer %s (%s), whose keyUsage does not allow "
			    "cRLSign", block, s->id_hex, s->subject);
		*signer_i = (int)i;
		return 0;
	}
	ERR_clear_error();
	if (named)
		return jcs_fail(ctx, JCS_ERR_MALFORMED,
		    "trust bundle: the signature of the X509 CRL in block %d "
		    "does not verify with the key of its issuer %s", block,
		    name);
	return jcs_fail(ctx, JCS_ERR_MALFORMED,
	    "trust bundle: the X509 CRL in block %d is issued by %s, which "
	    "is not a root or label signer of the bundle", block, name);
}

/* A root's signer CRL: marks the signers it issued whose certificate
 * serial is listed. */
static int
apply_signer_crl(jcs_ctx *ctx, jcs_trust *t, X509_CRL *crl, int block,
    int root)
{
	STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl);
	int n = sk_X509_REVOKED_num(revs);
	struct revoked *v = NULL, key;

	if (n > 0 && (v = calloc((size_t)n, sizeof(*v))) == NULL)
		return jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory reading "
		    "the X509 CRL in block %d", block);
	for (int i = 0; i < n; i++)
		if (crl_entry(ctx, sk_X509_REVOKED_value(revs, i), block, i,
		    &v[i]) == -1) {
			free(v);
			return -1;
		}
	if (n > 0)
		qsort(v, (size_t)n, sizeof(*v), cmp_revoked);
	for (size_t i = 0; i < t->n_signers; i++) {
		struct signer *s = &t->signers[i];
		const ASN1_INTEGER *sn = X509_get0_serialNumber(s->cert);
		const struct revoked *hit;

		memset(&key, 0, sizeof(key));
		if (s->root != root || !s->direct || s->revoked ||
		    ASN1_STRING_type(sn) != V_ASN1_INTEGER ||
		    set_key_serial(&key, ASN1_STRING_get0_data(sn),
		    (size_t)ASN1_STRING_length(sn)) == -1)
			continue;
		if ((hit = find_revoked(v, (size_t)n, &key)) == NULL)
			continue;
		s->revoked = 1;
		s->revoked_at = hit->when;
		s->revoked_reason = hit->reason;
	}
	free(v);
	return 0;
}

/* A label CRL of signer si: adds its serials to t->revoked, under the
 * signer's root. */
static int
apply_label_crl(jcs_ctx *ctx, jcs_trust *t, X509_CRL *crl, int block,
    int si)
{
	STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl);
	int n = sk_X509_REVOKED_num(revs);
	struct revoked *nv;

	if (n <= 0)
		return 0;
	if ((size_t)n > SIZE_MAX / sizeof(*nv) - t->n_revoked ||
	    (nv = realloc(t->revoked, (t->n_revoked + (size_t)n) *
	    sizeof(*nv))) == NULL)
		return jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory reading "
		    "the X509 CRL in block %d", block);
	t->revoked = nv;
	for (int i = 0; i < n; i++) {
		struct revoked *r = &t->revoked[t->n_revoked];

		if (crl_entry(ctx, sk_X509_REVOKED_value(revs, i), block, i,
		    r) == -1)
			return -1;
		r->root = (uint32_t)t->signers[si].root;
		t->n_revoked++;
	}
	return 0;
}

/* Reads every CRL block (freeing each as it goes), then: a signer revoked
 * for key compromise takes every other certificate of its key with it;
 * each root gets its freshest label CRL; the label serials are sorted. */
static int
load_crls(jcs_ctx *ctx, jcs_trust *t, struct pending_crl *crls, size_t n)
{
	struct label_crl {
		int signer;
		time_t this_update, next_update;
	} *lc = NULL;
	size_t n_lc = 0;
	int rc = -1;

	if (n > 0 && (lc = calloc(n, sizeof(*lc))) == NULL)
		return jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		X509_CRL *crl;
		time_t tu, nu;
		int root, si, r;

		crl = crl_parse(ctx, crls[i].der, crls[i].len, crls[i].block,
		    &tu, &nu);
		OPENSSL_free(crls[i].der);
		crls[i].der = NULL;
		if (crl == NULL)
			goto done;
		r = crl_issuer(ctx, t, crl, crls[i].block, &root, &si);
		if (r == 0 && root >= 0) {
			r = apply_signer_crl(ctx, t, crl, crls[i].block, root);
		} else if (r == 0) {
			r = apply_label_crl(ctx, t, crl, crls[i].block, si);
			lc[n_lc].signer = si;
			lc[n_lc].this_update = tu;
			lc[n_lc++].next_update = nu;
		}
		X509_CRL_free(crl);
		if (r == -1)
			goto done;
	}
	for (size_t i = 0; i < t->n_signers; i++) {
		const struct signer *s = &t->signers[i];

		if (!s->revoked || s->revoked_key ||
		    s->revoked_reason != JCS_REASON_KEY_COMPROMISE)
			continue;
		for (size_t j = 0; j < t->n_signers; j++) {
			struct signer *o = &t->signers[j];

			if (o->revoked || memcmp(o->id, s->id,
			    JCS_KEYID_LEN) != 0 ||
			    EVP_PKEY_eq(X509_get0_pubkey(o->cert),
			    X509_get0_pubkey(s->cert)) != 1)
				continue;
			o->revoked = o->revoked_key = 1;
			o->revoked_at = s->revoked_at;
			o->revoked_reason = s->revoked_reason;
		}
	}
	for (size_t i = 0; i < n_lc; i++) {
		const struct signer *s = &t->signers[lc[i].signer];
		struct root *r = &t->roots[s->root];

		r->n_label_crls++;
		/* a revoked signer's CRL still revokes, but cannot vouch
		 * that the list is current */
		if (s->revoked)
			continue;
		if (!r->has_crl || lc[i].next_update > r->crl_next) {
			r->has_crl = 1;
			r->crl_this = lc[i].this_update;
			r->crl_next = lc[i].next_update;
		}
	}
	if (t->n_revoked > 0)
		qsort(t->revoked, t->n_revoked, sizeof(*t->revoked),
		    cmp_revoked);
	rc = 0;
done:
	free(lc);
	ERR_clear_error();
	return rc;
}

/* Checks signer s at time at, from what prepare_signer and the signer
 * CRLs found; every certificate of the chain must be valid at t, both ends
 * inclusive as for labels (OpenSSL's own check treats notAfter itself as
 * expired). A revoked signer is revoked whatever the time: a label carries
 * no trusted time of signing. Returns 0, or -1 with the reason on ctx; the
 * reason is JCS_ERR_SIGNER_EXPIRED only when time is the sole problem. */
static int
check_signer(jcs_ctx *ctx, const struct signer *s, time_t at)
{
	char when[32], rbuf[32];
	int late;

	if (s->chain_err != JCS_OK)
		return jcs_fail(ctx, s->chain_err, "%s", s->chain_msg);
	if (s->revoked)
		return jcs_fail(ctx, JCS_ERR_REVOKED,
		    "signer %s (%s) was revoked on %s: %s%s", s->id_hex,
		    s->subject, jcs_date_format(s->revoked_at, when,
		    sizeof(when)), reason_text(s->revoked_reason, rbuf,
		    sizeof(rbuf)), s->revoked_key ? " (another certificate "
		    "of its key was revoked)" : "");
	if (at >= s->win_nb && at <= s->win_na)
		return 0;
	late = at > s->win_na;
	return jcs_fail(ctx, JCS_ERR_SIGNER_EXPIRED, "%s of signer %s (%s) %s "
	    "%s", (late ? s->na_depth : s->nb_depth) == 0 ? "the certificate" :
	    "the root or CA certificate", s->id_hex, s->subject,
	    late ? "expired on" : "is not valid until",
	    jcs_time_format(late ? s->win_na : s->win_nb, when, sizeof(when)));
}

static int
hexval(char c)
{
	return c >= 'a' ? c - 'a' + 10 : c - '0';
}

/* Checks the label against the label CRLs under its signer's root, and
 * their freshness if the caller requires it. Returns 0 or -1. */
static int
check_revocation(jcs_ctx *ctx, const jcs_trust *t, const struct signer *s,
    const jcs_label *l, const jcs_verify_opts *opts, time_t at)
{
	const char *hex = jcs_label_serial_hex(l);
	const struct root *r = &t->roots[s->root];
	const struct revoked *hit;
	struct revoked key;
	uint8_t serial[JCS_MAX_SERIAL] = { 0 };
	size_t n = strlen(hex) / 2;
	char a[32], b[32], root[256];

	memset(&key, 0, sizeof(key));
	key.root = (uint32_t)s->root;
	for (size_t i = 0; i < n && n <= sizeof(serial); i++)
		serial[i] = (uint8_t)(hexval(hex[2 * i]) << 4 |
		    hexval(hex[2 * i + 1]));
	if (n <= sizeof(serial) && set_key_serial(&key, serial, n) == 0 &&
	    (hit = find_revoked(t->revoked, t->n_revoked, &key)) != NULL)
		return jcs_fail(ctx, JCS_ERR_REVOKED,
		    "label %s was revoked on %s: %s", hex,
		    jcs_date_format(hit->when, a, sizeof(a)),
		    reason_text(hit->reason, b, sizeof(b)));
	if (opts == NULL || !opts->require_fresh_crl)
		return 0;
	if (!r->has_crl) {
		X509_NAME_oneline(X509_get_subject_name(r->cert), root,
		    sizeof(root));
		return jcs_fail(ctx, JCS_ERR_STALE_CRL,
		    "the trust bundle has no label CRL for the labels of %s%s",
		    root, r->n_label_crls > 0 ? " (only CRLs of revoked "
		    "signers)" : "");
	}
	if (r->crl_next < at)
		return jcs_fail(ctx, JCS_ERR_STALE_CRL,
		    "the label CRL of %s expired at %s; fetch a fresh trust "
		    "bundle", jcs_date_format(r->crl_this, a, sizeof(a)),
		    jcs_time_format(r->crl_next, b, sizeof(b)));
	return 0;
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
	case JCS_ERR_REVOKED:
		return 5;
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
	if (ctx != NULL)
		ctx->has_decision = 0;

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
	if (good == NULL && best == JCS_ERR_REVOKED) {
		/* a revoked signer outranks one that is merely out of time */
		return jcs_fail(ctx, best, "%s", best_msg);
	} else if (good == NULL && late != NULL) {
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

	if (check_revocation(ctx, t, good, l, opts, at) == -1)
		return -1;
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
	if (opts != NULL && (opts->n_require > 0 || opts->min_level > 0 ||
	    opts->scheme != 0)) {
		jcs_requirement one = { opts->scheme != 0 ? opts->scheme :
		    f->scheme, opts->min_level, NULL, 0 };
		const jcs_requirement *req = opts->n_require > 0 ?
		    opts->require : &one;
		size_t n = opts->n_require > 0 ? opts->n_require : 1;
		jcs_decision local, *d = &local;
		int rc;

		if (ctx != NULL)
			d = &ctx->decision;
		memset(d, 0, sizeof(*d));
		rc = jcs_decide(ctx, opts->recognition, f, at, req, n, d);

		/* the decision is kept when it is "not met" too */
		if (ctx != NULL)
			ctx->has_decision = d->reason[0] != '\0';
		if (rc == -1)
			return -1;
	}
	if (signer_out != NULL)
		*signer_out = good->subject;
	jcs_ok(ctx);
	return 0;
}
