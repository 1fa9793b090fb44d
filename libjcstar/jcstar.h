/*
 * jcstar.h - libjcstar, verifiable IoT security labels.
 *
 * The one public header of libjcstar. It includes only <stddef.h>,
 * <stdint.h> and <time.h>; every type is opaque or plain data.
 *
 * Conventions
 *  - Functions that can fail take a jcs_ctx and return 0 / -1, or a pointer /
 *    NULL. On failure the reason is in the context: jcs_ctx_error() (a
 *    jcs_err code) and jcs_ctx_message() (one human sentence). On success the
 *    context's error is cleared.
 *  - Every object has a constructor and a destructor; every *_free(NULL) is a
 *    no-op. Buffers the library hands out are released with jcs_free().
 *  - Strings passed in are copied; strings returned by getters stay valid as
 *    long as the object they came from.
 *  - The library never prints, never exits and never aborts on bad input.
 *  - A function that weakens a check says so in its name (..._insecure_...).
 */
#ifndef JCSTAR_H
#define JCSTAR_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#define JCS_VERSION_MAJOR 0
#define JCS_VERSION_MINOR 1
#define JCS_VERSION_PATCH 0
#define JCS_VERSION_STRING "0.1.0"
/* Encoded as 0xMMmmpp, for compile-time comparisons. */
#define JCS_VERSION_NUMBER \
	((JCS_VERSION_MAJOR << 16) | (JCS_VERSION_MINOR << 8) | JCS_VERSION_PATCH)

/* Returns the run-time library version, e.g. "0.1.0". Never NULL. */
const char *jcs_version(void);

/* ------------------------------------------------------------------------ */
/* Errors and the context                                                   */
/* ------------------------------------------------------------------------ */

typedef enum jcs_err {
	JCS_OK = 0,
	/* usage and environment */
	JCS_ERR_INVALID_ARG,      /* a caller passed a bad argument or field */
	JCS_ERR_NOMEM,            /* out of memory */
	JCS_ERR_IO,               /* a file could not be read or written */
	JCS_ERR_EXISTS,           /* refusing to overwrite (e.g. a CA dir) */
	JCS_ERR_TOO_LARGE,        /* input over its size cap */
	JCS_ERR_KEY,              /* a key could not be loaded or used */
	JCS_ERR_PASSPHRASE,       /* missing or wrong passphrase */
	JCS_ERR_PROFILE,          /* bad certificate profile file */
	JCS_ERR_CRYPTO,           /* an OpenSSL operation failed */
	JCS_ERR_POLICY_RULE,      /* an issuance rule refused the label */
	/* the label itself is not a well-formed label */
	JCS_ERR_MALFORMED,        /* not a jcstar label (bad DER, bad field) */
	JCS_ERR_TRUNCATED,        /* the encoding ends early */
	JCS_ERR_NOT_DER,          /* valid BER but not strict DER */
	/* verification verdicts (CLI exit status 1) */
	JCS_ERR_BAD_SIGNATURE,    /* forged or altered: signature fails */
	JCS_ERR_UNKNOWN_ISSUER,   /* no signer in the bundle has that key id */
	JCS_ERR_UNTRUSTED,        /* signer does not chain to a trusted root */
	JCS_ERR_NOT_LABEL_SIGNER, /* signer lacks the label-signing EKU */
	JCS_ERR_SIGNER_EXPIRED,   /* signer cert not valid at that time */
	JCS_ERR_EXPIRED,          /* label past its not-after time */
	JCS_ERR_NOT_YET_VALID,    /* label before its not-before time */
	JCS_ERR_OUTSIDE_SIGNER,   /* label validity not within the signer's */
	JCS_ERR_UNKNOWN_CRITICAL, /* an unknown critical extension */
	JCS_ERR_REVOKED,          /* the label or its signer is revoked */
	JCS_ERR_BELOW_POLICY,     /* genuine, but below the required level */
	JCS_ERR_NOT_PAYLOAD,      /* text is not a jcstar payload at all */
	JCS_ERR_BAD_PAYLOAD,      /* a jcstar payload, but damaged */
	JCS_ERR_NO_CODE,          /* an image holds no readable QR code */
	JCS_ERR_TEMPLATE,         /* bad label template (file:line) */
	JCS_ERR_STALE_CRL,        /* the bundle's CRL is past nextUpdate, or
	                             missing, and a fresh one is required */
	JCS_ERR_REGISTRY,         /* the registry database is unusable */
	JCS_ERR_NOT_FOUND,        /* no such registration, label, signer */
	JCS_ERR_AUDIT,            /* the audit chain is broken */
	JCS_ERR_INTERRUPTED       /* a batch was asked to stop (resumable) */
} jcs_err;

/* Returns a stable lower-case token for an error, e.g. "bad-signature",
 * for machine-readable output. Never NULL ("unknown" for bad values). */
const char *jcs_err_name(jcs_err err);

/* Returns 1 when err is a verification verdict (the label was read and is
 * not valid: forged, untrusted, expired, malformed, below policy...), 0 when
 * it is a usage, resource or I/O error. The CLI exits 1 for the first kind
 * and 2 for the second. */
int jcs_err_is_verdict(jcs_err err);

typedef struct jcs_ctx jcs_ctx;

/* Returns a new context, or NULL when out of memory. A context is not
 * thread-safe: use one per thread. */
jcs_ctx *jcs_ctx_new(void);
void jcs_ctx_free(jcs_ctx *ctx);

/* Returns the code of the last failure on ctx, JCS_OK after a success. */
jcs_err jcs_ctx_error(const jcs_ctx *ctx);

/* Returns the message of the last failure ("" after a success). Valid until
 * the next call that uses ctx. Never NULL. */
const char *jcs_ctx_message(const jcs_ctx *ctx);

/* Releases a buffer returned by the library. jcs_free(NULL) is a no-op. */
void jcs_free(void *p);

/* ------------------------------------------------------------------------ */
/* Schemes, levels and policy                                               */
/* ------------------------------------------------------------------------ */

/* Values are part of the label format (docs/FORMAT.md): never renumber. */
typedef enum jcs_scheme {
	JCS_SCHEME_JCSTAR = 1,           /* Japan, IPA: levels 1-4 (stars) */
	JCS_SCHEME_CLS = 2,              /* Singapore, CSA: levels 1-4 */
	JCS_SCHEME_PSTI = 3,             /* UK: level 1 = compliant */
	JCS_SCHEME_CYBER_TRUST_MARK = 4, /* US, FCC: level 1 = the mark */
	JCS_SCHEME_CRA = 5               /* EU: 1 default, 2 important I,
	                                    3 important II, 4 critical */
} jcs_scheme;

/* Returns the short name of a scheme ("jcstar", "cls", "psti",
 * "cyber-trust-mark", "cra"), or NULL for an unknown value. */
const char *jcs_scheme_name(int scheme);

/* Returns the scheme for a short name (case-insensitive), or 0 if unknown. */
int jcs_scheme_from_name(const char *name);

/* Scheme profiles: the rules and presentation of each scheme, read from
 * data files (certs/schemes/NAME.scheme, docs/SCHEMES.md) so that an
 * operator can update them without a rebuild. The library carries a copy of
 * the shipped files, used by any jcs_ctx given no other set. */

