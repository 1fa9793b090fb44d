/*
 * label.c - the label attestation: fields, DER encode/decode, sign, verify
 * the signature. docs/FORMAT.md is the normative description of what the
 * templates below encode.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "internal.h"

/* ---- ASN.1 templates (docs/FORMAT.md, "ASN.1 module") ---- */

typedef struct {
	ASN1_INTEGER *not_before; /* seconds since 1970-01-01T00:00:00Z */
	ASN1_INTEGER *not_after;
} JCS_VALIDITY;

typedef struct {
	ASN1_UTF8STRING *reg_id;
	ASN1_UTF8STRING *vendor;
	ASN1_UTF8STRING *product;
	ASN1_UTF8STRING *model;
	ASN1_UTF8STRING *unit_serial; /* [0] IMPLICIT, OPTIONAL */
} JCS_PRODUCT;

#define ASSESS_SELF 0
#define ASSESS_LAB 1
typedef struct {
	int type;
	union {
		ASN1_NULL *self_declared;
		ASN1_UTF8STRING *third_party;
	} d;
} JCS_ASSESSMENT;

/* Like X.509's Extension, but with critical as BOOLEAN DEFAULT FALSE
 * enforced: OpenSSL's X509_EXTENSION re-encodes an explicit FALSE as it
 * came, which would let a non-DER label through the re-encoding check. */
typedef struct {
	ASN1_OBJECT *id;
	ASN1_BOOLEAN critical;
	ASN1_OCTET_STRING *value;
} JCS_EXT;
DEFINE_STACK_OF(JCS_EXT)

typedef struct {
	ASN1_INTEGER *version;
	ASN1_INTEGER *serial;
	ASN1_OCTET_STRING *issuer;
	JCS_VALIDITY *validity;
	ASN1_ENUMERATED *scheme;
	ASN1_INTEGER *level;
	JCS_PRODUCT *product;
	JCS_ASSESSMENT *assessment;
	ASN1_INTEGER *support_until; /* [0] IMPLICIT, days since 1970-01-01 */
	STACK_OF(JCS_EXT) *extensions; /* [1] IMPLICIT, OPTIONAL */
} JCS_TBS;

typedef struct {
	JCS_TBS *tbs;
	X509_ALGOR *sig_alg;
	ASN1_BIT_STRING *sig;
} JCS_LABEL;

ASN1_SEQUENCE(JCS_VALIDITY) = {
	ASN1_SIMPLE(JCS_VALIDITY, not_before, ASN1_INTEGER),
	ASN1_SIMPLE(JCS_VALIDITY, not_after, ASN1_INTEGER),
} static_ASN1_SEQUENCE_END(JCS_VALIDITY)

ASN1_SEQUENCE(JCS_PRODUCT) = {
	ASN1_SIMPLE(JCS_PRODUCT, reg_id, ASN1_UTF8STRING),
	ASN1_SIMPLE(JCS_PRODUCT, vendor, ASN1_UTF8STRING),
	ASN1_SIMPLE(JCS_PRODUCT, product, ASN1_UTF8STRING),
	ASN1_SIMPLE(JCS_PRODUCT, model, ASN1_UTF8STRING),
	ASN1_IMP_OPT(JCS_PRODUCT, unit_serial, ASN1_UTF8STRING, 0),
} static_ASN1_SEQUENCE_END(JCS_PRODUCT)

ASN1_CHOICE(JCS_ASSESSMENT) = {
	ASN1_SIMPLE(JCS_ASSESSMENT, d.self_declared, ASN1_NULL),
	ASN1_SIMPLE(JCS_ASSESSMENT, d.third_party, ASN1_UTF8STRING),
} static_ASN1_CHOICE_END(JCS_ASSESSMENT)

ASN1_SEQUENCE(JCS_EXT) = {
	ASN1_SIMPLE(JCS_EXT, id, ASN1_OBJECT),
	ASN1_OPT(JCS_EXT, critical, ASN1_FBOOLEAN),
	ASN1_SIMPLE(JCS_EXT, value, ASN1_OCTET_STRING),
} static_ASN1_SEQUENCE_END(JCS_EXT)

ASN1_SEQUENCE(JCS_TBS) = {
	ASN1_SIMPLE(JCS_TBS, version, ASN1_INTEGER),
	ASN1_SIMPLE(JCS_TBS, serial, ASN1_INTEGER),
	ASN1_SIMPLE(JCS_TBS, issuer, ASN1_OCTET_STRING),
	ASN1_SIMPLE(JCS_TBS, validity, JCS_VALIDITY),
	ASN1_SIMPLE(JCS_TBS, scheme, ASN1_ENUMERATED),
	ASN1_SIMPLE(JCS_TBS, level, ASN1_INTEGER),
	ASN1_SIMPLE(JCS_TBS, product, JCS_PRODUCT),
	ASN1_SIMPLE(JCS_TBS, assessment, JCS_ASSESSMENT),
	ASN1_IMP_OPT(JCS_TBS, support_until, ASN1_INTEGER, 0),
	ASN1_IMP_SEQUENCE_OF_OPT(JCS_TBS, extensions, JCS_EXT, 1),
} static_ASN1_SEQUENCE_END(JCS_TBS)

