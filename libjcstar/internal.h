/*
 * internal.h - what libjcstar's modules share. Never installed.
 *
 * The public header is included with default visibility so that exactly its
 * functions are exported from libjcstar.so; everything else is compiled with
 * -fvisibility=hidden.
 */
#ifndef JCSTAR_INTERNAL_H
#define JCSTAR_INTERNAL_H

#pragma GCC visibility push(default)
#include "jcstar.h"
#pragma GCC visibility pop

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define JCS_KEYID_LEN 8

/* 2.25.<UUID 8a8f04c3-9b1e-4e8d-8ec3-14fbd72220aa as an integer>: the
 * project's OID arc (docs/FORMAT.md). */
#define JCS_OID_ARC "2.25.184176058496225790952593353622520209578"
#define JCS_OID_EKU_LABEL_SIGNING JCS_OID_ARC ".2.1"
#define JCS_OID_EXT_ARC JCS_OID_ARC ".3"

struct jcs_ctx {
	jcs_err err;
	char msg[512];
	const jcs_schemes *schemes; /* NULL: the built-in set */
	jcs_decision decision;      /* of the last jcs_verify */
	int has_decision;
	/* set by batch issuance around a chunk's files, which are then made
	 * durable together with one syncfs(2) instead of one fsync each */
	int defer_sync;
	/* ECDSA verification reuses one EVP_PKEY_CTX per signer key in a row
	 * (it holds a reference to verify_key, so the address stays that
	 * key's), and SHA-256 fetched once */
	EVP_PKEY_CTX *verify_pctx;
	const EVP_PKEY *verify_key;
	EVP_MD *sha256;
};

/* Returns a new context with ctx's settings (scheme profiles), for another
 * thread; NULL out of memory. */
jcs_ctx *jcs_ctx_new_like(const jcs_ctx *ctx);

/* Sets ctx's error and message (printf-style). Always returns -1 so that
 * callers can write `return jcs_fail(...)`. ctx may be NULL. */