#define JCS_PROFILE_MAX_LEVELS 15

typedef enum jcs_level_style {
	JCS_STYLE_STARS = 1,     /* JC-STAR: filled and hollow stars */
	JCS_STYLE_ASTERISKS = 2, /* CLS: one asterisk per level */
	JCS_STYLE_MARK = 3,      /* PSTI, Cyber Trust Mark: one named mark */
	JCS_STYLE_CLASS = 4      /* CRA: a class name per level */
} jcs_level_style;

/* One scheme's profile. Strings are owned by the set it belongs to. */
typedef struct jcs_profile {
	int scheme;              /* a jcs_scheme value */
	const char *name;        /* "jcstar" */
	const char *display;     /* "JC-STAR" */
	const char *authority;   /* who runs the scheme */
	const char *country;     /* "JP"; "" if not given */
	const char *file;        /* the file it was read from */
	int min_level, max_level;
	int style;               /* a jcs_level_style value */
	int third_party_from;    /* levels >= this name a lab; 0 = none */
	int max_years, max_days; /* label validity cap; both 0 = none */
	int support_required;    /* 1: a label states support_until */
	int within_support;      /* 1: a label ends with the support period */
	/* per level (index 1..JCS_PROFILE_MAX_LEVELS): a name (NULL if
	 * none) and the template name */
	const char *level_name[JCS_PROFILE_MAX_LEVELS + 1];
	const char *tmpl[JCS_PROFILE_MAX_LEVELS + 1];
} jcs_profile;

typedef struct jcs_schemes jcs_schemes;

/* Reads every DIR/NAME.scheme. Returns the set (for jcs_schemes_free) or
 * NULL with JCS_ERR_PROFILE and "FILE:LINE: what is wrong" (unknown key or
 * scheme, level out of range, a key or scheme given twice, a missing key),
 * JCS_ERR_IO or JCS_ERR_TOO_LARGE. */
jcs_schemes *jcs_schemes_load_dir(jcs_ctx *ctx, const char *dir);

/* Returns a new copy of the built-in set, or NULL. */
jcs_schemes *jcs_schemes_load_builtin(jcs_ctx *ctx);

void jcs_schemes_free(jcs_schemes *set);

/* Returns the built-in set (parsed once, owned by the library). */
const jcs_schemes *jcs_schemes_builtin(void);

/* The profiles of a set, in file-name order; NULL if out of range. */
size_t jcs_schemes_count(const jcs_schemes *set);
const jcs_profile *jcs_schemes_get(const jcs_schemes *set, size_t i);
/* Returns the profile of scheme, or NULL if the set has none. */
const jcs_profile *jcs_schemes_find(const jcs_schemes *set, int scheme);

/* Makes ctx use set (borrowed: it must outlive its use by ctx) for every
 * rule and display; NULL returns to the built-in set. */
void jcs_ctx_set_schemes(jcs_ctx *ctx, const jcs_schemes *set);
/* Returns the set ctx uses. */
const jcs_schemes *jcs_ctx_schemes(const jcs_ctx *ctx);

/* Returns the name of a level style ("stars", ...). */
const char *jcs_style_name(int style);

/* Formats a level as text: "JC-STAR (star)3", "CLS level 2",
 * "PSTI compliant", "Cyber Trust Mark", "CRA important I". Returns buf. */
const char *jcs_level_text(const jcs_ctx *ctx, int scheme, int level,
    char *buf, size_t len);

/* Formats a level as its mark on a label: stars (filled then hollow, U+2605/U+2606),
 * asterisks, or the level's name. Returns buf ("" if undefined). */
const char *jcs_level_mark(const jcs_ctx *ctx, int scheme, int level,
    char *buf, size_t len);

/* ------------------------------------------------------------------------ */
/* Times                                                                    */
/* ------------------------------------------------------------------------ */

/* Parses "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DDTHH:MM:SSZ" into *out.
 * Returns 0, or -1 (JCS_ERR_INVALID_ARG) for anything else, including
 * impossible dates and times before 1970. */
int jcs_time_parse(jcs_ctx *ctx, const char *text, time_t *out);

/* Formats t as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes).
 * Returns buf. */
char *jcs_time_format(time_t t, char *buf, size_t len);

/* Formats t as "YYYY-MM-DD" into buf (at least 11 bytes). Returns buf. */
char *jcs_date_format(time_t t, char *buf, size_t len);

/* ------------------------------------------------------------------------ */
/* Labels                                                                   */
/* ------------------------------------------------------------------------ */

/* Size caps (bytes). Longer inputs fail with JCS_ERR_TOO_LARGE. */
#define JCS_LABEL_MAX_DER 2048
#define JCS_LABEL_MAX_FILE 8192

/* Length limits of label strings, in bytes of UTF-8 (docs/FORMAT.md). */
#define JCS_MAX_REG_ID 32
#define JCS_MAX_VENDOR 64
#define JCS_MAX_PRODUCT 64
#define JCS_MAX_MODEL 32
#define JCS_MAX_UNIT_SERIAL 32
#define JCS_MAX_LAB 64

/* The assessed product: one structure, so that a registration can carry it.
 * All strings are UTF-8; unit_serial may be NULL (a label for the product
 * rather than for one unit). The library copies what it needs. */
typedef struct jcs_product {
	const char *reg_id;      /* registration id, e.g. "JCS-2025-000123" */
	const char *vendor;      /* "Example Electronics Co., Ltd." */
	const char *product;     /* product name, "Home Router" */
	const char *model;       /* "HR-1000" */
	const char *unit_serial; /* optional, NULL if absent */
} jcs_product;

/* What a certification body asserts about the product. */
typedef struct jcs_label_fields {
	int scheme;          /* a jcs_scheme value */
	int level;           /* meaning per scheme */
	jcs_product product;
	const char *lab;     /* third-party lab; NULL = self-declared */
	time_t not_before;   /* label validity, seconds since the epoch */
	time_t not_after;
	time_t support_until; /* end of the support period (a date, midnight
	                         UTC); 0 = not stated */
} jcs_label_fields;

typedef struct jcs_label jcs_label;

/* Returns a new, unsigned label with the given fields and a fresh random
 * serial (72 bits, at least 64 of them random), or NULL. Checks every field
 * against the format's limits (JCS_ERR_INVALID_ARG naming the field); does
 * not apply scheme issuance rules (see jcs_ca_issue). */
jcs_label *jcs_label_new(jcs_ctx *ctx, const jcs_label_fields *fields);

/* Parses a label from DER. Strict: the bytes must be exactly one label in
 * DER, every field within its limits. Returns the label or NULL with
 * JCS_ERR_TRUNCATED, JCS_ERR_NOT_DER, JCS_ERR_MALFORMED or
 * JCS_ERR_TOO_LARGE and a message naming the byte offset. The bytes are
 * copied. */
jcs_label *jcs_label_from_der(jcs_ctx *ctx, const uint8_t *der, size_t len);

/* Parses a label from DER or from PEM ("-----BEGIN JCSTAR LABEL-----"),
 * telling them apart by content. Errors as jcs_label_from_der, plus
 * JCS_ERR_MALFORMED for PEM with another header. */