ASN1_SEQUENCE(JCS_LABEL) = {
	ASN1_SIMPLE(JCS_LABEL, tbs, JCS_TBS),
	ASN1_SIMPLE(JCS_LABEL, sig_alg, X509_ALGOR),
	ASN1_SIMPLE(JCS_LABEL, sig, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(JCS_LABEL)

#define LABEL_IT ASN1_ITEM_rptr(JCS_LABEL)
#define TBS_IT ASN1_ITEM_rptr(JCS_TBS)
#define EXT_IT ASN1_ITEM_rptr(JCS_EXT)

#define LABEL_VERSION 0 /* v1 */
#define SERIAL_RANDOM_BYTES 9
#define MAX_TIME ((int64_t)253402300799) /* 9999-12-31T23:59:59Z */
#define MAX_EXTENSIONS 16

enum { S_REG_ID, S_VENDOR, S_PRODUCT, S_MODEL, S_UNIT, S_LAB, S_N };

struct jcs_label {
	JCS_LABEL *asn;
	uint8_t *der;           /* encoding, when signed or parsed */
	size_t der_len;
	jcs_label_fields fields; /* strings point into str[] */
	char *str[S_N];
	char serial_hex[41];
	char issuer_hex[2 * JCS_KEYID_LEN + 1];
	uint8_t issuer[JCS_KEYID_LEN];
	char sig_alg[32];
	size_t n_ext;
	char *ext_oid[MAX_EXTENSIONS];
	int ext_crit[MAX_EXTENSIONS];
};

/* ---- field rules ---- */

static const struct string_rule {
	const char *name;
	size_t max;
	int ascii_id; /* restricted to letters, digits and - . _ / : */
} string_rules[S_N] = {
	[S_REG_ID] = { "registration id", JCS_MAX_REG_ID, 1 },
	[S_VENDOR] = { "vendor", JCS_MAX_VENDOR, 0 },
	[S_PRODUCT] = { "product name", JCS_MAX_PRODUCT, 0 },
	[S_MODEL] = { "model", JCS_MAX_MODEL, 0 },
	[S_UNIT] = { "unit serial", JCS_MAX_UNIT_SERIAL, 1 },
	[S_LAB] = { "lab", JCS_MAX_LAB, 0 },
};

static int
check_string(jcs_ctx *ctx, jcs_err err, int which, const char *s)
{
	const struct string_rule *r = &string_rules[which];
	size_t len = strlen(s), bad;

	if (len == 0)
		return jcs_fail(ctx, err, "%s is empty", r->name);
	if (len > r->max)
		return jcs_fail(ctx, err,
		    "%s is %zu bytes long; at most %zu bytes of UTF-8 are "
		    "allowed", r->name, len, r->max);
	if (jcs_utf8_check(s, len, &bad) == -1)
		return jcs_fail(ctx, err,
		    "%s is not valid UTF-8 text (bad or control character "
		    "at byte %zu)", r->name, bad);
	if (jcs_utf8_edge_space(s, len))
		return jcs_fail(ctx, err,
		    "%s starts or ends with white space", r->name);
	if (r->ascii_id) {
		for (size_t i = 0; i < len; i++)
			if (!isalnum((unsigned char)s[i]) &&
			    strchr("-._/:", s[i]) == NULL)
				return jcs_fail(ctx, err,
				    "%s may hold only ASCII letters, digits "
				    "and - . _ / : (found '%c' at byte %zu)",
				    r->name, s[i], i);
	}
	return 0;
}

/* Checks every field; err is the code to report (INVALID_ARG for a caller's
 * fields, MALFORMED for a decoded label). */
static int
check_fields(jcs_ctx *ctx, jcs_err err, const jcs_label_fields *f)
{
	const char *s[S_N] = { f->product.reg_id, f->product.vendor,
		f->product.product, f->product.model, f->product.unit_serial,
		f->lab };

	/* the scheme's profile: level defined, lab named where the level
	 * is third-party assessed by definition (JC-STAR 3 and 4, ...) */
	if (jcs_profile_check_fields(ctx, err, f, 0) == -1)
		return -1;
	for (int i = 0; i < S_N; i++) {
		if (s[i] == NULL) {
			if (i == S_UNIT || i == S_LAB)
				continue;
			return jcs_fail(ctx, err, "%s is missing",
			    string_rules[i].name);
		}
		if (check_string(ctx, err, i, s[i]) == -1)
			return -1;
	}
	if (f->not_before < 0 || f->not_after > MAX_TIME)
		return jcs_fail(ctx, err, "validity is outside 1970-9999");
	if (f->not_after <= f->not_before)
		return jcs_fail(ctx, err,
		    "validity ends before it starts (not-after <= "
		    "not-before)");
	if (f->support_until < 0 || f->support_until > MAX_TIME ||
	    f->support_until % 86400 != 0)
		return jcs_fail(ctx, err,
		    "support-period end must be a date (midnight UTC) in "
		    "1970-9999");
	return 0;
}

/* ---- ASN.1 <-> fields ---- */

static int
get_time(const ASN1_INTEGER *ai, time_t *out)
{
	int64_t v;

	if (ASN1_INTEGER_get_int64(&v, ai) != 1 || v < 0 || v > MAX_TIME)
		return -1;
	*out = (time_t)v;
	return 0;
}

static char *
dup_asn1_string(const ASN1_STRING *s)
{
	size_t n = (size_t)ASN1_STRING_length(s);
	char *p;

	/* An embedded NUL would make the C string lie about the label. */
	if (memchr(ASN1_STRING_get0_data(s), 0, n) != NULL)
		return NULL;
	if ((p = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(p, ASN1_STRING_get0_data(s), n);
	p[n] = '\0';
	return p;
}

static void
clear_derived(jcs_label *l)
{
	for (int i = 0; i < S_N; i++) {
		free(l->str[i]);
		l->str[i] = NULL;
	}
	for (size_t i = 0; i < l->n_ext; i++) {
		free(l->ext_oid[i]);
		l->ext_oid[i] = NULL;
	}
	l->n_ext = 0;
	memset(&l->fields, 0, sizeof(l->fields));
}

/* Fills the label's plain fields from its ASN.1 structure and checks them.
 * err is the code for a field that breaks the rules. */
static int
sync_fields(jcs_ctx *ctx, jcs_label *l, jcs_err err)
{
	JCS_TBS *t = l->asn->tbs;
	jcs_label_fields *f = &l->fields;
	const ASN1_UTF8STRING *src[S_N];
	int64_t v;
	int n;

	clear_derived(l);
	if (ASN1_INTEGER_get_int64(&v, t->version) != 1 ||
	    v != LABEL_VERSION)
		return jcs_fail(ctx, err,
		    "unsupported label format version (this library reads "
		    "version %d)", LABEL_VERSION);
	/* content octets: the magnitude, plus a 0x00 if its top bit is set */
	n = ASN1_STRING_length(t->serial);
	if (n > 0 && (ASN1_STRING_get0_data(t->serial)[0] & 0x80))
		n++;
	if (ASN1_STRING_type(t->serial) != V_ASN1_INTEGER || n < 8 || n > 20)
		return jcs_fail(ctx, err,
		    "serial must be a positive integer of 8 to 20 bytes");
	jcs_hex(ASN1_STRING_get0_data(t->serial),
	    (size_t)ASN1_STRING_length(t->serial), l->serial_hex);
	if (ASN1_STRING_length(t->issuer) != JCS_KEYID_LEN)
		return jcs_fail(ctx, err,
		    "issuer key identifier is %d bytes, not %d",
		    ASN1_STRING_length(t->issuer), JCS_KEYID_LEN);
	memcpy(l->issuer, ASN1_STRING_get0_data(t->issuer), JCS_KEYID_LEN);
	jcs_hex(l->issuer, JCS_KEYID_LEN, l->issuer_hex);
	if (get_time(t->validity->not_before, &f->not_before) == -1 ||
	    get_time(t->validity->not_after, &f->not_after) == -1)
		return jcs_fail(ctx, err, "validity time out of range");
	if (ASN1_ENUMERATED_get_int64(&v, t->scheme) != 1 || v < 0 ||
	    v > 255)
		return jcs_fail(ctx, err, "scheme value out of range");
	f->scheme = (int)v;
	if (ASN1_INTEGER_get_int64(&v, t->level) != 1 || v < 0 || v > 255)
		return jcs_fail(ctx, err, "level value out of range");
	f->level = (int)v;
	if (t->support_until != NULL) {
		if (ASN1_INTEGER_get_int64(&v, t->support_until) != 1 ||
		    v <= 0 || v > MAX_TIME / 86400)
			return jcs_fail(ctx, err,
			    "support-period end out of range");
		f->support_until = (time_t)(v * 86400);
	}
	src[S_REG_ID] = t->product->reg_id;
	src[S_VENDOR] = t->product->vendor;
	src[S_PRODUCT] = t->product->product;
	src[S_MODEL] = t->product->model;
	src[S_UNIT] = t->product->unit_serial;
	src[S_LAB] = t->assessment->type == ASSESS_LAB ?
	    t->assessment->d.third_party : NULL;
	for (int i = 0; i < S_N; i++) {
		if (src[i] == NULL)
			continue;
		if ((l->str[i] = dup_asn1_string(src[i])) == NULL)
			return jcs_fail(ctx, err,
			    "%s holds a NUL byte (or out of memory)",
			    string_rules[i].name);
	}
	f->product.reg_id = l->str[S_REG_ID];
	f->product.vendor = l->str[S_VENDOR];
	f->product.product = l->str[S_PRODUCT];
	f->product.model = l->str[S_MODEL];
	f->product.unit_serial = l->str[S_UNIT];
	f->lab = l->str[S_LAB];
	if (check_fields(ctx, err, f) == -1)
		return -1;

	n = sk_JCS_EXT_num(t->extensions);
	if (t->extensions != NULL && n == 0)
		return jcs_fail(ctx, err,
		    "extensions field is present but empty");
	if (n > MAX_EXTENSIONS)
		return jcs_fail(ctx, err, "more than %d extensions",
		    MAX_EXTENSIONS);
	for (int i = 0; i < n; i++) {
		JCS_EXT *e = sk_JCS_EXT_value(t->extensions, i);
		char oid[128];

		if (OBJ_obj2txt(oid, sizeof(oid), e->id, 1) <= 0)
			return jcs_fail(ctx, err, "extension %d has a bad "
			    "identifier", i);
		/* OpenSSL keeps a BOOLEAN's content octet as it came and
		 * re-encodes it unchanged: DER wants TRUE as 0xff */
		if (e->critical > 0 && e->critical != 0xff)
			return jcs_fail(ctx, JCS_ERR_NOT_DER,
			    "label is not strict DER: extension %s encodes "
			    "critical TRUE as 0x%02x, not 0xff", oid,
			    (unsigned)e->critical & 0xffu);
		if (ASN1_STRING_length(e->value) > 256)
			return jcs_fail(ctx, err,
			    "extension %s value is %d bytes; at most 256",
			    oid, ASN1_STRING_length(e->value));
		for (size_t k = 0; k < l->n_ext; k++)
			if (strcmp(l->ext_oid[k], oid) == 0)
				return jcs_fail(ctx, err,
				    "extension %s appears twice", oid);
		if ((l->ext_oid[l->n_ext] = jcs_strdup(oid)) == NULL)
			return jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		l->ext_crit[l->n_ext++] = e->critical > 0;
	}
	l->sig_alg[0] = '\0';
	if (l->asn->sig_alg->algorithm != NULL) {
		int nid = OBJ_obj2nid(l->asn->sig_alg->algorithm);

		if (nid == NID_ecdsa_with_SHA256)
			snprintf(l->sig_alg, sizeof(l->sig_alg),
			    "ecdsa-with-SHA256");
		else if (nid == NID_ED25519)
			snprintf(l->sig_alg, sizeof(l->sig_alg), "Ed25519");
	}
	return 0;
}

static int
set_utf8(ASN1_UTF8STRING **dst, const char *s)
{
	if (s == NULL)
		return 0;
	if (*dst == NULL && (*dst = ASN1_UTF8STRING_new()) == NULL)
		return -1;
	return ASN1_STRING_set(*dst, s, (int)strlen(s)) == 1 ? 0 : -1;
}

static int
random_serial(ASN1_INTEGER *ai)
{
	uint8_t b[SERIAL_RANDOM_BYTES];

	/* 72 bits: a first byte in 0x01..0x7f keeps the integer positive and
	 * its encoding 9 bytes long; the 8 bytes after it are random. */
	if (RAND_bytes(b, sizeof(b)) != 1)
		return -1;
	b[0] = (uint8_t)(1 + b[0] % 0x7f);
	return ASN1_STRING_set(ai, b, sizeof(b)) == 1 ? 0 : -1;
}

static void
unsign(jcs_label *l)
{
	free(l->der);
	l->der = NULL;
	l->der_len = 0;
}

jcs_label *
jcs_label_new(jcs_ctx *ctx, const jcs_label_fields *f)
{
	jcs_label *l = NULL;
	JCS_TBS *t;

	if (f == NULL) {
		jcs_fail(ctx, JCS_ERR_INVALID_ARG, "no label fields given");
		return NULL;
	}
	if (check_fields(ctx, JCS_ERR_INVALID_ARG, f) == -1)
		return NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (l->asn = (JCS_LABEL *)ASN1_item_new(LABEL_IT)) == NULL)
		goto nomem;
	t = l->asn->tbs;
	if (ASN1_INTEGER_set_int64(t->version, LABEL_VERSION) != 1 ||
	    random_serial(t->serial) == -1 ||
	    ASN1_OCTET_STRING_set(t->issuer,
	    (const unsigned char *)"\0\0\0\0\0\0\0\0", JCS_KEYID_LEN) != 1 ||
	    ASN1_INTEGER_set_int64(t->validity->not_before,
	    (int64_t)f->not_before) != 1 ||
	    ASN1_INTEGER_set_int64(t->validity->not_after,
	    (int64_t)f->not_after) != 1 ||
	    ASN1_ENUMERATED_set_int64(t->scheme, f->scheme) != 1 ||
	    ASN1_INTEGER_set_int64(t->level, f->level) != 1 ||
	    set_utf8(&t->product->reg_id, f->product.reg_id) == -1 ||
	    set_utf8(&t->product->vendor, f->product.vendor) == -1 ||
	    set_utf8(&t->product->product, f->product.product) == -1 ||
	    set_utf8(&t->product->model, f->product.model) == -1 ||
	    set_utf8(&t->product->unit_serial, f->product.unit_serial) == -1)
		goto nomem;
	if (f->lab != NULL) {
		t->assessment->type = ASSESS_LAB;
		t->assessment->d.third_party = NULL;
		if (set_utf8(&t->assessment->d.third_party, f->lab) == -1)
			goto nomem;
	} else {
		t->assessment->type = ASSESS_SELF;
		if ((t->assessment->d.self_declared = ASN1_NULL_new()) ==
		    NULL)
			goto nomem;
	}
	if (f->support_until != 0) {
		if ((t->support_until = ASN1_INTEGER_new()) == NULL ||
		    ASN1_INTEGER_set_int64(t->support_until,
		    (int64_t)(f->support_until / 86400)) != 1)
			goto nomem;
	}
	if (sync_fields(ctx, l, JCS_ERR_INVALID_ARG) == -1)
		goto err;
	jcs_ok(ctx);
	return l;
nomem:
	jcs_fail_ossl(ctx, JCS_ERR_NOMEM, "cannot build label");
err:
	jcs_label_free(l);
	return NULL;
}

void
jcs_label_free(jcs_label *l)
{
	if (l == NULL)
		return;
	clear_derived(l);
	ASN1_item_free((ASN1_VALUE *)l->asn, LABEL_IT);
	free(l->der);
	free(l);
}

/* Checks that the signature algorithm is one this format allows. */
static int
check_alg(jcs_ctx *ctx, const X509_ALGOR *alg, int *nid_out)
{
	const ASN1_OBJECT *obj;
	int ptype, nid;
	char oid[80];

	X509_ALGOR_get0(&obj, &ptype, NULL, alg);
	nid = OBJ_obj2nid(obj);
	if (nid != NID_ecdsa_with_SHA256 && nid != NID_ED25519) {
		OBJ_obj2txt(oid, sizeof(oid), obj, 1);
		return jcs_fail(ctx, JCS_ERR_MALFORMED,
		    "signature algorithm %s is not allowed (only "
		    "ecdsa-with-SHA256 and Ed25519)", oid);
	}
	if (ptype != V_ASN1_UNDEF)
		return jcs_fail(ctx, JCS_ERR_MALFORMED,
		    "signature algorithm has parameters; they must be absent");
	if (nid_out != NULL)
		*nid_out = nid;
	return 0;
}

jcs_label *
jcs_label_from_der(jcs_ctx *ctx, const uint8_t *der, size_t len)
{
	jcs_label *l = NULL;
	const unsigned char *p = der;

	jcs_ossl_clear();
	if (der == NULL && len > 0) {
		jcs_fail(ctx, JCS_ERR_INVALID_ARG, "no label bytes given");
		return NULL;
	}
	if (len == 0) {
		jcs_fail(ctx, JCS_ERR_MALFORMED, "label is empty");
		return NULL;
	}
	if (len > JCS_LABEL_MAX_DER) {
		jcs_fail(ctx, JCS_ERR_TOO_LARGE,
		    "label is %zu bytes; a label is at most %d bytes", len,
		    JCS_LABEL_MAX_DER);
		return NULL;
	}
	if (jcs_der_check(ctx, der, len, "label", JCS_DER_ANY) == -1)
		return NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	l->asn = (JCS_LABEL *)ASN1_item_d2i(NULL, &p, (long)len, LABEL_IT);
	if (l->asn == NULL) {
		jcs_fail_ossl(ctx, JCS_ERR_MALFORMED,
		    "not a jcstar label (the DER does not match the label "
		    "structure)");
		goto err;
	}
	if (p != der + len) {
		/* jcs_der_check found no trailing bytes: cannot happen */
		jcs_fail(ctx, JCS_ERR_MALFORMED, "label ends at byte %zu of "
		    "%zu", (size_t)(p - der), len);
		goto err;
	}
	/* the DER rules of the label's own types that the decoder lets
	 * through (after it, so that what it refuses stays "malformed", as
	 * the page's verifier says too) */
	if (jcs_der_check(ctx, der, len, "label", JCS_DER_LABEL) == -1)
		goto err;
	if (check_alg(ctx, l->asn->sig_alg, NULL) == -1)
		goto err;
	if ((l->asn->sig->flags & ASN1_STRING_FLAG_BITS_LEFT) &&
	    (l->asn->sig->flags & 0x07) != 0) {
		jcs_fail(ctx, JCS_ERR_MALFORMED,
		    "signature BIT STRING has unused bits");
		goto err;
	}
	if (sync_fields(ctx, l, JCS_ERR_MALFORMED) == -1)
		goto err;
	if ((l->der = malloc(len)) == NULL) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		goto err;
	}
#ifdef JCS_REENCODE_CHECK
	/* Strict DER (jcs_der_check's label rules and the decoder's own)
	 * means the canonical re-encoding is the bytes received, so that
	 * jcs_label_check_sig, which verifies over these bytes, covers
	 * exactly what was decoded. Builds for fuzzing and the sanitizers
	 * prove it on every label. */
	{
		unsigned char *re = NULL;
		int relen = ASN1_item_i2d((ASN1_VALUE *)l->asn, &re, LABEL_IT);

		if (relen > 0 && ((size_t)relen != len ||
		    memcmp(re, der, len) != 0))
			abort();
		OPENSSL_free(re);
	}
#endif
	memcpy(l->der, der, len);
	l->der_len = len;
	jcs_ok(ctx);
	return l;
err:
	jcs_label_free(l);
	ERR_clear_error();
	return NULL;
}

#define PEM_NAME "JCSTAR LABEL"

jcs_label *
jcs_label_parse(jcs_ctx *ctx, const uint8_t *buf, size_t len)
{
	BIO *bio = NULL;
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	long dlen = 0;
	jcs_label *l = NULL;
	size_t i = 0;

	if (buf == NULL || len == 0) {
		jcs_fail(ctx, JCS_ERR_MALFORMED, "label is empty");
		return NULL;
	}
	if (len > JCS_LABEL_MAX_FILE) {
		jcs_fail(ctx, JCS_ERR_TOO_LARGE,
		    "label input is %zu bytes; at most %d are accepted", len,
		    JCS_LABEL_MAX_FILE);
		return NULL;
	}
	if (buf[0] == 0x30)
		return jcs_label_from_der(ctx, buf, len);
	while (i < len && isspace(buf[i]))
		i++;
	if (len - i < 11 || memcmp(buf + i, "-----BEGIN ", 11) != 0) {
		jcs_fail(ctx, JCS_ERR_MALFORMED,
		    "not a jcstar label: neither DER (first byte 0x30) nor "
		    "PEM (-----BEGIN " PEM_NAME "-----)");
		return NULL;
	}
	ERR_clear_error();
	if ((bio = BIO_new_mem_buf(buf + i, (int)(len - i))) == NULL) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	if (PEM_read_bio(bio, &name, &header, &data, &dlen) != 1) {
		jcs_fail_ossl(ctx, JCS_ERR_MALFORMED,
		    "label PEM cannot be decoded");
		goto done;
	}
	if (strcmp(name, PEM_NAME) != 0) {
		jcs_fail(ctx, JCS_ERR_MALFORMED,
		    "PEM block is '%s', expected '" PEM_NAME "'", name);
		goto done;
	}
	if (header != NULL && header[0] != '\0') {
		jcs_fail(ctx, JCS_ERR_MALFORMED,
		    "label PEM has headers; a label PEM has none");
		goto done;
	}
	{
		char rest[64];
		int n;

		while ((n = BIO_read(bio, rest, sizeof(rest))) > 0)
			for (int k = 0; k < n; k++)
				if (!isspace((unsigned char)rest[k])) {
					jcs_fail(ctx, JCS_ERR_MALFORMED,
					    "text after the label's PEM "
					    "block");
					goto done;
				}
	}
	l = jcs_label_from_der(ctx, data, (size_t)dlen);
done:
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	BIO_free(bio);
	ERR_clear_error();
	return l;
}

jcs_label *
jcs_label_load_file(jcs_ctx *ctx, const char *path)
{
	uint8_t *buf = NULL;
	size_t len;
	jcs_label *l;

	if (jcs_read_file(ctx, path, JCS_LABEL_MAX_FILE, &buf, &len) == -1)
		return NULL;
	l = jcs_label_parse(ctx, buf, len);
	free(buf);
	return l;
}

int
jcs_label_set_serial(jcs_ctx *ctx, jcs_label *l, const uint8_t *serial,
    size_t len)
{
	if (l == NULL || serial == NULL || len < 9 || len > 20 ||
	    serial[0] == 0 || serial[0] > 0x7f)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "serial must be 9 to 20 bytes, the first 0x01..0x7f");
	if (ASN1_STRING_set(l->asn->tbs->serial, serial, (int)len) != 1)
		return jcs_fail_ossl(ctx, JCS_ERR_NOMEM, "cannot set serial");
	unsign(l);
	if (sync_fields(ctx, l, JCS_ERR_INVALID_ARG) == -1)
		return -1;
	jcs_ok(ctx);
	return 0;
}

int
jcs_label_add_extension(jcs_ctx *ctx, jcs_label *l, const char *oid,
    int critical, const uint8_t *value, size_t len)
{
	JCS_EXT *e = NULL;
	JCS_TBS *t;

	if (l == NULL || oid == NULL || (value == NULL && len > 0) ||
	    len > 256)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "extension needs an OID and at most 256 value bytes");
	t = l->asn->tbs;
	if (l->n_ext >= MAX_EXTENSIONS)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "a label has at most %d extensions", MAX_EXTENSIONS);
	if ((e = (JCS_EXT *)ASN1_item_new(EXT_IT)) == NULL)
		return jcs_fail_ossl(ctx, JCS_ERR_NOMEM, "out of memory");
	ASN1_OBJECT_free(e->id);
	if ((e->id = OBJ_txt2obj(oid, 1)) == NULL) {
		ASN1_item_free((ASN1_VALUE *)e, EXT_IT);
		ERR_clear_error();
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "'%s' is not a dotted OID", oid);
	}
	e->critical = critical ? 0xff : 0;
	if (ASN1_OCTET_STRING_set(e->value, value, (int)len) != 1 ||
	    (t->extensions == NULL &&
	    (t->extensions = sk_JCS_EXT_new_null()) == NULL) ||
	    sk_JCS_EXT_push(t->extensions, e) <= 0) {
		ASN1_item_free((ASN1_VALUE *)e, EXT_IT);
		return jcs_fail_ossl(ctx, JCS_ERR_NOMEM,
		    "cannot add extension");
	}
	unsign(l);
	if (sync_fields(ctx, l, JCS_ERR_INVALID_ARG) == -1) {
		/* e.g. a duplicate OID: take it back out */
		ASN1_item_free((ASN1_VALUE *)sk_JCS_EXT_pop(t->extensions),
		    EXT_IT);
		if (sk_JCS_EXT_num(t->extensions) == 0) {
			sk_JCS_EXT_free(t->extensions);
			t->extensions = NULL;
		}
		jcs_err err = jcs_ctx_error(ctx);
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", jcs_ctx_message(ctx));
		sync_fields(NULL, l, JCS_ERR_INVALID_ARG);
		return jcs_fail(ctx, err, "%s", msg);
	}
	jcs_ok(ctx);
	return 0;
}

