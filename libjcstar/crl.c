/*
 * crl.c - revocation: CRL reason names, and the X.509 v2 CRLs a
 * certification body publishes (docs/FORMAT.md §5.3): label CRLs, signed by
 * a label signer and listing label serials, and signer CRLs, signed by the
 * root and listing label-signer certificate serials. Reading them is
 * trust.c's business.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "internal.h"

/* At most this many entries in one CRL: about 400 MB of DER. */
#define MAX_CRL_ENTRIES 10000000
/* RFC 5280 §4.1.2.2: a serial number is at most 20 octets of content. */
#define MAX_SERIAL 20
/* 9999-12-31T23:59:59Z, the last time a GeneralizedTime can hold. */
#define MAX_TIME ((time_t)253402300799)

static const struct {
	int code;
	const char *name;
} reasons[] = {
	{ JCS_REASON_UNSPECIFIED, "unspecified" },
	{ JCS_REASON_KEY_COMPROMISE, "key-compromise" },
	{ JCS_REASON_AFFILIATION_CHANGED, "affiliation-changed" },
	{ JCS_REASON_SUPERSEDED, "superseded" },
	{ JCS_REASON_CESSATION, "cessation-of-operation" },
	{ JCS_REASON_CERTIFICATE_HOLD, "certificate-hold" },
	{ JCS_REASON_PRIVILEGE_WITHDRAWN, "privilege-withdrawn" },
};

int
jcs_reason_from_name(const char *name)
{
	if (name == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strcasecmp(name, reasons[i].name) == 0)
			return reasons[i].code;
	return -1;
}

const char *
jcs_reason_name(int reason)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == reason)
			return reasons[i].name;
	return "unspecified";
}

static int
reason_known(int reason)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == reason)
			return 1;
	return 0;
}

/* Sets ai to the positive INTEGER whose magnitude is serial (leading zero
 * octets dropped). Returns 0, or -1 if the value is zero or its DER content
 * would exceed MAX_SERIAL octets. */
static int
set_serial(ASN1_INTEGER *ai, const uint8_t *serial, size_t len)
{
	while (len > 0 && serial[0] == 0) {
		serial++;
		len--;
	}
	if (len == 0 || len + (serial[0] >= 0x80) > MAX_SERIAL)
		return -1;
	return ASN1_STRING_set(ai, serial, (int)len) == 1 ? 0 : -2;
}

/* The authorityKeyIdentifier of a CRL issued by cert: cert's
 * subjectKeyIdentifier, or (if it has none) the SHA-1 of its public key,
 * RFC 5280 §4.2.1.2 method 1. */
static int
add_aki(X509_CRL *crl, X509 *cert)
{
	AUTHORITY_KEYID *aki;
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(cert);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	int rc = -1;

	if ((aki = AUTHORITY_KEYID_new()) == NULL)
		return -1;
	if (ski != NULL) {
		aki->keyid = ASN1_OCTET_STRING_dup(ski);
	} else if (X509_pubkey_digest(cert, EVP_sha1(), md, &mdlen) == 1 &&
	    (aki->keyid = ASN1_OCTET_STRING_new()) != NULL &&
	    ASN1_OCTET_STRING_set(aki->keyid, md, (int)mdlen) != 1) {
		ASN1_OCTET_STRING_free(aki->keyid);
		aki->keyid = NULL;
	}
	if (aki->keyid != NULL &&
	    X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, aki, 0,
	    0) == 1)
		rc = 0;
	AUTHORITY_KEYID_free(aki);
	return rc;
}