jcs_label *jcs_label_parse(jcs_ctx *ctx, const uint8_t *buf, size_t len);

/* Reads and parses a label file (DER or PEM); "-" reads stdin. Errors as
 * jcs_label_parse, plus JCS_ERR_IO and JCS_ERR_TOO_LARGE (over
 * JCS_LABEL_MAX_FILE bytes). */
jcs_label *jcs_label_load_file(jcs_ctx *ctx, const char *path);

void jcs_label_free(jcs_label *label);

/* Replaces the serial (big-endian, 9 to 20 bytes, first byte 0x01..0x7f so
 * that it is positive and minimal). For reproducible test vectors only:
 * normal issuance uses the random serial. Returns 0 or -1. */
int jcs_label_set_serial(jcs_ctx *ctx, jcs_label *label, const uint8_t *serial,
    size_t len);

/* Adds an extension (OID in dotted form, DER value bytes, copied). Returns
 * 0 or -1. Invalidates any signature. */
int jcs_label_add_extension(jcs_ctx *ctx, jcs_label *label, const char *oid,
    int critical, const uint8_t *value, size_t len);

/* Field getters. Strings stay valid while the label lives. */
int jcs_label_version(const jcs_label *label);
const char *jcs_label_serial_hex(const jcs_label *label);   /* lower-case */
const char *jcs_label_issuer_hex(const jcs_label *label);   /* 16 hex */
const jcs_label_fields *jcs_label_get_fields(const jcs_label *label);
size_t jcs_label_extension_count(const jcs_label *label);
/* Returns the dotted OID of extension i (NULL if out of range) and sets
 * *critical. */
const char *jcs_label_extension(const jcs_label *label, size_t i,
    int *critical);
/* Returns the signature algorithm ("ecdsa-with-SHA256", "Ed25519") or ""
 * for an unsigned label. */
const char *jcs_label_sig_alg(const jcs_label *label);

/* Returns the DER of a signed label (owned by the label) and sets *len, or
 * NULL if the label is not signed. */
const uint8_t *jcs_label_der(const jcs_label *label, size_t *len);

/* Returns the PEM text of a signed label as a NUL-terminated buffer for
 * jcs_free(), or NULL. */
char *jcs_label_to_pem(jcs_ctx *ctx, const jcs_label *label);

/* Writes a signed label to path: PEM if path ends in ".pem", else DER;
 * "-" writes stdout. The file is written to a temporary name and renamed,
 * so a failure leaves no partial file. Returns 0 or -1 (JCS_ERR_IO). */
int jcs_label_write_file(jcs_ctx *ctx, const jcs_label *label,
    const char *path);

/* ------------------------------------------------------------------------ */
/* Payloads: label bytes <-> QR text (docs/FORMAT.md, "Payload forms")      */
/* ------------------------------------------------------------------------ */

typedef enum jcs_form {
	JCS_FORM_URL = 1,  /* verifier base URL + digits (QR numeric mode) */
	JCS_FORM_BARE = 2  /* "JCS1:" + Base45 (QR alphanumeric mode) */
} jcs_form;

#define JCS_BARE_PREFIX "JCS1:"
#define JCS_BASE_URL_MAX 96      /* bytes of a verifier base URL */
#define JCS_PAYLOAD_MAX 8192     /* bytes of payload text accepted */

/* Returns the form for "url" or "bare", or 0 if unknown. */
int jcs_form_from_name(const char *name);

/* Checks a verifier base URL: "HTTPS://" + upper-case host and path in the
 * QR alphanumeric set (A-Z 0-9 $ % * + - . / :), ending in "/", at most
 * JCS_BASE_URL_MAX bytes. Returns 0 or -1 (JCS_ERR_INVALID_ARG saying
 * what is wrong). */
int jcs_base_url_check(jcs_ctx *ctx, const char *url);

/* Encodes label DER as payload text of the given form. base_url is needed
 * for JCS_FORM_URL (checked as by jcs_base_url_check) and ignored for the
 * bare form. Returns a NUL-terminated string for jcs_free(), or NULL. */
char *jcs_payload_encode(jcs_ctx *ctx, const uint8_t *der, size_t len,
    int form, const char *base_url);

/* Decodes payload text of either form (told apart by content; no white
 * space is trimmed or folded: a space is a Base45 digit). Returns 0 and sets
 * *der (for jcs_free) and *len, and *form if not NULL; or -1 with
 * JCS_ERR_NOT_PAYLOAD (not a jcstar payload), JCS_ERR_BAD_PAYLOAD (damaged:
 * bad Base45 group, impossible digit count, bad character at a position) or
 * JCS_ERR_TOO_LARGE. */
int jcs_payload_decode(jcs_ctx *ctx, const char *text, size_t len,
    uint8_t **der, size_t *derlen, int *form);

/* Decodes payload text and parses the label in it (jcs_label_from_der).
 * Returns the label or NULL. */
jcs_label *jcs_label_from_payload(jcs_ctx *ctx, const char *text,
    size_t len);

/* QR codes of a payload (libqrencode). */
typedef enum jcs_qr_ec {
	JCS_QR_EC_L = 1, JCS_QR_EC_M = 2, JCS_QR_EC_Q = 3, JCS_QR_EC_H = 4
} jcs_qr_ec;

typedef struct jcs_qr jcs_qr;

/* Returns the level for "L", "M", "Q" or "H" (any case), or 0. */
int jcs_qr_ec_from_name(const char *name);

/* Encodes payload text in the smallest QR version (1-40) that holds it at
 * error-correction level ec (0 = M), with explicit segments: alphanumeric
 * for the prefix or base URL, numeric for the digits of the url form,
 * alphanumeric for Base45. Returns the code or NULL (JCS_ERR_TOO_LARGE if
 * it fits no version, JCS_ERR_INVALID_ARG for text outside the QR
 * alphanumeric and numeric sets). */
jcs_qr *jcs_qr_encode(jcs_ctx *ctx, const char *payload, int ec);
void jcs_qr_free(jcs_qr *qr);
int jcs_qr_version(const jcs_qr *qr);
/* Returns the width in modules (17 + 4 * version), quiet zone excluded. */
int jcs_qr_width(const jcs_qr *qr);
/* Returns 1 for a dark module at (x, y), 0 for light or out of range. */
int jcs_qr_module(const jcs_qr *qr, int x, int y);

/* ------------------------------------------------------------------------ */
/* Label artwork (templates/, docs/TEMPLATES.md)                            */
/* ------------------------------------------------------------------------ */

typedef struct jcs_template jcs_template;

/* Loads and checks a label template file. Returns it, or NULL with
 * JCS_ERR_TEMPLATE and a message "FILE:LINE: what is wrong" (unknown key,
 * unknown placeholder, bad value, QR box too small for a 4-module quiet
 * zone...), JCS_ERR_IO or JCS_ERR_TOO_LARGE. */