/* ---- getters ---- */

int
jcs_label_version(const jcs_label *l)
{
	return l != NULL ? LABEL_VERSION + 1 : 0;
}

const char *
jcs_label_serial_hex(const jcs_label *l)
{
	return l != NULL ? l->serial_hex : "";
}

const char *
jcs_label_issuer_hex(const jcs_label *l)
{
	return l != NULL ? l->issuer_hex : "";
}

const uint8_t *
jcs_label_issuer_id(const jcs_label *l)
{
	return l->issuer;
}

const jcs_label_fields *
jcs_label_get_fields(const jcs_label *l)
{
	return l != NULL ? &l->fields : NULL;
}

size_t
jcs_label_extension_count(const jcs_label *l)
{
	return l != NULL ? l->n_ext : 0;
}

const char *
jcs_label_extension(const jcs_label *l, size_t i, int *critical)
{
	if (l == NULL || i >= l->n_ext)
		return NULL;
	if (critical != NULL)
		*critical = l->ext_crit[i];
	return l->ext_oid[i];
}

const char *
jcs_label_sig_alg(const jcs_label *l)
{
	return l != NULL && l->der != NULL ? l->sig_alg : "";
}

const uint8_t *
jcs_label_der(const jcs_label *l, size_t *len)
{
	if (l == NULL || l->der == NULL) {
		if (len != NULL)
			*len = 0;
		return NULL;
	}
	if (len != NULL)
		*len = l->der_len;
	return l->der;
}