/* PEM of DER, 64 characters a line (RFC 7468), in one exact allocation. */
static char *
der_to_pem(const uint8_t *der, size_t len, size_t *pem_len)
{
	static const char head[] = "-----BEGIN X509 CRL-----\n";
	static const char tail[] = "-----END X509 CRL-----\n";
	size_t lines = (len + 47) / 48, cap, o;
	char *pem;

	cap = sizeof(head) - 1 + lines * 65 + sizeof(tail) - 1 + 1;
	if ((pem = malloc(cap)) == NULL)
		return NULL;
	memcpy(pem, head, sizeof(head) - 1);
	o = sizeof(head) - 1;
	for (size_t i = 0; i < len; i += 48) {
		size_t n = len - i < 48 ? len - i : 48;

		o += (size_t)EVP_EncodeBlock((unsigned char *)pem + o, der + i,
		    (int)n);
		pem[o++] = '\n';
	}
	memcpy(pem + o, tail, sizeof(tail) - 1);
	o += sizeof(tail) - 1;
	pem[o] = '\0';
	*pem_len = o;
	return pem;
}

int
jcs_crl_build(jcs_ctx *ctx, X509 *issuer, EVP_PKEY *key,
    const struct jcs_crl_entry *e, size_t n, uint64_t number,
    time_t this_update, time_t next_update, char **pem, size_t *pem_len)
{
	X509_CRL *crl = NULL;
	X509_REVOKED *rev = NULL;
	ASN1_TIME *tm = NULL;
	ASN1_INTEGER *ai = NULL;
	ASN1_ENUMERATED *reason = NULL;
	STACK_OF(X509_REVOKED) *revs;
	unsigned char *der = NULL;
	size_t plen;
	int len, eq;
	char who[256], hex[2 * MAX_SERIAL + 1];

	ERR_clear_error();
	if (pem != NULL)
		*pem = NULL;
	if (issuer == NULL || key == NULL || pem == NULL || (e == NULL &&
	    n > 0))
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "a CRL needs an issuer certificate, its key and an output");
	X509_NAME_oneline(X509_get_subject_name(issuer), who, sizeof(who));
	if (n > MAX_CRL_ENTRIES)
		return jcs_fail(ctx, JCS_ERR_TOO_LARGE,
		    "a CRL holds at most %d entries; %zu were given",
		    MAX_CRL_ENTRIES, n);
	if (this_update <= 0 || next_update > MAX_TIME ||
	    next_update <= this_update)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "a CRL's nextUpdate must come after its thisUpdate, both "
		    "between 1970 and 9999");
	/* The key must be the issuer's (EVP_PKEY_eq returns -2 when a key,
	 * e.g. an HSM's, cannot be compared: the signature then decides). */
	eq = EVP_PKEY_eq(X509_get0_pubkey(issuer), key);
	ERR_clear_error();
	if (eq == 0 || eq == -1)
		return jcs_fail(ctx, JCS_ERR_KEY,
		    "the key given does not belong to the CRL issuer %s", who);
	/* RFC 5280 §4.2.1.3: a CRL issuer's keyUsage, if present, allows
	 * cRLSign; verifiers check it (trust.c), so refuse early. */
	if ((X509_get_extension_flags(issuer) & EXFLAG_KUSAGE) &&
	    !(X509_get_key_usage(issuer) & KU_CRL_SIGN))
		return jcs_fail(ctx, JCS_ERR_KEY,
		    "the certificate of %s does not allow cRLSign in its "
		    "keyUsage, so it cannot sign CRLs (a signer made before "
		    "signer.profile had cRLSign: rotate to a new signer)", who);
	for (size_t i = 0; i < n; i++) {
		if (e[i].serial == NULL || e[i].serial_len == 0)
			return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
			    "CRL entry %zu has no usable serial", i + 1);
		if (!reason_known(e[i].reason))
			return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
			    "CRL entry %zu has reason code %d, which is not "
			    "one jcstar uses", i + 1, e[i].reason);
		if (e[i].when <= 0 || e[i].when > MAX_TIME)
			return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
			    "CRL entry %zu has no usable revocation date",
			    i + 1);
	}

	if ((crl = X509_CRL_new()) == NULL ||
	    (tm = ASN1_TIME_new()) == NULL ||
	    (ai = ASN1_INTEGER_new()) == NULL ||
	    (reason = ASN1_ENUMERATED_new()) == NULL ||
	    X509_CRL_set_version(crl, X509_CRL_VERSION_2) != 1 ||
	    X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) != 1 ||
	    ASN1_TIME_set(tm, this_update) == NULL ||
	    X509_CRL_set1_lastUpdate(crl, tm) != 1 ||
	    ASN1_TIME_set(tm, next_update) == NULL ||
	    X509_CRL_set1_nextUpdate(crl, tm) != 1 ||
	    add_aki(crl, issuer) == -1 ||
	    ASN1_INTEGER_set_uint64(ai, number) != 1 ||
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, ai, 0, 0) != 1)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		int rc;

		if ((rev = X509_REVOKED_new()) == NULL)
			goto nomem;
		if ((rc = set_serial(ai, e[i].serial, e[i].serial_len)) == -1) {
			jcs_fail(ctx, JCS_ERR_INVALID_ARG,
			    "CRL entry %zu: a serial must be positive and at "
			    "most %d octets", i + 1, MAX_SERIAL);
			goto err;
		}
		if (rc != 0 || X509_REVOKED_set_serialNumber(rev, ai) != 1 ||
		    ASN1_TIME_set(tm, e[i].when) == NULL ||
		    X509_REVOKED_set_revocationDate(rev, tm) != 1)
			goto nomem;
		if (e[i].reason != JCS_REASON_UNSPECIFIED &&
		    (ASN1_ENUMERATED_set(reason, e[i].reason) != 1 ||
		    X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, reason, 0,
		    0) != 1))
			goto nomem;
		if (X509_CRL_add0_revoked(crl, rev) != 1)
			goto nomem;
		rev = NULL;
	}
	/* Sorted by serial: a canonical CRL, and duplicates are adjacent. */
	if (X509_CRL_sort(crl) != 1)
		goto nomem;
	revs = X509_CRL_get_REVOKED(crl);
	for (int i = 1; i < sk_X509_REVOKED_num(revs); i++) {
		const ASN1_INTEGER *a = X509_REVOKED_get0_serialNumber(
		    sk_X509_REVOKED_value(revs, i - 1));
		const ASN1_INTEGER *b = X509_REVOKED_get0_serialNumber(
		    sk_X509_REVOKED_value(revs, i));

		if (ASN1_INTEGER_cmp(a, b) == 0) {
			jcs_hex(ASN1_STRING_get0_data(a),
			    (size_t)ASN1_STRING_length(a), hex);
			jcs_fail(ctx, JCS_ERR_INVALID_ARG,
			    "serial %s is listed twice in the CRL", hex);
			goto err;
		}
	}
	if (X509_CRL_sign(crl, key, jcs_key_md(key)) <= 0) {
		if (ERR_GET_REASON(ERR_peek_error()) == ERR_R_MALLOC_FAILURE)
			goto nomem;
		jcs_fail_ossl(ctx, JCS_ERR_CRYPTO,
		    "cannot sign the CRL with the key of %s", who);
		goto err;
	}
	/* one encoding pass: OpenSSL allocates the output */
	if ((len = i2d_X509_CRL(crl, &der)) <= 0)
		goto nomem;
	/* The structures can be large: free them before the PEM copy. */
	X509_CRL_free(crl);
	crl = NULL;
	if ((*pem = der_to_pem(der, (size_t)len, &plen)) == NULL)
		goto nomem;
	if (pem_len != NULL)
		*pem_len = plen;
	OPENSSL_free(der);
	ASN1_TIME_free(tm);
	ASN1_INTEGER_free(ai);
	ASN1_ENUMERATED_free(reason);
	jcs_ok(ctx);
	return 0;
nomem:
	jcs_fail_ossl(ctx, JCS_ERR_NOMEM, "out of memory building a CRL of "
	    "%zu entries", n);
err:
	OPENSSL_free(der);
	X509_REVOKED_free(rev);
	X509_CRL_free(crl);
	ASN1_TIME_free(tm);
	ASN1_INTEGER_free(ai);
	ASN1_ENUMERATED_free(reason);
	ERR_clear_error();
	return -1;
}