jcs_template *jcs_template_load(jcs_ctx *ctx, const char *path);
void jcs_template_free(jcs_template *tmpl);
/* The template's name (its file name without directory and ".tmpl"). */
const char *jcs_template_name(const jcs_template *tmpl);
/* The QR error-correction level the template asks for (jcs_qr_ec). */
int jcs_template_ec(const jcs_template *tmpl);
/* The label's physical size in millimetres. */
void jcs_template_size_mm(const jcs_template *tmpl, double *width,
    double *height);
/* The QR module size in millimetres, as the template asks for it (a PNG
 * rounds it to whole pixels). */
double jcs_template_module_mm(const jcs_template *tmpl);

/* Renders a label's artwork: the template's layout, with the QR code of
 * payload (made at the template's error-correction level) and the label's
 * fields in the text elements. dpi applies to PNG (e.g. 300 or 600; modules
 * are whole pixels, the physical resolution is in pHYs); SVG is vector.
 * jcs_render_png / jcs_render_svg return the file bytes for jcs_free();
 * jcs_render_file writes PNG or SVG by path's extension (.png, .svg)
 * through a temporary file and a rename: a failure leaves no file.
 * Errors: JCS_ERR_TEMPLATE (e.g. "FILE:LINE: text overflows its box", the
 * QR does not fit its box at this size); JCS_ERR_INVALID_ARG (dpi outside
 * 72-2400, an unsigned label, a payload that does not carry this label, a
 * label of another scheme than the template's); JCS_ERR_NOT_PAYLOAD or
 * JCS_ERR_BAD_PAYLOAD (payload text); JCS_ERR_TOO_LARGE (over 100
 * megapixels); JCS_ERR_NOMEM; JCS_ERR_IO.
 * The template keeps its fonts, rasterised glyphs and drawn texts for the
 * next render (freed with it), which makes a batch fast; the output does not
 * depend on what was rendered before. Threads may share a template: a
 * render that finds another thread using that state works without it. */
int jcs_render_png(jcs_ctx *ctx, const jcs_template *tmpl,
    const jcs_label *label, const char *payload, int dpi, uint8_t **out,
    size_t *outlen);
int jcs_render_svg(jcs_ctx *ctx, const jcs_template *tmpl,
    const jcs_label *label, const char *payload, uint8_t **out,
    size_t *outlen);
int jcs_render_file(jcs_ctx *ctx, const jcs_template *tmpl,
    const jcs_label *label, const char *payload, int dpi, const char *path);

/* ------------------------------------------------------------------------ */
/* Reading QR codes from images (libzbar)                                   */
/* ------------------------------------------------------------------------ */

#define JCS_IMAGE_MAX_FILE (64 * 1024 * 1024)
#define JCS_IMAGE_MAX_PIXELS (100 * 1000 * 1000)

typedef struct jcs_scan jcs_scan;

/* Decodes every QR code in an image file (PNG or JPEG; "-" reads stdin).
 * Returns the result (possibly with no code: then jcs_scan_count() is 0
 * and the context holds JCS_ERR_NO_CODE with a message), or NULL with
 * JCS_ERR_IO, JCS_ERR_TOO_LARGE, JCS_ERR_MALFORMED (not an image, a
 * damaged image), JCS_ERR_INVALID_ARG (NULL path or buffer) or
 * JCS_ERR_NOMEM. zbar needs at least 2 pixels per module. */
jcs_scan *jcs_scan_file(jcs_ctx *ctx, const char *path);
/* Same, from image bytes in memory. */
jcs_scan *jcs_scan_mem(jcs_ctx *ctx, const uint8_t *buf, size_t len);
void jcs_scan_free(jcs_scan *scan);
size_t jcs_scan_count(const jcs_scan *scan);
/* Returns the text of code i (NUL-terminated; *len without the NUL) or
 * NULL if out of range. Valid while scan lives. */
const char *jcs_scan_text(const jcs_scan *scan, size_t i, size_t *len);

/* ------------------------------------------------------------------------ */
/* Keys                                                                     */
/* ------------------------------------------------------------------------ */

typedef struct jcs_key jcs_key;

/* Loads a private key: from a PEM file, decrypting it with passphrase when
 * the file is encrypted (passphrase may be NULL otherwise); from an HSM
 * when path is a pkcs11: URI (RFC 7512), or a file whose content is one
 * (a CA's signers/NNNN.key for an HSM-held key). For pkcs11: the module is
 * the URI's module-path attribute, else $JCSTAR_PKCS11_MODULE, else
 * p11-kit's proxy; the PIN comes from the URI's pin-source (a file), else
 * $JCSTAR_PKCS11_PIN, never from the URI's pin-value (refused). HSM keys
 * must be ECDSA P-256. A key file may hold only the URI, optionally after a
 * "TEST ONLY" line. Query attributes other than module-path and pin-source
 * are refused; pin-source may be "file:PATH". The engine and module stay
 * loaded until the process exits, and a token once logged in is not asked
 * for its PIN again in that process. Returns the key or NULL with
 * JCS_ERR_IO, JCS_ERR_KEY or JCS_ERR_PASSPHRASE. */
jcs_key *jcs_key_load(jcs_ctx *ctx, const char *path, const char *passphrase);
void jcs_key_free(jcs_key *key);

/* Returns the 8-byte key identifier of a key as 16 hex digits: the first 8
 * bytes of SHA-256 over the DER SubjectPublicKeyInfo. Valid while the key
 * lives. */
const char *jcs_key_id_hex(const jcs_key *key);

/* Signs label with key (ECDSA P-256 with SHA-256, or Ed25519), setting the
 * label's issuer key identifier from the key. Returns 0 or -1. Does not
 * apply issuance rules: a certification body uses jcs_ca_issue. */
int jcs_label_sign(jcs_ctx *ctx, jcs_label *label, const jcs_key *key);

/* ------------------------------------------------------------------------ */
/* Trust bundle and verification                                            */
/* ------------------------------------------------------------------------ */

#define JCS_TRUST_MAX_FILE (16 * 1024 * 1024)

typedef struct jcs_trust jcs_trust;

/* Loads a trust bundle: PEM certificates and CRLs. Self-signed CA
 * certificates are trust anchors; other CA certificates are intermediates;
 * end-entity certificates are label signers. A CRL issued by a root lists
 * revoked signer certificates; a CRL issued by a label signer lists
 * revoked label serials (docs/FORMAT.md). Returns the bundle or NULL with
 * JCS_ERR_IO, JCS_ERR_TOO_LARGE or JCS_ERR_MALFORMED (e.g. no root, a CRL
 * whose signature does not verify or whose issuer is not in the bundle). */
jcs_trust *jcs_trust_load_file(jcs_ctx *ctx, const char *path);
jcs_trust *jcs_trust_load_mem(jcs_ctx *ctx, const uint8_t *buf, size_t len);
void jcs_trust_free(jcs_trust *trust);

/* Counts of what the bundle holds. */
size_t jcs_trust_root_count(const jcs_trust *trust);
size_t jcs_trust_signer_count(const jcs_trust *trust);

/* ------------------------------------------------------------------------ */
/* Recognition between schemes, requirements and procurement policy        */
/* (certs/recognition.conf, certs/policy.conf; docs/SCHEMES.md)             */
/* ------------------------------------------------------------------------ */