int
jcs_ext_known(const char *oid)
{
	/* Version 1 defines no label extensions yet (docs/FORMAT.md). */
	(void)oid;
	return 0;
}

/* ---- signing ---- */

int
jcs_label_sign(jcs_ctx *ctx, jcs_label *l, const jcs_key *key)
{
	EVP_MD_CTX *mctx = NULL;
	unsigned char *der = NULL;
	int len;

	jcs_ossl_clear();
	if (l == NULL || key == NULL)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "no label or key given");
	if (jcs_key_alg(key->pkey) == 0)
		return jcs_fail(ctx, JCS_ERR_KEY,
		    "key %s is neither ECDSA P-256 nor Ed25519", key->id_hex);
	if (ASN1_OCTET_STRING_set(l->asn->tbs->issuer, key->id,
	    JCS_KEYID_LEN) != 1)
		return jcs_fail_ossl(ctx, JCS_ERR_NOMEM, "cannot set issuer");
	unsign(l);
	if ((mctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(mctx, NULL, jcs_key_md(key->pkey), NULL,
	    key->pkey) != 1 ||
	    ASN1_item_sign_ctx(TBS_IT, l->asn->sig_alg, NULL, l->asn->sig,
	    l->asn->tbs, mctx) <= 0) {
		jcs_fail_ossl(ctx, JCS_ERR_CRYPTO,
		    "cannot sign label with key %s", key->id_hex);
		goto err;
	}
	if ((len = ASN1_item_i2d((ASN1_VALUE *)l->asn, &der, LABEL_IT)) <= 0) {
		jcs_fail_ossl(ctx, JCS_ERR_CRYPTO, "cannot encode label");
		goto err;
	}
	if ((size_t)len > JCS_LABEL_MAX_DER) {
		jcs_fail(ctx, JCS_ERR_TOO_LARGE,
		    "signed label is %d bytes; at most %d are allowed", len,
		    JCS_LABEL_MAX_DER);
		goto err;
	}
	if ((l->der = malloc((size_t)len)) == NULL) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		goto err;
	}
	memcpy(l->der, der, (size_t)len);
	l->der_len = (size_t)len;
	OPENSSL_free(der);
	EVP_MD_CTX_free(mctx);
	if (sync_fields(ctx, l, JCS_ERR_INVALID_ARG) == -1) {
		unsign(l);
		return -1;
	}
	jcs_ok(ctx);
	return 0;