int jcs_fail(jcs_ctx *ctx, jcs_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Like jcs_fail, appending ": " and the oldest OpenSSL error on the queue (if
 * any), then clearing the queue. */
int jcs_fail_ossl(jcs_ctx *ctx, jcs_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Clears ctx's error and OpenSSL's error queue. */
void jcs_ok(jcs_ctx *ctx);
/* clears OpenSSL's error queue of this thread, if it holds anything */
void jcs_ossl_clear(void);

/* util.c */
/* Reads a whole file (or stdin for "-") of at most max bytes into a new
 * buffer (NUL-terminated, for jcs_free). what names the file in errors. */
int jcs_read_file(jcs_ctx *ctx, const char *path, size_t max, uint8_t **out,
    size_t *outlen);
/* Writes data to path atomically (temporary file + fsync + rename) with the
 * given mode; "-" writes stdout. */
int jcs_write_file_atomic(jcs_ctx *ctx, const char *path, const void *data,
    size_t len, int mode);
/* Creates path with O_EXCL|O_NOFOLLOW and mode 0600 and writes data. */
int jcs_write_secret_file(jcs_ctx *ctx, const char *path, const void *data,
    size_t len);
void jcs_hex(const uint8_t *in, size_t len, char *out); /* out: 2*len+1 */
/* Returns 0 if s (len bytes) is well-formed UTF-8 with no control
 * characters (C0, C1, DEL, and invisible format/bidi controls), else -1 and
 * *bad set to the offending byte offset. */
int jcs_utf8_check(const char *s, size_t len, size_t *bad);
/* Returns 1 if well-formed UTF-8 s starts or ends with white space (ASCII
 * or Unicode Zs, e.g. U+3000 ideographic space), else 0. */
int jcs_utf8_edge_space(const char *s, size_t len);
/* Adds n calendar years to t (Feb 29 -> Mar 1). */
time_t jcs_add_years(time_t t, int n);
/* ASN1_TIME -> time_t. Returns 0 or -1. */
int jcs_asn1_time_to_time(const ASN1_TIME *at, time_t *out);
char *jcs_strdup(const char *s);
/* snprintf for paths; returns -1 if the result was truncated. */
int jcs_pathf(char *out, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* key.c */
struct jcs_key {
	EVP_PKEY *pkey;
	uint8_t id[JCS_KEYID_LEN];
	char id_hex[2 * JCS_KEYID_LEN + 1];
};
/* Computes the key identifier of a public key. Returns 0 or -1. */
int jcs_key_id_of(const EVP_PKEY *pkey, uint8_t id[JCS_KEYID_LEN]);
/* The key identifier of a certificate's key, over its SubjectPublicKeyInfo
 * as encoded in it. Returns 0 or -1. */
int jcs_cert_key_id(const X509 *cert, uint8_t id[JCS_KEYID_LEN]);
/* jcs_key_load of the private key of cert (a key file; an HSM URI in it
 * is loaded as by jcs_key_load): the key takes cert's identifier if it is
 * cert's key, else its own, for the caller to compare. */
jcs_key *jcs_key_load_cert(jcs_ctx *ctx, const char *path,
    const char *passphrase, const X509 *cert);
/* Wraps pkey (ownership taken on success). */
jcs_key *jcs_key_from_pkey(jcs_ctx *ctx, EVP_PKEY *pkey);
/* The same, with cert's identifier if pkey is cert's key (cert may be
 * NULL). */
jcs_key *jcs_key_from_pkey_cert(jcs_ctx *ctx, EVP_PKEY *pkey,
    const X509 *cert);
/* Generates a key of alg. */
EVP_PKEY *jcs_key_generate(jcs_ctx *ctx, int alg);
/* Returns the jcs_alg of a key, 0 if not one we use. */
int jcs_key_alg(const EVP_PKEY *pkey);
/* 1 if the key is held in an HSM (the pkcs11 engine signs with it): one
 * signature at a time, through the engine. */
int jcs_key_in_hsm(const jcs_key *key);
/* Returns the digest to sign with for pkey (NULL for Ed25519). */
const EVP_MD *jcs_key_md(const EVP_PKEY *pkey);
/* PEM (PKCS#8, encrypted with AES-256-CBC if passphrase) for jcs_free. */
int jcs_key_to_pem(jcs_ctx *ctx, EVP_PKEY *pkey, const char *passphrase,
    char **out, size_t *outlen);

/* label.c */
/* Checks the label's signature with pkey over the received tbsLabel bytes.
 * Returns 1 verified, 0 not verified (reason in buf), -1 error. */
int jcs_label_check_sig(jcs_ctx *ctx, const jcs_label *label, EVP_PKEY *pkey,
    char *why, size_t whylen);
/* Returns the issuer key id bytes (JCS_KEYID_LEN). */
const uint8_t *jcs_label_issuer_id(const jcs_label *label);
/* Returns 1 if the label has an extension this version understands. */
int jcs_ext_known(const char *oid);

/* For batch issuance: a signer of many labels that differ only in serial,
 * unit serial and validity, with its own OpenSSL contexts (one per thread;
 * the key is shared read-only). jcs_label_signer_new checks f and signs one
 * label the ordinary way to learn the signature algorithm's encoding.
 * Returns the signer or NULL. */
struct jcs_label_signer;
struct jcs_label_signer *jcs_label_signer_new(jcs_ctx *ctx,
    const jcs_label_fields *f, const jcs_key *key);
void jcs_label_signer_free(struct jcs_label_signer *s);
/* Signs a label with the signer's fields, a fresh random serial, and
 * f's unit serial (may be NULL), not_before and not_after (the other
 * fields of f are those given to jcs_label_signer_new). The DER, the same
 * bytes jcs_label_sign would give, goes to *der (for free()), the serial's
 * hex to serial_hex. Returns 0 or -1. */
int jcs_label_signer_sign(jcs_ctx *ctx, struct jcs_label_signer *s,
    const jcs_label_fields *f, uint8_t **der, size_t *len,
    char serial_hex[41]);
/* Sets the first byte (1 to 0x7f) of the serials s signs from now on; 0
 * (the default) draws it per label. The 8 bytes after it are random
 * either way. A batch sets one random first byte per transaction, so that
 * its serials land close together in the registry's serial index (a
 * commit then writes a few index pages, not one per label). */
void jcs_label_signer_set_serial_first(struct jcs_label_signer *s,
    int first);

/* der.c */
/* Checks that buf is exactly one well-formed definite-length TLV with
 * minimal length encodings, nested elements inside their parents, at most
 * max_depth deep; rules JCS_DER_LABEL adds the label format's DER rules
 * (der.c). Sets JCS_ERR_TRUNCATED / JCS_ERR_NOT_DER / JCS_ERR_MALFORMED
 * with the byte offset. what names the object ("label"). */
enum { JCS_DER_ANY, JCS_DER_LABEL };
int jcs_der_check(jcs_ctx *ctx, const uint8_t *buf, size_t len,
    const char *what, int rules);

/* trust.c, for tests */
/* Overrides the key id of signer i, to test two signers sharing an id. */
int jcs_trust_insecure_set_signer_id(jcs_trust *trust, size_t i,
    const uint8_t id[JCS_KEYID_LEN]);

/* payload.c: Base45 (RFC 9285) and digit groups (7 bytes -> 17 digits).
 * Encoders write a NUL-terminated string; out must hold *_encoded_len + 1.
 * Decoders write at most n bytes; offset is added to reported positions. */
size_t jcs_base45_encoded_len(size_t n);
void jcs_base45_encode(const uint8_t *in, size_t n, char *out);
int jcs_base45_decode(jcs_ctx *ctx, const char *in, size_t n, uint8_t *out,
    size_t *outlen, size_t offset);
size_t jcs_digits_encoded_len(size_t n);
void jcs_digits_encode(const uint8_t *in, size_t n, char *out);
int jcs_digits_decode(jcs_ctx *ctx, const char *in, size_t n, uint8_t *out,
    size_t *outlen, size_t offset);

/* crl.c */
struct jcs_crl_entry {
	const uint8_t *serial;  /* big-endian magnitude, positive */
	size_t serial_len;
	time_t when;            /* revocation date */
	int reason;             /* JCS_REASON_* */
};
/* Builds and signs an X.509 v2 CRL with issuer = issuer_cert's subject,
 * an authorityKeyIdentifier from issuer_cert, cRLNumber number,
 * thisUpdate/nextUpdate, and one revoked entry (with a reasonCode
 * extension unless unspecified) per e[i]. Signs with key (SHA-256 for EC,
 * none for Ed25519). Returns 0 and a NUL-terminated PEM text for free()
 * in *pem, or -1. */
int jcs_crl_build(jcs_ctx *ctx, X509 *issuer_cert, EVP_PKEY *key,
    const struct jcs_crl_entry *e, size_t n, uint64_t number,
    time_t this_update, time_t next_update, char **pem, size_t *pem_len);

struct ca_signer {
	int n;
	X509 *cert;
	char id_hex[2 * JCS_KEYID_LEN + 1];
};

/* ca.c: an open CA directory (opaque to callers: jcstar.h). */
struct jcs_registry;

struct jcs_ca {
	char *dir;
	char *name;
	char *verify_url;
	int alg;
	int encrypted; /* keys are passphrase-encrypted (ca.conf) */
	char *passphrase;
	X509 *root;
	struct ca_signer *signers;
	size_t n_signers;
	jcs_key *key; /* current signer's key, loaded when first needed */
	struct jcs_registry *reg; /* registry.db, opened when first needed */
};

/* Returns the current signer's key, loading it when first needed. */
const jcs_key *jcs_ca_current_key(jcs_ctx *ctx, jcs_ca *ca);

/* Applies the scheme's issuance rules to opts: the fields of a label the
 * current signer may sign now, in *f (strings point into opts). Returns 0
 * or -1. */
int jcs_ca_label_fields(jcs_ctx *ctx, jcs_ca *ca, const jcs_issue_opts *opts,
    jcs_label_fields *f);
/* Applies the scheme's issuance rules and signs a new label with the
 * current signer; records nothing (the registry does, jcs_ca_issue*). */
jcs_label *jcs_ca_make_label(jcs_ctx *ctx, jcs_ca *ca,
    const jcs_issue_opts *opts);

/* registry.c */
void jcs_registry_close(struct jcs_registry *r);
/* Creates the registry of a new CA directory dir, with its first audit
 * entry ("init"). Returns 0 or -1. */
int jcs_registry_create(jcs_ctx *ctx, const char *dir, const char *name);
/* Batch issuance's writer (batch.c): statements prepared once, the audit
 * head kept in memory during a transaction. Returns it, or NULL (the
 * registration is unknown or withdrawn, or the registry unusable). */
struct jcs_regbatch;
struct jcs_regbatch *jcs_regbatch_new(jcs_ctx *ctx, jcs_ca *ca,
    const char *reg_id);
void jcs_regbatch_free(struct jcs_regbatch *b);
/* The registration's fields (owned by b). */
const jcs_registration *jcs_regbatch_registration(
    const struct jcs_regbatch *b);
/* The DER of the label already issued to unit of the batch's registration
 * (outside a transaction, a registration that had no unit labels when b was
 * made is not searched: a unit labelled since is found by the insert):
 * 1 (in *der, for free(); its serial in hex and its not_after too, if
 * serial and not_after are not NULL), 0 none, -1 error. Inside a
 * transaction or not. */
int jcs_regbatch_find(jcs_ctx *ctx, struct jcs_regbatch *b, const char *unit,
    uint8_t **der, size_t *len, char serial[41], time_t *not_after);
/* From now on, a commit does not wait for the disk (SQLite's WAL with
 * synchronous=NORMAL): the caller must fdatasync the returned descriptor
 * of the WAL file after a commit, and hand out nothing of that commit
 * before the sync returns 0. Returns the descriptor (owned by b), or -1
 * if that cannot be set up: commits then sync as before. */
int jcs_regbatch_defer_sync(struct jcs_regbatch *b);
/* Starts (start 1) or ends (0) a read transaction around lookups with
 * jcs_regbatch_find, outside a write transaction. */
void jcs_regbatch_read(struct jcs_regbatch *b, int start);
/* BEGIN IMMEDIATE (waits for other writers), then checks that the
 * registration is still issuable (JCS_ERR_REVOKED if withdrawn). 0 or -1
 * (rolled back). */
int jcs_regbatch_begin(jcs_ctx *ctx, struct jcs_regbatch *b);
/* Records one label and its audit entry in the open transaction. Returns 0,
 * 1 if the unit already has a label (another writer was first), 2 if the
 * serial is taken, -1 on error (the caller rolls back). */
int jcs_regbatch_add(jcs_ctx *ctx, struct jcs_regbatch *b, const char *serial,
    const char *unit, const char *signer, time_t not_before,
    time_t not_after, const uint8_t *der, size_t len);
/* Writes the audit head back and commits; 0 or -1 (rolled back). */
int jcs_regbatch_commit(jcs_ctx *ctx, struct jcs_regbatch *b);
void jcs_regbatch_rollback(struct jcs_regbatch *b);
/* Appends an audit entry to ca's registry, in its own transaction unless
 * one is open. For operations outside the registry (init, rotate). */
int jcs_registry_audit_op(jcs_ctx *ctx, jcs_ca *ca, const char *op,
    const char *subject, const char *result);

/* jobs.c: a pool of jobs - 1 helper threads for batch work. */
struct jcs_pool;
/* Returns a pool, or NULL (JCS_ERR_INVALID_ARG for jobs outside 1 to
 * jcs_jobs_max(), JCS_ERR_NOMEM). */
struct jcs_pool *jcs_pool_new(jcs_ctx *ctx, int jobs);
void jcs_pool_free(struct jcs_pool *p);
int jcs_pool_jobs(const struct jcs_pool *p);
/* Starts fn(arg, i, worker) for every i < n on the helpers (worker 1 to
 * jobs - 1) and returns at once; the caller may do other work. */
void jcs_pool_start(struct jcs_pool *p, void (*fn)(void *arg, size_t i,
    int worker), void *arg, size_t n);
/* Runs the items not yet taken on the caller (worker 0) and returns when
 * every item of the job is done. */
void jcs_pool_wait(struct jcs_pool *p);

/* util.c */
/* The value of a hexadecimal digit (either case), or -1. */
int jcs_hex_digit(int c);

/* batch.c */
/* Checks every line of a units CSV file (docs/BATCH.md) and counts them
 * into *rows. Returns 0, or -1 with the bad lines listed. */
int jcs_batch_check_rows(jcs_ctx *ctx, const char *path,
    unsigned long *rows, const jcs_batch_opts *opts);
/* Pass 1 keeps the units seen in a table in memory of JCS_SEEN_SLOTS
 * slots, indexed by this hash, while they fit; tests make units collide
 * with it. */
#define JCS_SEEN_SLOTS 262144
uint64_t jcs_batch_unit_hash(const char *unit);

/* scheme.c */
/* Like jcs_fail, prefixing "FILE:LINE: " (or "FILE: " when line is 0). */
int jcs_fail_at(jcs_ctx *ctx, jcs_err err, const char *file, int line,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Parses a decimal number of at most 9 digits in [lo, hi] from s[0..len).
 * Returns 0 or -1. */
int jcs_parse_int(const char *s, size_t len, int lo, int hi, int *out);
/* Parses "N" or "LOW-HIGH" (1..255). Returns 0 or -1. */
int jcs_parse_level_range(const char *s, int *lo, int *hi);
/* Returns a new set without profiles, or NULL. */
jcs_schemes *jcs_schemes_new_empty(jcs_ctx *ctx);
/* Adds one profile from text to set. Returns 0 or -1. */
int jcs_schemes_add_mem(jcs_ctx *ctx, jcs_schemes *set, const char *name,
    const char *text, size_t len);
/* Returns the profile ctx uses for scheme (ctx may be NULL: built in). */
const jcs_profile *jcs_profile_of(const jcs_ctx *ctx, int scheme);
/* 1 if level is defined by p. */
int jcs_profile_level_ok(const jcs_profile *p, int level);
/* The template name for a level, or NULL. */
const char *jcs_profile_template(const jcs_profile *p, int level);
/* Returns a display name ("JC-STAR", "CLS", ...). */
const char *jcs_scheme_display(const jcs_ctx *ctx, int scheme);
/* Checks fields against their scheme's profile: level defined, lab named
 * from third_party_from, and (issuing) support_until when required.
 * Fails with err. */
int jcs_profile_check_fields(jcs_ctx *ctx, jcs_err err,
    const jcs_label_fields *f, int issuing);
/* Sets *limit to the latest end of a label starting not_before under p
 * (validity cap, support period) and *why to the rule that set it. Returns
 * 0, or -1 (JCS_ERR_POLICY_RULE) if nothing bounds it. */
int jcs_profile_validity(jcs_ctx *ctx, const jcs_profile *p,
    time_t not_before, time_t support_until, time_t *limit,
    const char **why);

/* builtin.c (generated from certs/ by scripts/embed-data) */
struct jcs_builtin_file {
	const char *name;
	const char *text;
};
extern const struct jcs_builtin_file jcs_builtin_schemes[]; /* NULL-ended */
extern const struct jcs_builtin_file jcs_builtin_recognition;
extern const struct jcs_builtin_file jcs_builtin_policy;

/* recognition.c */
struct jcs_basis {
	int kind, scheme, level;
	char serial[41], issuer[17];
	char model[JCS_MAX_MODEL + 1];
	uint8_t *content;        /* the label's DER, or the statement */
	size_t len;
	char summary[400];
};

/* qr.c */
/* The code's modules, width * width bytes row by row, 1 for dark, 0 for
 * light; valid until jcs_qr_free(qr). */
const uint8_t *jcs_qr_modules(const jcs_qr *qr);

/* pngwrite.c */
/* An image for jcs_png_write_flat: h rows of w bytes at px, each byte
 * written as sample[byte] in depth bits (1, 2, 4 or 8): a grey level, or,
 * with a palette of npal (1-256) colours, an index into it. */
typedef struct jcs_png_image {
	int w, h, depth;
	const uint8_t *px;
	uint8_t sample[256];
	int npal;              /* 0: greyscale */
	uint8_t pal[256][3];   /* r, g, b */
	uint32_t ppm;          /* pHYs, pixels per metre; 0: none */
	/* for a keep: the pixels of the image last written with it, as they
	 * were then (where this image's agree, its rows are not packed
	 * again), or NULL */
	const uint8_t *was;
} jcs_png_image;

/* What the writer keeps of one image for the next (a batch's labels
 * differ in a few places): its filtered rows and where its deflate symbols
 * start. */
typedef struct jcs_png_keep jcs_png_keep;

/* Returns an empty keep, or NULL when out of memory. */
jcs_png_keep *jcs_png_keep_new(void);
/* Frees it and what it holds. NULL is a no-op. */
void jcs_png_keep_free(jcs_png_keep *k);
/* Returns the bytes it holds (0 for NULL). */
size_t jcs_png_keep_size(const jcs_png_keep *k);

/* Encodes img as a PNG file (no interlace, filter None, one IDAT deflated
 * with the fixed codes: fast for flat artwork whose rows repeat). With
 * keep (else NULL), the deflated rows of the image written before with it
 * are reused where this image's agree, and this image is kept instead: the
 * file is the same byte for byte either way. Sets *out (for free()) and
 * *outlen. Returns 0, or -1 when out of memory or img is not valid (size,
 * depth, palette, or a row over 32767 bytes). */
int jcs_png_write_flat(const jcs_png_image *img, jcs_png_keep *keep,
    uint8_t **out, size_t *outlen);

#endif