typedef enum jcs_recognition_kind {
	JCS_RECOGNITION_ACCEPT = 1,    /* a verifier may treat the label as
	                                  meeting the requirement */
	JCS_RECOGNITION_SIMPLIFIED = 2 /* a body may register on its strength */
} jcs_recognition_kind;

/* One line of a recognition file. Strings are owned by the file's object. */
typedef struct jcs_recognition_line {
	int kind;                /* a jcs_recognition_kind value */
	int scheme, level;       /* the requirement it serves */
	int label_scheme, label_min, label_max; /* the label it rests on */
	time_t from;             /* applies from this time; 0 = always */
	const char *basis;       /* where the recognition comes from */
	const char *file;
	unsigned line;
} jcs_recognition_line;

typedef struct jcs_recognition jcs_recognition;

/* Reads a recognition file, checking its schemes and levels against the
 * profiles ctx uses. Returns it (for jcs_recognition_free) or NULL with
 * JCS_ERR_PROFILE and "FILE:LINE: what is wrong" (unknown kind or scheme,
 * level out of range, a duplicate line, a bad date), JCS_ERR_IO or
 * JCS_ERR_TOO_LARGE. */
jcs_recognition *jcs_recognition_load_file(jcs_ctx *ctx, const char *path);
/* The same from text; name is used in messages and decisions. */
jcs_recognition *jcs_recognition_load_mem(jcs_ctx *ctx, const char *name,
    const char *text, size_t len);
/* The built-in copy of certs/recognition.conf. */
jcs_recognition *jcs_recognition_load_builtin(jcs_ctx *ctx);
void jcs_recognition_free(jcs_recognition *rec);
size_t jcs_recognition_count(const jcs_recognition *rec);
const jcs_recognition_line *jcs_recognition_get(const jcs_recognition *rec,
    size_t i);

/* Returns the simplified-application line that lets a body register
 * scheme/level on the strength of a basis of basis_scheme/basis_level at
 * time at, or NULL with JCS_ERR_POLICY_RULE saying why not. */
const jcs_recognition_line *jcs_recognition_simplified(jcs_ctx *ctx,
    const jcs_recognition *rec, int scheme, int level, int basis_scheme,
    int basis_level, time_t at);

/* What a caller requires: scheme at min_level or higher. */
typedef struct jcs_requirement {
	int scheme;
	int min_level;       /* 0 = the scheme's lowest level */
	const char *source;  /* the policy file it comes from, or NULL */
	unsigned line;
} jcs_requirement;

/* Parses what a user requires: scheme is a scheme's name (NULL: jcstar)
 * or "NAME:LEVEL"; level is a level as text, or NULL for the scheme's
 * lowest. Both are checked against the loaded profiles (jcs_ctx_schemes).
 * scheme_what and level_what name the two inputs in messages (e.g.
 * "--as" and "--min-level"). Fills *out (source NULL). Returns 0, or -1
 * with JCS_ERR_INVALID_ARG (unknown scheme, level not of the scheme, the
 * level given twice) or JCS_ERR_NOT_FOUND (no profile loaded). */
int jcs_requirement_parse(jcs_ctx *ctx, const char *scheme,
    const char *scheme_what, const char *level, const char *level_what,
    jcs_requirement *out);

typedef enum jcs_met {
	JCS_MET_NO = 0,
	JCS_MET_DIRECT = 1,   /* the label is of the required scheme */
	JCS_MET_ACCEPTED = 2  /* through an acceptance line */
} jcs_met;

typedef struct jcs_decision {
	int met;                           /* a jcs_met value */
	jcs_requirement req;               /* the one met, else the first */
	const jcs_recognition_line *line;  /* acceptance line, or NULL */
	char reason[640];                  /* one sentence, for people */
} jcs_decision;

/* Decides whether a label with fields f meets any of the n requirements at
 * time at (0 = now): directly (same scheme, level high enough) or through
 * an acceptance line of rec (may be NULL) in force at that time. A label
 * that is not current meets nothing. Fills *out. Returns 0 if met, or -1
 * with JCS_ERR_BELOW_POLICY (message = out->reason) or JCS_ERR_INVALID_ARG.
 * Only the fields are looked at: verify the label first (jcs_verify does
 * both when given a requirement). */
int jcs_decide(jcs_ctx *ctx, const jcs_recognition *rec,
    const jcs_label_fields *f, time_t at, const jcs_requirement *req,
    size_t n, jcs_decision *out);

typedef struct jcs_policy jcs_policy;

/* Reads a policy file (importance -> requirements). Errors as
 * jcs_recognition_load_file. */
jcs_policy *jcs_policy_load_file(jcs_ctx *ctx, const char *path);
jcs_policy *jcs_policy_load_mem(jcs_ctx *ctx, const char *name,
    const char *text, size_t len);
/* The built-in copy of certs/policy.conf (the JC-STAR procurement rule). */
jcs_policy *jcs_policy_load_builtin(jcs_ctx *ctx);
void jcs_policy_free(jcs_policy *pol);
size_t jcs_policy_count(const jcs_policy *pol);
const char *jcs_policy_importance(const jcs_policy *pol, size_t i);

/* Sets *req (owned by pol) and *n to the requirements of an importance
 * (any one is enough). Returns 0, or -1 with JCS_ERR_NOT_FOUND naming the
 * importances pol defines. */
int jcs_policy_lookup(jcs_ctx *ctx, const jcs_policy *pol,
    const char *importance, const jcs_requirement **req, size_t *n);

typedef struct jcs_verify_opts {
	time_t at;       /* time to verify at; 0 = now */
	int min_level;   /* 0 = no level requirement */
	int scheme;      /* required scheme; 0 = the label's own */
	/* requirements (any one is enough), used instead of scheme and
	 * min_level when n_require > 0; met directly or through an
	 * acceptance line of recognition (NULL: directly only) */
	const jcs_requirement *require;
	size_t n_require;
	const jcs_recognition *recognition;
	int require_fresh_crl; /* 1: fail (JCS_ERR_STALE_CRL) unless the
	                          bundle has a label CRL whose nextUpdate is
	                          not before at */
} jcs_verify_opts;

/* CRL reason codes (RFC 5280 CRLReason). */
#define JCS_REASON_UNSPECIFIED 0
#define JCS_REASON_KEY_COMPROMISE 1
#define JCS_REASON_AFFILIATION_CHANGED 3
#define JCS_REASON_SUPERSEDED 4
#define JCS_REASON_CESSATION 5
#define JCS_REASON_CERTIFICATE_HOLD 6
#define JCS_REASON_PRIVILEGE_WITHDRAWN 9

/* Returns the reason (matching case-insensitively) for "unspecified",
 * "key-compromise",
 * "affiliation-changed", "superseded", "cessation-of-operation",
 * "certificate-hold", "privilege-withdrawn", or -1 if unknown. */
int jcs_reason_from_name(const char *name);
/* Returns the name of a reason code, "unspecified" for unknown ones. */
const char *jcs_reason_name(int reason);