err:
	OPENSSL_free(der);
	EVP_MD_CTX_free(mctx);
	return -1;
}

/* Returns the span of the tbsLabel inside the received DER (already
 * checked by jcs_der_check, so the header reads are in bounds). */
static void
tbs_span(const jcs_label *l, const uint8_t **p, size_t *len)
{
	const uint8_t *d = l->der;
	size_t off = 1, n, hdr;

	off += (d[1] & 0x80) ? 1 + (d[1] & 0x7fu) : 1; /* outer header */
	hdr = 1;
	if (d[off + 1] & 0x80) {
		size_t k = d[off + 1] & 0x7fu;

		n = 0;
		for (size_t i = 0; i < k; i++)
			n = (n << 8) | d[off + 2 + i];
		hdr += 1 + k;
	} else {
		n = d[off + 1];
		hdr += 1;
	}
	*p = d + off;
	*len = hdr + n;
}

/* SHA-256 of data into md; the digest is fetched once per context. */
static int
sha256(jcs_ctx *ctx, const uint8_t *data, size_t len, uint8_t md[32])
{
	unsigned int n;

	if (ctx->sha256 == NULL &&
	    (ctx->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		return -1;
	return EVP_Digest(data, len, md, &n, ctx->sha256, NULL) == 1 &&
	    n == 32 ? 0 : -1;
}

/* ECDSA with SHA-256 through an EVP_PKEY_CTX kept on ctx for the last key
 * used (labels checked in a row are mostly of one signer): set up once
 * instead of per label. Returns 1 verified, 0 not, -1 error. */
static int
ecdsa_verify_cached(jcs_ctx *ctx, EVP_PKEY *pkey, const uint8_t *tbs,
    size_t tbslen, const uint8_t *sig, size_t siglen)
{
	uint8_t md[32];

	if (ctx->verify_key != pkey) {
		EVP_PKEY_CTX_free(ctx->verify_pctx);
		ctx->verify_key = NULL;
		if ((ctx->verify_pctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey,
		    NULL)) == NULL ||
		    EVP_PKEY_verify_init(ctx->verify_pctx) != 1 ||
		    EVP_PKEY_CTX_set_signature_md(ctx->verify_pctx,
		    EVP_sha256()) != 1) {
			EVP_PKEY_CTX_free(ctx->verify_pctx);
			ctx->verify_pctx = NULL;
			return jcs_fail_ossl(ctx, JCS_ERR_CRYPTO,
			    "cannot set up verification");
		}
		ctx->verify_key = pkey;
	}
	if (sha256(ctx, tbs, tbslen, md) == -1)
		return jcs_fail_ossl(ctx, JCS_ERR_CRYPTO, "cannot hash label");
	return EVP_PKEY_verify(ctx->verify_pctx, sig, siglen, md,
	    sizeof(md)) == 1 ? 1 : 0;
}

int
jcs_label_check_sig(jcs_ctx *ctx, const jcs_label *l, EVP_PKEY *pkey,
    char *why, size_t whylen)
{
	EVP_MD_CTX *mctx = NULL;
	const uint8_t *tbs;
	size_t tbslen;
	int nid = NID_undef, alg, rc = -1;

	if (l->der == NULL)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "label is not signed");
	if (check_alg(ctx, l->asn->sig_alg, &nid) == -1)
		return -1;
	/* the key ecdsa_verify_cached holds (and keeps alive) is P-256:
	 * asking the provider again costs more than the rest of the checks */
	alg = ctx != NULL && ctx->verify_key == pkey ? JCS_ALG_EC_P256 :
	    jcs_key_alg(pkey);
	if ((nid == NID_ED25519) != (alg == JCS_ALG_ED25519) || alg == 0) {
		snprintf(why, whylen, "label is signed with %s but the "
		    "signer key is of another type", l->sig_alg);
		return 0;
	}
	/* Verify over the tbsLabel bytes as received (equal to the canonical
	 * encoding: jcs_label_from_der refused anything else). This is what
	 * ASN1_item_verify does after re-encoding. */
	tbs_span(l, &tbs, &tbslen);
	jcs_ossl_clear();
	if (alg == JCS_ALG_EC_P256 && ctx != NULL) {
		rc = ecdsa_verify_cached(ctx, pkey, tbs, tbslen,
		    ASN1_STRING_get0_data(l->asn->sig),
		    (size_t)ASN1_STRING_length(l->asn->sig));
		if (rc == 0)
			snprintf(why, whylen, "signature does not verify");
		jcs_ossl_clear();
		return rc;
	}
	if ((mctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(mctx, NULL, jcs_key_md(pkey), NULL,
	    pkey) != 1) {
		jcs_fail_ossl(ctx, JCS_ERR_CRYPTO, "cannot set up verification");
		goto done;
	}
	if (EVP_DigestVerify(mctx, ASN1_STRING_get0_data(l->asn->sig),
	    (size_t)ASN1_STRING_length(l->asn->sig), tbs, tbslen) == 1) {
		rc = 1;
	} else {
		snprintf(why, whylen, "signature does not verify");
		rc = 0;
	}
	jcs_ossl_clear();
done:
	EVP_MD_CTX_free(mctx);
	return rc;
}

/* ---- output ---- */

char *
jcs_label_to_pem(jcs_ctx *ctx, const jcs_label *l)
{
	BIO *bio = NULL;
	BUF_MEM *mem;
	char *out = NULL;

	if (l == NULL || l->der == NULL) {
		jcs_fail(ctx, JCS_ERR_INVALID_ARG, "label is not signed");
		return NULL;
	}
	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio(bio, PEM_NAME, "", l->der, (long)l->der_len) <= 0) {
		jcs_fail_ossl(ctx, JCS_ERR_NOMEM, "cannot write PEM");
		goto done;
	}
	BIO_get_mem_ptr(bio, &mem);
	if ((out = malloc(mem->length + 1)) == NULL) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		goto done;
	}
	memcpy(out, mem->data, mem->length);
	out[mem->length] = '\0';
	jcs_ok(ctx);
done:
	BIO_free(bio);
	return out;
}

int
jcs_label_write_file(jcs_ctx *ctx, const jcs_label *l, const char *path)
{
	size_t n = strlen(path);
	int rc;

	if (l == NULL || l->der == NULL)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "label is not signed");
	if (n >= 4 && strcmp(path + n - 4, ".pem") == 0) {
		char *pem = jcs_label_to_pem(ctx, l);

		if (pem == NULL)
			return -1;
		rc = jcs_write_file_atomic(ctx, path, pem, strlen(pem), 0644);
		free(pem);
	} else {
		rc = jcs_write_file_atomic(ctx, path, l->der, l->der_len,
		    0644);
	}
	if (rc == 0)
		jcs_ok(ctx);
	return rc;
}

/* ---- many labels of one registration (batch issuance) ---- */

struct jcs_label_signer {
	jcs_label *tmpl;          /* fields; its tbsLabel is re-encoded */
	const jcs_key *key;
	int alg;
	uint8_t *alg_der;         /* signatureAlgorithm, encoded once */
	size_t alg_len;
	EVP_PKEY_CTX *pctx;       /* ECDSA: signs a SHA-256 digest */
	EVP_MD *sha256;
	EVP_MD_CTX *dctx;         /* ECDSA: the digest, reused */
	EVP_MD_CTX *mtmpl, *mctx; /* Ed25519: DigestSign, copied per label */
	/* random bytes for serials, drawn 64 serials at a time */
	uint8_t rnd[64 * (SERIAL_RANDOM_BYTES - 1)];
	size_t rnd_used;
	int first;                /* the serials' first byte; 0 = random */
};