/* Verifies a label against a trust bundle: strict format, a signer whose
 * key id matches and whose signature verifies (every matching signer is
 * tried), the signer's chain to a root of the bundle (OpenSSL's verifier),
 * the label-signing EKU, the label's and signer's validity at opts->at, the
 * label's validity within the signer's, no unknown critical extension, and
 * the level policy. Revocation (docs/FORMAT.md 5.3): after the signature
 * verifies, a signer listed in its root's signer CRL, or a label listed in
 * a label CRL of its root, gives JCS_ERR_REVOKED ("revoked on DATE:
 * REASON"); with opts->require_fresh_crl, a root without a label CRL whose
 * nextUpdate is at or after opts->at gives JCS_ERR_STALE_CRL. opts may be
 * NULL (now, no policy).
 * Returns 0 if valid, or -1 with the verdict in jcs_ctx_error() (one of the
 * verification codes; jcs_err_is_verdict() is 1) and the exact reason in
 * jcs_ctx_message(). If the label is valid, *signer_out (if not NULL) is set
 * to the signer's subject (owned by the trust bundle). */
int jcs_verify(jcs_ctx *ctx, const jcs_trust *trust, const jcs_label *label,
    const jcs_verify_opts *opts, const char **signer_out);

/* After jcs_verify with a requirement, returns the decision on it (met or
 * not, how, on which line; valid until the next jcs_verify with ctx), or
 * NULL if the last jcs_verify had no requirement or failed before it (a
 * label that is not genuine, current and unrevoked gets no decision). */
const jcs_decision *jcs_ctx_decision(const jcs_ctx *ctx);

/* Bulk checks (retailers): many scanned payloads or photos, one report. */

#define JCS_CHECK_MAX_LINES 1000000UL

/* The result of one label found on one input line. */
typedef struct jcs_check_result {
	unsigned long line;        /* input line number (1-based) */
	const char *input;         /* the line (at most 120 bytes kept) */
	int code;                  /* 1-based: the Nth QR code of an image */
	jcs_err verdict;           /* JCS_OK if valid */
	const char *reason;        /* "" if valid */
	int scheme, level;         /* 0 if the label could not be read */
	const char *reg_id;        /* "" if unknown */
	const char *unit_serial;   /* "" if none */
	const char *serial;        /* hex, "" if unknown */
	unsigned long duplicate_of; /* line of the first sighting of the same
	                               label (serial, or registration + unit),
	                               or 0 */
} jcs_check_result;

typedef struct jcs_checker jcs_checker;

/* Returns a new checker verifying against trust with opts (copied; may be
 * NULL), or NULL. The trust bundle must outlive the checker. */
jcs_checker *jcs_checker_new(jcs_ctx *ctx, const jcs_trust *trust,
    const jcs_verify_opts *opts);
void jcs_checker_free(jcs_checker *chk);

/* Checks one input line: a payload (text starting JCS1: or http(s)://, in
 * any case) or else the path of an image (PNG or JPEG) whose every QR code
 * is checked. Records one result per label (an image without a code, or
 * that cannot be read, gives one result with that error). Only the line
 * ending must already be removed. A label list of a batch (first line
 * JCS_BATCH_LIST_HEADER, after a UTF-8 byte order mark or not) is read as
 * such: its header gives no result, and the payload of every further line
 * is the text after its third comma.
 * Returns the number of results added, or -1 (JCS_ERR_TOO_LARGE past
 * JCS_CHECK_MAX_LINES, JCS_ERR_NOMEM). */
int jcs_checker_add(jcs_ctx *ctx, jcs_checker *chk, const char *line,
    size_t len);

/* The largest number of jobs (threads) a batch or checker accepts: 4 per
 * online processor. */
int jcs_jobs_max(void);

/* Checks lines with jobs threads (1 to jcs_jobs_max(); 1 is the default),
 * each with its own context. With more than one, jcs_checker_add queues a
 * line and checks the queue a block at a time (it returns the number of
 * results that became ready, 0 while the line waits): call
 * jcs_checker_flush after the last line. Results, their order and the
 * duplicate flags are the same whatever the number of jobs. Set it before
 * the first line. Returns 0 or -1 (JCS_ERR_INVALID_ARG, JCS_ERR_NOMEM). */
int jcs_checker_set_jobs(jcs_ctx *ctx, jcs_checker *chk, int jobs);

/* Checks the lines still queued. Returns the number of results added, or
 * -1 (as jcs_checker_add). */
int jcs_checker_flush(jcs_ctx *ctx, jcs_checker *chk);

/* Results so far, in input order. */
size_t jcs_checker_count(const jcs_checker *chk);
const jcs_check_result *jcs_checker_result(const jcs_checker *chk, size_t i);

/* Counts: results, valid and unique ones, duplicates. */
void jcs_checker_summary(const jcs_checker *chk, size_t *total,
    size_t *valid, size_t *duplicates);

/* Writes the report: CSV (path ending in .csv) or JSON (.json), through a
 * temporary file and a rename; "-" writes JSON to stdout. Returns 0 or -1
 * (JCS_ERR_INVALID_ARG if lines are still queued: jcs_checker_flush). */
int jcs_checker_write_report(jcs_ctx *ctx, const jcs_checker *chk,
    const char *path);

/* ------------------------------------------------------------------------ */
/* Certification body (CA)                                                  */
/* ------------------------------------------------------------------------ */

typedef enum jcs_alg {
	JCS_ALG_EC_P256 = 1, /* ECDSA P-256 with SHA-256 (default) */
	JCS_ALG_ED25519 = 2
} jcs_alg;

/* Returns the algorithm for "ec-p256" or "ed25519", or 0 if unknown. */
int jcs_alg_from_name(const char *name);

typedef struct jcs_ca_init_opts {
	const char *dir;          /* CA directory; must not exist yet */
	const char *name;         /* certification body's name (UTF-8) */
	int alg;                  /* jcs_alg; 0 = JCS_ALG_EC_P256 */
	const char *profile_dir;  /* directory with root.profile and
	                             signer.profile (the repository's certs/) */
	const char *passphrase;   /* encrypt keys with it; NULL = plain */
	time_t now;               /* creation time; 0 = now */
	const char *verify_url;   /* base URL of the verifier page for url-form
	                             payloads (jcs_base_url_check); NULL =
	                             none */
} jcs_ca_init_opts;

/* Creates a CA directory: a self-signed root and one label-signing
 * certificate under it, from the profiles; keys 0600. Refuses an existing
 * directory (JCS_ERR_EXISTS). On failure nothing is left behind. Returns 0
 * or -1. */
int jcs_ca_init(jcs_ctx *ctx, const jcs_ca_init_opts *opts);

typedef struct jcs_ca jcs_ca;

/* Opens a CA directory. passphrase is used for encrypted keys (may be NULL).
 * Keys are loaded when first needed. Returns the CA or NULL. */
jcs_ca *jcs_ca_open(jcs_ctx *ctx, const char *dir, const char *passphrase);
void jcs_ca_free(jcs_ca *ca);

/* Returns the certification body's name. Valid while ca lives. */
const char *jcs_ca_name(const jcs_ca *ca);

/* Returns the CA's verifier base URL, or NULL if none was set. */
const char *jcs_ca_verify_url(const jcs_ca *ca);

/* Adds a new label-signing key and certificate from profile_dir's
 * signer.profile and makes it current. Older signers stay in the directory
 * and in exported bundles, so their labels keep verifying. Returns 0 or
 * -1. now = 0 means the current time. */
int jcs_ca_rotate(jcs_ctx *ctx, jcs_ca *ca, const char *profile_dir,
    time_t now);

/* Like jcs_ca_rotate, for a key held elsewhere: key_uri is a pkcs11: URI
 * (RFC 7512) of a key pair already in an HSM token. The new signer's
 * certificate is made for that key's public key, and the CA's key file
 * holds the URI instead of a private key. The root key must be loadable.
 * Returns 0 or -1: JCS_ERR_PASSPHRASE for a wrong or missing PIN,
 * JCS_ERR_KEY for a key that is not found or not ECDSA P-256, or a CA that
 * is not ec-p256. */
int jcs_ca_rotate_to_key(jcs_ctx *ctx, jcs_ca *ca, const char *profile_dir,
    const char *key_uri, time_t now);

typedef struct jcs_issue_opts {
	int scheme;
	int level;
	jcs_product product;
	const char *lab;       /* third-party lab; required for JC-STAR 3-4 */
	time_t not_before;     /* 0 = now */
	int valid_days;        /* 0 = scheme maximum, capped by the signer */
	time_t support_until;  /* 0 = not stated */
} jcs_issue_opts;

/* Issues a label with the CA's current signer, applying the scheme's
 * issuance rules (JCS_ERR_POLICY_RULE: a JC-STAR label is valid at most 2
 * years and never beyond its signer certificate; levels 3-4 need a lab;
 * support end not before the label starts). Returns the signed label or
 * NULL. */
jcs_label *jcs_ca_issue(jcs_ctx *ctx, jcs_ca *ca, const jcs_issue_opts *opts);

/* Returns the trust bundle of the CA (root and every signer certificate,
 * oldest first) as PEM text for jcs_free(), or NULL. */
char *jcs_ca_trust_pem(jcs_ctx *ctx, const jcs_ca *ca);

/* Writes the trust bundle to path ("-" = stdout) through a temporary file
 * and a rename. Returns 0 or -1. */
int jcs_ca_export_trust(jcs_ctx *ctx, const jcs_ca *ca, const char *path);

/* Returns the number of signers and the key id (16 hex digits) of signer i
 * (0 = oldest); NULL if out of range. */
size_t jcs_ca_signer_count(const jcs_ca *ca);
const char *jcs_ca_signer_id(const jcs_ca *ca, size_t i);

/* ------------------------------------------------------------------------ */
/* Registry: registrations, issued labels, revocation, audit log            */
/* (SQLite database DIR/registry.db of a CA directory)                       */
/* ------------------------------------------------------------------------ */

/* An assessed product, recorded before any label is issued for it. */
/* The basis of a simplified application (docs/SCHEMES.md): a foreign
 * label, verified, or a statement recorded as given. */
typedef struct jcs_basis jcs_basis;

typedef enum jcs_basis_kind {
	JCS_BASIS_LABEL = 1, JCS_BASIS_STATEMENT = 2
} jcs_basis_kind;

/* Makes a basis of a label (DER, PEM or payload text) after verifying it
 * against trust (the bundle of the body that issued it) at time at (0 =
 * now). Returns it (for jcs_basis_free) or NULL with the label's parse or
 * verification error, prefixed "basis label". */
jcs_basis *jcs_basis_from_label(jcs_ctx *ctx, const jcs_trust *trust,
    const uint8_t *buf, size_t len, time_t at);
/* Makes a basis of a statement (UTF-8 text, at most 4096 bytes, e.g. a UK
 * PSTI statement of compliance) of scheme at level. Returns it or NULL
 * (JCS_ERR_INVALID_ARG, JCS_ERR_TOO_LARGE). The text is copied. */
jcs_basis *jcs_basis_from_statement(jcs_ctx *ctx, int scheme, int level,
    const char *text, size_t len);
void jcs_basis_free(jcs_basis *basis);
int jcs_basis_scheme(const jcs_basis *basis);
int jcs_basis_level(const jcs_basis *basis);
/* One line describing the basis, owned by it. */
const char *jcs_basis_summary(const jcs_basis *basis);

/* An assessed product, recorded before any label is issued for it. */
typedef struct jcs_registration {
	int scheme;
	int level;
	jcs_product product;   /* unit_serial is ignored */
	const char *lab;       /* third-party lab; NULL = self-declared */
	time_t support_until;  /* 0 = not stated */
	/* a simplified application: what it rests on, and the recognition
	 * file that must allow it (both NULL for a full application) */
	const jcs_basis *basis;
	const jcs_recognition *recognition;
} jcs_registration;

/* Records a registration. Applies the scheme's profile (levels, lab,
 * support period). With a basis, a simplified-application line of
 * recognition must allow it (JCS_ERR_POLICY_RULE naming the lines), a
 * label basis must be of the same model, and the basis is recorded with
 * the registration.
 * Returns 0 or -1 (JCS_ERR_EXISTS if the id is taken, JCS_ERR_INVALID_ARG,
 * JCS_ERR_POLICY_RULE, JCS_ERR_REGISTRY). */
int jcs_ca_register(jcs_ctx *ctx, jcs_ca *ca, const jcs_registration *reg);

/* Issues a label from registration reg_id (for one unit if unit_serial is
 * not NULL), signed by the current signer. The label's row is committed in
 * the registry before this returns: write the label out only after.
 * opts may be NULL; only its not_before and valid_days are used.
 * Errors: JCS_ERR_NOT_FOUND (no such registration), JCS_ERR_REVOKED (the
 * registration is withdrawn), JCS_ERR_EXISTS (that unit serial already has
 * a label), and those of jcs_ca_issue. */
jcs_label *jcs_ca_issue_registered(jcs_ctx *ctx, jcs_ca *ca,
    const char *reg_id, const char *unit_serial, const jcs_issue_opts *opts);

/* Batch issuance: one label per unit serial of a CSV file (docs/BATCH.md:
 * a header line "unit_serial", then one serial per line; a field may be
 * double-quoted; CRLF or LF). Every line is checked first, and nothing is
 * issued if any is bad (JCS_ERR_MALFORMED, the message lists the bad
 * lines by number). Labels are issued in transactions of about a thousand and
 * written to out_dir (UNIT.der, or UNIT.pem with pem; '/' in a unit serial
 * becomes '%2F') only after they commit. Resumable: run it again after a
 * crash or kill and it issues the units not yet issued, and rewrites any
 * file missing for a unit already issued; no unit is issued twice. Memory
 * stays flat whatever the number of rows.
 *
 * Instead of (or besides) the files, out_list names one CSV file, the
 * label list (docs/BATCH.md): the header JCS_BATCH_LIST_HEADER, then one
 * line per unit in the order of the units file: unit serial, label serial
 * (hex), last day of validity (YYYY-MM-DD), payload (the QR text: url form
 * with payload_base_url, else bare). It is written to OUT_LIST.jcstar-tmp,
 * flushed and renamed to out_list only when complete, so out_list never
 * holds a partial list; a re-run after an interruption writes the lines of
 * the units issued before from the registry. An existing out_list is
 * refused (JCS_ERR_EXISTS) unless it is this batch's list (its first line
 * is the first unit's label, as the registry holds it), which is then
 * replaced. */