void
jcs_label_signer_free(struct jcs_label_signer *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s->rnd, sizeof(s->rnd));
	jcs_label_free(s->tmpl);
	OPENSSL_free(s->alg_der);
	EVP_PKEY_CTX_free(s->pctx);
	EVP_MD_free(s->sha256);
	EVP_MD_CTX_free(s->dctx);
	EVP_MD_CTX_free(s->mtmpl);
	EVP_MD_CTX_free(s->mctx);
	free(s);
}

struct jcs_label_signer *
jcs_label_signer_new(jcs_ctx *ctx, const jcs_label_fields *f,
    const jcs_key *key)
{
	struct jcs_label_signer *s;
	unsigned char *der = NULL;
	int len;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	s->key = key;
	s->rnd_used = sizeof(s->rnd);
	/* the fields are checked here, once, and a label is signed the
	 * ordinary way: its signatureAlgorithm is the one to copy */
	if ((s->tmpl = jcs_label_new(ctx, f)) == NULL ||
	    jcs_label_sign(ctx, s->tmpl, key) == -1)
		goto err;
	if ((len = i2d_X509_ALGOR(s->tmpl->asn->sig_alg, &der)) <= 0) {
		jcs_fail_ossl(ctx, JCS_ERR_CRYPTO, "cannot encode the "
		    "signature algorithm");
		goto err;
	}
	s->alg_der = der;
	s->alg_len = (size_t)len;
	s->alg = jcs_key_alg(key->pkey);
	if (jcs_key_in_hsm(key))
		s->alg = 0; /* the engine's own path: jcs_label_sign */
	if (s->alg == JCS_ALG_EC_P256 &&
	    ((s->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
	    (s->dctx = EVP_MD_CTX_new()) == NULL ||
	    (s->pctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL)) ==
	    NULL || EVP_PKEY_sign_init(s->pctx) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(s->pctx, EVP_sha256()) != 1)) {
		jcs_fail_ossl(ctx, JCS_ERR_CRYPTO, "cannot set up signing "
		    "with key %s", key->id_hex);
		goto err;
	}
	if (s->alg == JCS_ALG_ED25519 &&
	    ((s->mtmpl = EVP_MD_CTX_new()) == NULL ||
	    (s->mctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(s->mtmpl, NULL, NULL, NULL, key->pkey) != 1)) {
		jcs_fail_ossl(ctx, JCS_ERR_CRYPTO, "cannot set up signing "
		    "with key %s", key->id_hex);
		goto err;
	}
	jcs_ok(ctx);
	return s;
err:
	jcs_label_signer_free(s);
	return NULL;
}

void
jcs_label_signer_set_serial_first(struct jcs_label_signer *s, int first)
{
	s->first = first >= 1 && first <= 0x7f ? first : 0;
}

/* A serial as random_serial makes it, from the signer's store of random
 * bytes (one RAND_bytes call per 64 serials), its first byte s->first if
 * set. */
static int
signer_serial(struct jcs_label_signer *s, ASN1_INTEGER *ai)
{
	uint8_t b[SERIAL_RANDOM_BYTES];
	const size_t n = SERIAL_RANDOM_BYTES - 1;

	if (s->rnd_used + n > sizeof(s->rnd)) {
		if (RAND_bytes(s->rnd, sizeof(s->rnd)) != 1)
			return -1;
		s->rnd_used = 0;
	}
	if (s->first != 0) {
		b[0] = (uint8_t)s->first;
	} else {
		if (RAND_bytes(b, 1) != 1)
			return -1;
		b[0] = (uint8_t)(1 + b[0] % 0x7f);
	}
	memcpy(b + 1, s->rnd + s->rnd_used, n);
	OPENSSL_cleanse(s->rnd + s->rnd_used, n);
	s->rnd_used += n;
	return ASN1_STRING_set(ai, b, sizeof(b)) == 1 ? 0 : -1;
}

/* Writes a DER length; returns its size (out NULL: only the size). */
static size_t
der_len(uint8_t *out, size_t n)
{
	size_t k = 0;

	if (n < 0x80) {
		if (out != NULL)
			out[0] = (uint8_t)n;
		return 1;
	}
	for (size_t v = n; v > 0; v >>= 8)
		k++;
	if (out != NULL) {
		out[0] = (uint8_t)(0x80 | k);
		for (size_t i = 0; i < k; i++)
			out[1 + i] = (uint8_t)(n >> (8 * (k - 1 - i)));
	}
	return 1 + k;
}

int
jcs_label_signer_sign(jcs_ctx *ctx, struct jcs_label_signer *s,
    const jcs_label_fields *f, uint8_t **der_out, size_t *len_out,
    char serial_hex[41])
{
	JCS_TBS *t = s->tmpl->asn->tbs;
	unsigned char *tbs = NULL;
	uint8_t sig[256], md[32], *der = NULL, *p;
	size_t siglen = sizeof(sig), bits, content, total;
	unsigned int mdlen;
	int tbslen;

	*der_out = NULL;
	*len_out = 0;
	ERR_clear_error();
	if (s->alg == 0) {
		/* a key in an HSM: the ordinary path */
		jcs_label *l = jcs_label_new(ctx, f);
		const uint8_t *d;

		if (l == NULL || jcs_label_sign(ctx, l, s->key) == -1 ||
		    (d = jcs_label_der(l, len_out)) == NULL ||
		    (*der_out = malloc(*len_out)) == NULL) {
			if (l != NULL && jcs_ctx_error(ctx) == JCS_OK)
				jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
			jcs_label_free(l);
			*len_out = 0;
			return -1;
		}
		memcpy(*der_out, d, *len_out);
		snprintf(serial_hex, 41, "%s", jcs_label_serial_hex(l));
		jcs_label_free(l);
		return 0;
	}
	if (f->product.unit_serial != NULL && check_string(ctx,
	    JCS_ERR_INVALID_ARG, S_UNIT, f->product.unit_serial) == -1)
		return -1;
	if (signer_serial(s, t->serial) == -1 ||
	    ASN1_INTEGER_set_int64(t->validity->not_before,
	    (int64_t)f->not_before) != 1 ||
	    ASN1_INTEGER_set_int64(t->validity->not_after,
	    (int64_t)f->not_after) != 1)
		return jcs_fail_ossl(ctx, JCS_ERR_NOMEM, "cannot build label");
	if (f->product.unit_serial == NULL) {
		ASN1_UTF8STRING_free(t->product->unit_serial);
		t->product->unit_serial = NULL;
	} else if (set_utf8(&t->product->unit_serial,
	    f->product.unit_serial) == -1) {
		return jcs_fail_ossl(ctx, JCS_ERR_NOMEM, "cannot build label");
	}
	if ((tbslen = ASN1_item_i2d((ASN1_VALUE *)t, &tbs, TBS_IT)) <= 0)
		return jcs_fail_ossl(ctx, JCS_ERR_CRYPTO, "cannot encode "
		    "label");
	if (s->alg == JCS_ALG_EC_P256) {
		if (EVP_DigestInit_ex(s->dctx, s->sha256, NULL) != 1 ||
		    EVP_DigestUpdate(s->dctx, tbs, (size_t)tbslen) != 1 ||
		    EVP_DigestFinal_ex(s->dctx, md, &mdlen) != 1 ||
		    EVP_PKEY_sign(s->pctx, sig, &siglen, md, mdlen) != 1)
			goto sign_err;
	} else if (EVP_MD_CTX_copy_ex(s->mctx, s->mtmpl) != 1 ||
	    EVP_DigestSign(s->mctx, sig, &siglen, tbs, (size_t)tbslen) != 1) {
		goto sign_err;
	}
	/* Label ::= SEQUENCE { tbsLabel, signatureAlgorithm,
	 * signature BIT STRING (no unused bits) } */
	bits = 1 + siglen;
	content = (size_t)tbslen + s->alg_len + 1 + der_len(NULL, bits) + bits;
	total = 1 + der_len(NULL, content) + content;
	if (total > JCS_LABEL_MAX_DER) {
		jcs_fail(ctx, JCS_ERR_TOO_LARGE, "signed label is %zu bytes; "
		    "at most %d are allowed", total, JCS_LABEL_MAX_DER);
		goto err;
	}
	if ((der = malloc(total)) == NULL) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		goto err;
	}
	p = der;
	*p++ = 0x30;
	p += der_len(p, content);
	memcpy(p, tbs, (size_t)tbslen);
	p += tbslen;
	memcpy(p, s->alg_der, s->alg_len);
	p += s->alg_len;
	*p++ = 0x03;
	p += der_len(p, bits);
	*p++ = 0x00;
	memcpy(p, sig, siglen);
	jcs_hex(ASN1_STRING_get0_data(t->serial),
	    (size_t)ASN1_STRING_length(t->serial), serial_hex);
	OPENSSL_free(tbs);
	*der_out = der;
	*len_out = total;
	return 0;
sign_err:
	jcs_fail_ossl(ctx, JCS_ERR_CRYPTO, "cannot sign label with key %s",
	    s->key->id_hex);
err:
	OPENSSL_free(tbs);
	return -1;
}