#define JCS_BATCH_MAX_ROWS 10000000UL
#define JCS_BATCH_LIST_HEADER "unit_serial,serial,not_after,payload"

typedef struct jcs_batch_opts {
	const char *reg_id;
	const char *csv_path;        /* "-" is not accepted: rows are read
	                                twice */
	const char *out_dir;         /* must exist; NULL: no files (out_list) */
	int pem;                     /* 1: write PEM files */
	const jcs_template *tmpl;    /* if not NULL, also UNIT.png artwork */
	const char *payload_base_url; /* url form for artwork and the list;
	                                NULL = bare */
	int dpi;                     /* artwork resolution; 0 = 300 */
	const jcs_issue_opts *issue; /* not_before, valid_days; may be NULL */
	/* called after each transaction (and once at the start) */
	void (*progress)(void *arg, unsigned long done, unsigned long total);
	void *progress_arg;
	/* threads that sign labels and write files: 0 or 1 for one, at most
	 * jcs_jobs_max(); the registry has one writer whatever the number */
	int jobs;
	/* if not NULL, asked between transactions (from the calling thread);
	 * non-zero stops the batch: committed labels have their files, the
	 * rest is left for a re-run (JCS_ERR_INTERRUPTED). A signal handler
	 * can set a flag that this returns. */
	int (*stop)(void *arg);
	void *stop_arg;
	/* if not NULL, the label list (see above); its directory must exist.
	 * out_dir and out_list may be given together */
	const char *out_list;
} jcs_batch_opts;

typedef struct jcs_batch_result {
	unsigned long rows;      /* units in the file */
	unsigned long issued;    /* newly issued by this run */
	unsigned long existing;  /* issued by an earlier run */
	unsigned long files;     /* files written by this run */
	unsigned long listed;    /* lines of the list (0 without out_list) */
} jcs_batch_result;

/* Runs a batch (see above). Returns 0 with *res filled, or -1 with *res
 * counting what was issued and written before the failure (a re-run
 * finishes the batch); JCS_ERR_INTERRUPTED if opts->stop asked, with the
 * message "interrupted after N of M labels; run the same command again to
 * resume". With jobs > 1 the labels, their order in the registry and the
 * audit log, and the files are the same as with one job. */
int jcs_ca_issue_batch(jcs_ctx *ctx, jcs_ca *ca, const jcs_batch_opts *opts,
    jcs_batch_result *res);

/* Label status, as recorded (expired is computed against the time given). */
typedef enum jcs_status {
	JCS_STATUS_VALID = 1,
	JCS_STATUS_REVOKED = 2,
	JCS_STATUS_EXPIRED = 3
} jcs_status;

/* One issued label, as the registry knows it. Strings and der are valid
 * only during the callback. */
typedef struct jcs_record {
	const char *serial_hex;
	const char *reg_id;
	const char *unit_serial;   /* NULL for a product label */
	const char *signer_id;     /* 16 hex digits */
	time_t not_before, not_after, issued_at;
	int status;                /* jcs_status */
	time_t revoked_at;         /* 0 if not revoked */
	int reason;                /* JCS_REASON_*, if revoked */
	const uint8_t *der;
	size_t der_len;
} jcs_record;

typedef int (*jcs_record_cb)(void *arg, const jcs_record *rec);

/* Calls cb for each issued label, oldest first, optionally only those of
 * reg_id and/or with status (0 = any), as of time at (0 = now). Stops when
 * cb returns non-zero. Returns the number of records passed, or -1. */
long jcs_ca_list(jcs_ctx *ctx, jcs_ca *ca, const char *reg_id, int status,
    time_t at, jcs_record_cb cb, void *arg);

/* Looks up one label by serial (hex). Returns 0 and calls cb, or -1
 * (JCS_ERR_NOT_FOUND). */
int jcs_ca_find(jcs_ctx *ctx, jcs_ca *ca, const char *serial_hex,
    jcs_record_cb cb, void *arg);

/* One registration, as the registry knows it. Strings and content are
 * valid only during the callback. */
typedef struct jcs_registration_record {
	const char *reg_id;
	int scheme, level;
	const char *vendor, *product, *model;
	const char *lab;            /* NULL = self-declared */
	time_t support_until;       /* 0 = not stated */
	time_t created_at;
	time_t withdrawn_at;        /* 0 = not withdrawn */
	int withdrawn_reason;       /* JCS_REASON_*, if withdrawn */
	long labels, revoked;       /* labels issued from it; of them revoked */
	/* the basis of a simplified application; basis_kind NULL for a full
	 * application (docs/SCHEMES.md) */
	const char *basis_kind;     /* "label" or "statement" */
	int basis_scheme, basis_level;
	const char *basis_serial;   /* a label's serial (hex), else NULL */
	const char *basis_issuer;   /* a label's issuer key id (hex), else NULL */
	const char *basis_summary;  /* what was checked */
	const char *basis_recognition; /* FILE:LINE: basis of the line */
	time_t basis_recorded_at;
	const uint8_t *basis_content; /* the label's DER, or the statement */
	size_t basis_content_len;
} jcs_registration_record;

/* Looks up one registration by id: calls cb(arg, record) and returns 0,
 * or returns -1 (JCS_ERR_NOT_FOUND, JCS_ERR_REGISTRY). */
int jcs_ca_find_registration(jcs_ctx *ctx, jcs_ca *ca, const char *reg_id,
    int (*cb)(void *arg, const jcs_registration_record *rec), void *arg);

/* Revokes one label (serial_hex) or a whole registration (reg_id: every
 * label issued from it, and no new ones). Exactly one of the two is given.
 * Returns the number of labels newly revoked, or -1. */
long jcs_ca_revoke(jcs_ctx *ctx, jcs_ca *ca, const char *serial_hex,
    const char *reg_id, int reason);

/* Writes a label CRL signed by the current signer: every revoked label
 * serial, the next CRL number (strictly increasing), nextUpdate
 * next_update_days later (1-366). path "-" is stdout. Returns 0 or -1. */
int jcs_ca_write_crl(jcs_ctx *ctx, jcs_ca *ca, int next_update_days,
    const char *path);

/* Marks signer key_id_hex (16 hex digits) revoked with reason (usually
 * JCS_REASON_KEY_COMPROMISE): the root signs a CRL of revoked signer
 * certificates, included in the trust bundle from then on, so every label
 * of that signer fails with JCS_ERR_REVOKED. Needs the root key. The
 * current signer cannot be revoked: rotate first. Returns 0 or -1. */
int jcs_ca_revoke_signer(jcs_ctx *ctx, jcs_ca *ca, const char *key_id_hex,
    int reason);

/* Checks the audit log's hash chain. Returns the number of entries if it
 * is intact, or -1 with JCS_ERR_AUDIT and the first broken entry named. */
long jcs_ca_audit_verify(jcs_ctx *ctx, jcs_ca *ca);

#ifdef __cplusplus
}
#endif

#endif /* JCSTAR_H */
