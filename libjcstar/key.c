/*
 * key.c - private keys: generation, PEM encoding, loading (PEM files, and
 * keys held in an HSM named by a pkcs11: URI), key identifiers.
 *
 * HSM keys go through OpenSSL's ENGINE interface and libp11's pkcs11 engine
 * (Debian: libengine-pkcs11-openssl). OpenSSL 3 deprecates engines in
 * favour of providers, but Debian 12 packages no PKCS#11 provider, so the
 * engine is the one PKCS#11 path that works there. OPENSSL_SUPPRESS_DEPRECATED
 * below silences the deprecation warnings, which -Werror would make fatal,
 * in this file only: no other file may use the ENGINE API. Moving to a
 * provider later means replacing hsm_load() with OSSL_STORE_open() on the
 * URI and deleting the engine list.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/ui.h>
#include <openssl/x509.h>

#include "internal.h"

#define JCS_KEY_PBKDF2_ITER 200000

/* The key identifier over the SubjectPublicKeyInfo DER spki (len <= 0:
 * its encoding failed), which is freed. Returns 0 or -1. */
static int
id_of_spki(unsigned char *spki, int len, uint8_t id[JCS_KEYID_LEN])
{
	unsigned char md[32];
	int ok = len > 0 && EVP_Digest(spki, (size_t)len, md, NULL,
	    EVP_sha256(), NULL) == 1;

	OPENSSL_free(spki);
	if (!ok)
		return -1;
	memcpy(id, md, JCS_KEYID_LEN);
	return 0;
}

int
jcs_key_id_of(const EVP_PKEY *pkey, uint8_t id[JCS_KEYID_LEN])
{
	unsigned char *spki = NULL;
	int len = i2d_PUBKEY((EVP_PKEY *)pkey, &spki);

	return id_of_spki(spki, len, id);
}

/* The certificate's key identifier: over its SubjectPublicKeyInfo as the
 * certificate encodes it (as the web verifier computes it), which for a
 * certificate jcstar made is i2d_PUBKEY of its key, byte for byte. Much
 * cheaper than jcs_key_id_of: OpenSSL 3.0 re-encodes an EVP_PKEY through
 * its encoder framework (a fifth of opening a CA, in instructions). */
int
jcs_cert_key_id(const X509 *cert, uint8_t id[JCS_KEYID_LEN])
{
	unsigned char *spki = NULL;
	int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &spki);

	return id_of_spki(spki, len, id);
}

int
jcs_key_alg(const EVP_PKEY *pkey)
{
	char group[32];

	if (EVP_PKEY_is_a(pkey, "ED25519"))
		return JCS_ALG_ED25519;
	if (EVP_PKEY_is_a(pkey, "EC") &&
	    EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, sizeof(group), NULL) == 1 &&
	    strcmp(group, "prime256v1") == 0)
		return JCS_ALG_EC_P256;
	ERR_clear_error();
	return 0;
}

int
jcs_key_in_hsm(const jcs_key *key)
{
	return key != NULL && EVP_PKEY_get0_engine(key->pkey) != NULL;
}

const EVP_MD *
jcs_key_md(const EVP_PKEY *pkey)
{
	return jcs_key_alg(pkey) == JCS_ALG_ED25519 ? NULL : EVP_sha256();
}

int
jcs_alg_from_name(const char *name)
{
	if (name == NULL)
		return 0;
	if (strcmp(name, "ec-p256") == 0)
		return JCS_ALG_EC_P256;
	if (strcmp(name, "ed25519") == 0)
		return JCS_ALG_ED25519;
	return 0;
}

EVP_PKEY *
jcs_key_generate(jcs_ctx *ctx, int alg)
{
	EVP_PKEY *pkey = NULL;

	ERR_clear_error();
	if (alg == JCS_ALG_ED25519)
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else if (alg == JCS_ALG_EC_P256)
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else
		jcs_fail(ctx, JCS_ERR_INVALID_ARG, "unknown key algorithm %d",
		    alg);
	if (pkey == NULL && alg > 0)
		jcs_fail_ossl(ctx, JCS_ERR_CRYPTO, "cannot generate key");
	return pkey;
}

jcs_key *
jcs_key_from_pkey(jcs_ctx *ctx, EVP_PKEY *pkey)
{
	return jcs_key_from_pkey_cert(ctx, pkey, NULL);
}

jcs_key *
jcs_key_from_pkey_cert(jcs_ctx *ctx, EVP_PKEY *pkey, const X509 *cert)
{
	jcs_key *k;
	int rc;

	if ((k = calloc(1, sizeof(*k))) == NULL) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	/* the certificate's id needs no re-encoding of the key (see
	 * jcs_cert_key_id), but only if it is the same key */
	if (cert != NULL && EVP_PKEY_eq(pkey, X509_get0_pubkey(cert)) == 1)
		rc = jcs_cert_key_id(cert, k->id);
	else
		rc = jcs_key_id_of(pkey, k->id);
	if (rc == -1) {
		jcs_fail_ossl(ctx, JCS_ERR_KEY, "cannot compute key id");
		free(k);
		return NULL;
	}
	jcs_hex(k->id, JCS_KEYID_LEN, k->id_hex);
	k->pkey = pkey;
	return k;
}

int
jcs_key_to_pem(jcs_ctx *ctx, EVP_PKEY *pkey, const char *passphrase,
    char **out, size_t *outlen)
{
	BIO *bio;
	BUF_MEM *mem;
	int ok;

	*out = NULL;
	if ((bio = BIO_new(BIO_s_secmem())) == NULL)
		return jcs_fail_ossl(ctx, JCS_ERR_NOMEM, "cannot encode key");
	if (passphrase != NULL) {
		/* PBES2: PBKDF2-HMAC-SHA256 with JCS_KEY_PBKDF2_ITER rounds
		 * (OpenSSL's PEM default is 2048) and AES-256-CBC. */
		PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(pkey);
		X509_SIG *enc = NULL;

		if (p8 != NULL)
			enc = PKCS8_encrypt(-1, EVP_aes_256_cbc(), passphrase,
			    (int)strlen(passphrase), NULL, 0,
			    JCS_KEY_PBKDF2_ITER, p8);
		ok = enc != NULL && PEM_write_bio_PKCS8(bio, enc);
		X509_SIG_free(enc);
		PKCS8_PRIV_KEY_INFO_free(p8);
	} else
		ok = PEM_write_bio_PKCS8PrivateKey(bio, pkey, NULL, NULL, 0,
		    NULL, NULL);
	if (!ok) {
		BIO_free(bio);
		return jcs_fail_ossl(ctx, JCS_ERR_CRYPTO, "cannot encode key");
	}
	BIO_get_mem_ptr(bio, &mem);
	if ((*out = malloc(mem->length)) == NULL) {
		BIO_free(bio);
		return jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
	}
	memcpy(*out, mem->data, mem->length);
	*outlen = mem->length;
	BIO_free(bio); /* secure memory BIO: cleansed on free */
	return 0;
}

struct pass {
	const char *pass;
	int asked;
};

static int
pass_cb(char *buf, int size, int rwflag, void *u)
{
	struct pass *p = u;
	size_t n;

	(void)rwflag;
	p->asked = 1;
	if (p->pass == NULL)
		return -1;
	n = strlen(p->pass);
	if (n > (size_t)size)
		return -1;
	memcpy(buf, p->pass, n);
	return (int)n;
}

/* ---- HSM keys: pkcs11: URIs (RFC 7512) through libp11's engine ---- */

#define HSM_URI_MAX 4096
#define HSM_PIN_FILE_MAX 4096
#define HSM_PIN_MAX 256
#define HSM_DEFAULT_MODULE "/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so"

/*
 * One engine per PKCS#11 module (by real path), created on first use and
 * kept, with the module loaded, until the process exits:
 *  - the EVP_PKEY that libp11 returns is its own cached object, shared by
 *    every load of that key, and other objects keep references to it (a
 *    certificate made for the key holds its public key through it); it
 *    stays usable only while its engine and module stay loaded;
 *  - an engine that lets go of its module calls C_Finalize, which ends the
 *    sessions of every other user of that module in the process.
 * hsm_lock guards the list and serialises loads: the PIN is set on the
 * shared engine, used, then overwritten.
 *
 * PKCS#11 logs in a whole process: once a key of a token is loaded, later
 * loads from that token in the same process do not check the PIN again.
 */
struct hsm_engine {
	struct hsm_engine *next;
	ENGINE *e; /* one structural and one functional reference, kept */
	char *module;
};

static pthread_mutex_t hsm_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hsm_engine *hsm_engines;

/* A pkcs11: URI, split into what the engine is given (the path attributes)
 * and the query attributes jcstar handles itself. */
struct hsm_uri {
	char *engine_uri; /* "pkcs11:" and the path attributes */
	char *shown;      /* the URI without its query, for messages */
	char *module;     /* module-path, decoded, or NULL */
	char *pin_source; /* pin-source, decoded, or NULL */
	char *token;      /* the token= label, decoded, or NULL */
};

static void
hsm_uri_free(struct hsm_uri *u)
{
	free(u->engine_uri);
	free(u->shown);
	free(u->module);
	free(u->pin_source);
	free(u->token);
	memset(u, 0, sizeof(*u));
}

/* Percent-decodes the n bytes at s into a new string. Returns NULL for a
 * bad escape, an encoded NUL, or no memory (*nomem set). */
static char *
pct_decode(const char *s, size_t n, int *nomem)
{
	char *out;
	size_t o = 0;

	*nomem = 0;
	if ((out = malloc(n + 1)) == NULL) {
		*nomem = 1;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] != '%') {
			out[o++] = s[i];
			continue;
		}
		if (i + 2 >= n ||
		    (hi = jcs_hex_digit((unsigned char)s[i + 1])) < 0 ||
		    (lo = jcs_hex_digit((unsigned char)s[i + 2])) < 0 ||
		    (hi == 0 && lo == 0)) {
			free(out);
			return NULL;
		}
		out[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	out[o] = '\0';
	return out;
}

/* Sets *out to the decoded value of one attribute (value v, vlen bytes).
 * Returns 0 or -1. */
static int
uri_attr(jcs_ctx *ctx, const char *name, const char *v, size_t vlen,
    char **out)
{
	int nomem;

	if (*out != NULL)
		return jcs_fail(ctx, JCS_ERR_KEY,
		    "pkcs11: URI names %s twice", name);
	if ((*out = pct_decode(v, vlen, &nomem)) == NULL)
		return jcs_fail(ctx, nomem ? JCS_ERR_NOMEM : JCS_ERR_KEY,
		    nomem ? "out of memory" :
		    "pkcs11: URI has a bad %%-escape in %s", name);
	if (**out == '\0')
		return jcs_fail(ctx, JCS_ERR_KEY, "pkcs11: URI has an empty %s",
		    name);
	return 0;
}

/* Splits uri. Refuses pin-value (a PIN must not sit in a URI, which ends up
 * in key files, shell history and process lists) and query attributes the
 * engine would not understand. Returns 0 or -1. */
static int
hsm_uri_parse(jcs_ctx *ctx, const char *uri, struct hsm_uri *u)
{
	const char *q = strchr(uri, '?');
	size_t plen = q != NULL ? (size_t)(q - uri) : strlen(uri);

	memset(u, 0, sizeof(*u));
	if (strlen(uri) > HSM_URI_MAX)
		return jcs_fail(ctx, JCS_ERR_KEY,
		    "pkcs11: URI is longer than %d bytes", HSM_URI_MAX);
	for (const char *p = uri; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return jcs_fail(ctx, JCS_ERR_KEY,
			    "pkcs11: URI holds a space, control or non-ASCII "
			    "byte at offset %zu (%%-encode it)",
			    (size_t)(p - uri));
	if ((u->engine_uri = malloc(plen + 1)) == NULL ||
	    (u->shown = malloc(plen + 1)) == NULL)
		return jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
	memcpy(u->engine_uri, uri, plen);
	u->engine_uri[plen] = '\0';
	memcpy(u->shown, uri, plen);
	u->shown[plen] = '\0';
	/* the token label, for messages ("pkcs11:" + attr;attr;...) */
	for (const char *a = uri + 7; a < uri + plen;) {
		const char *end = memchr(a, ';', (size_t)(uri + plen - a));
		int nomem;

		if (end == NULL)
			end = uri + plen;
		if (end - a > 6 && strncmp(a, "token=", 6) == 0 &&
		    u->token == NULL)
			u->token = pct_decode(a + 6, (size_t)(end - a - 6),
			    &nomem);
		a = end + 1;
	}
	if (q == NULL)
		return 0;
	for (const char *a = q + 1; *a != '\0';) {
		const char *end = strchr(a, '&'), *eq;
		size_t alen;

		if (end == NULL)
			end = a + strlen(a);
		alen = (size_t)(end - a);
		eq = memchr(a, '=', alen);
		if (eq == NULL) {
			if (alen > 0)
				return jcs_fail(ctx, JCS_ERR_KEY,
				    "pkcs11: URI query attribute '%.*s' has no "
				    "value", (int)alen, a);
		} else if (eq - a == 11 && strncmp(a, "module-path", 11) == 0) {
			if (uri_attr(ctx, "module-path", eq + 1,
			    (size_t)(end - eq - 1), &u->module) == -1)
				return -1;
		} else if (eq - a == 10 && strncmp(a, "pin-source", 10) == 0) {
			if (uri_attr(ctx, "pin-source", eq + 1,
			    (size_t)(end - eq - 1), &u->pin_source) == -1)
				return -1;
		} else if (eq - a == 9 && strncmp(a, "pin-value", 9) == 0) {
			return jcs_fail(ctx, JCS_ERR_KEY,
			    "pin-value in a URI is not accepted: use "
			    "pin-source=FILE or JCSTAR_PKCS11_PIN");
		} else {
			return jcs_fail(ctx, JCS_ERR_KEY,
			    "pkcs11: URI query attribute '%.*s' is not "
			    "supported (known: module-path, pin-source)",
			    (int)(eq - a), a);
		}
		a = *end == '&' ? end + 1 : end;
	}
	return 0;
}

/* Reads the PIN from the first line of a pin-source file ("file:" prefix
 * allowed) into a new buffer of *cap bytes, to be cleansed and freed by the
 * caller. Returns it, or NULL. */
static char *
pin_from_file(jcs_ctx *ctx, const char *source, size_t *cap)
{
	uint8_t *buf = NULL;
	size_t len = 0, n;
	const char *path = source;

	if (strncmp(path, "file://", 7) == 0)
		path += 7; /* file:///run/pin: "" authority, then the path */
	else if (strncmp(path, "file:", 5) == 0)
		path += 5;
	else if (path[0] == '|') {
		jcs_fail(ctx, JCS_ERR_PASSPHRASE,
		    "pin-source '%s' runs a program; only a file is accepted",
		    source);
		return NULL;
	}
	if (*path == '\0' || strcmp(path, "-") == 0) {
		jcs_fail(ctx, JCS_ERR_PASSPHRASE,
		    "pin-source '%s' does not name a file", source);
		return NULL;
	}
	if (jcs_read_file(ctx, path, HSM_PIN_FILE_MAX, &buf, &len) == -1) {
		jcs_fail(ctx, jcs_ctx_error(ctx), "cannot read the PIN file "
		    "(pin-source): %s", jcs_ctx_message(ctx));
		return NULL;
	}
	n = strcspn((char *)buf, "\r\n");
	if (n == 0 || n > HSM_PIN_MAX) {
		OPENSSL_cleanse(buf, len);
		free(buf);
		jcs_fail(ctx, JCS_ERR_PASSPHRASE, n == 0 ?
		    "the PIN file %s is empty (its first line is the PIN)" :
		    "the PIN in %s is longer than %d bytes", path, HSM_PIN_MAX);
		return NULL;
	}
	OPENSSL_cleanse(buf + n, len - n);
	buf[n] = '\0';
	*cap = len;
	return (char *)buf;
}

/* Checks that the PKCS#11 module can be loaded, so that a bad path gets a
 * clear error here rather than libp11's, which it also prints to stderr. */
static int
module_check(jcs_ctx *ctx, const char *module)
{
	void *h;

	dlerror();
	if ((h = dlopen(module, RTLD_LAZY | RTLD_LOCAL)) == NULL) {
		const char *why = dlerror();

		return jcs_fail(ctx, JCS_ERR_KEY,
		    "cannot load PKCS#11 module %s: %s (set module-path in "
		    "the URI or JCSTAR_PKCS11_MODULE)", module,
		    why != NULL ? why : "unknown error");
	}
	if (dlsym(h, "C_GetFunctionList") == NULL) {
		dlclose(h);
		return jcs_fail(ctx, JCS_ERR_KEY,
		    "%s is not a PKCS#11 module (it has no C_GetFunctionList)",
		    module);
	}
	dlclose(h);
	return 0;
}

/* Returns the initialised engine for module, creating it if needed. Called
 * with hsm_lock held. */
static struct hsm_engine *
hsm_engine_get(jcs_ctx *ctx, const char *module)
{
	struct hsm_engine *he;
	const char *dir = OpenSSL_version(OPENSSL_ENGINES_DIR), *q;
	char *real = NULL;

	/* the same module by another path (a symbolic link) is the same
	 * module instance: it must get the same engine (a bare name is
	 * searched for by dlopen, as module_check did) */
	if (strchr(module, '/') != NULL &&
	    (real = realpath(module, NULL)) != NULL)
		module = real;
	for (he = hsm_engines; he != NULL; he = he->next)
		if (strcmp(he->module, module) == 0)
			break;
	if (he == NULL && (he = calloc(1, sizeof(*he))) != NULL &&
	    (he->module = jcs_strdup(module)) == NULL) {
		free(he);
		he = NULL;
	}
	free(real);
	if (he == NULL) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	if (he->e != NULL)
		return he; /* found in the list */
	/* loads engines-3/pkcs11.so through OpenSSL's dynamic engine */
	if ((he->e = ENGINE_by_id("pkcs11")) == NULL) {
		/* dir is 'ENGINESDIR: "/usr/lib/..."' */
		if ((q = strchr(dir, '"')) != NULL)
			dir = q + 1;
		jcs_fail_ossl(ctx, JCS_ERR_KEY,
		    "OpenSSL's pkcs11 engine is not available (install "
		    "libengine-pkcs11-openssl; it is looked for in "
		    "$OPENSSL_ENGINES, else %.*s)", (int)strcspn(dir, "\""),
		    dir);
		goto err;
	}
	/* libp11 prints its errors to stderr unless QUIET (optional: older
	 * engines lack it) */
	ENGINE_ctrl_cmd_string(he->e, "QUIET", NULL, 1);
	if (ENGINE_ctrl_cmd_string(he->e, "MODULE_PATH", he->module, 0) !=
	    1) {
		jcs_fail_ossl(ctx, JCS_ERR_KEY,
		    "the pkcs11 engine refuses module %s", he->module);
		goto err;
	}
	if (ENGINE_init(he->e) != 1) {
		jcs_fail_ossl(ctx, JCS_ERR_KEY,
		    "cannot start the pkcs11 engine for module %s",
		    he->module);
		goto err;
	}
	he->next = hsm_engines;
	hsm_engines = he;
	return he;
err:
	ENGINE_free(he->e);
	free(he->module);
	free(he);
	return NULL;
}

/* The UI reader of a UI that never prompts: the library must not read the
 * terminal, and the engine always has the PIN beforehand. */
static int
ui_refuse(UI *ui, UI_STRING *uis)
{
	(void)ui;
	(void)uis;
	return -1;
}

/* Turns OpenSSL's error queue after a failed load into one message, and
 * clears the queue. */
static void
hsm_load_failed(jcs_ctx *ctx, const struct hsm_uri *u)
{
	unsigned long e;
	const char *data, *reason, *pin_reason = NULL;
	char first[256] = "", token[128];
	int flags, not_found = 0, bad_uri = 0;

	snprintf(token, sizeof(token), "'%s'",
	    u->token != NULL ? u->token : "(any)");
	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		if ((reason = ERR_reason_error_string(e)) == NULL)
			continue;
		if (first[0] == '\0')
			snprintf(first, sizeof(first), "%s%s%s", reason,
			    (flags & ERR_TXT_STRING) && data != NULL &&
			    *data != '\0' ? " " : "",
			    (flags & ERR_TXT_STRING) && data != NULL ? data :
			    "");
		/* reason strings are static: they outlive the queue */
		if (strncmp(reason, "PIN ", 4) == 0 && pin_reason == NULL)
			pin_reason = reason;
		else if (strcmp(reason, "object not found") == 0)
			not_found = 1;
		else if (strcmp(reason, "invalid id") == 0)
			bad_uri = 1;
	}
	if (pin_reason != NULL && strcmp(pin_reason, "PIN locked") == 0)
		jcs_fail(ctx, JCS_ERR_PASSPHRASE,
		    "the PIN of token %s is locked after too many wrong PINs: "
		    "its security officer must unlock it", token);
	else if (pin_reason != NULL)
		jcs_fail(ctx, JCS_ERR_PASSPHRASE, "wrong PIN for token %s: %s",
		    token, pin_reason);
	else if (not_found)
		jcs_fail(ctx, JCS_ERR_KEY,
		    "no private key matches URI %s (check its token, object "
		    "and id; jcstar's HSM keys are ECDSA P-256, and this "
		    "engine sees no key at all in a token that also holds an "
		    "Ed25519 key)", u->shown);
	else if (bad_uri)
		jcs_fail(ctx, JCS_ERR_KEY,
		    "the pkcs11 engine cannot use URI %s (RFC 7512 path "
		    "attributes: token, object, id, type, ...)", u->shown);
	else
		jcs_fail(ctx, JCS_ERR_KEY,
		    "cannot load key %s from token %s%s%s", u->shown, token,
		    first[0] != '\0' ? ": " : "", first);
	ERR_clear_error();
}

/* Loads the private key named by a pkcs11: URI. file names the key file
 * that held the URI (NULL if it was given directly), for messages. */
static jcs_key *
hsm_load(jcs_ctx *ctx, const char *uri, const char *file)
{
	struct hsm_uri u;
	struct hsm_engine *he;
	UI_METHOD *ui = NULL;
	EVP_PKEY *pkey = NULL;
	jcs_key *k = NULL;
	char *pinbuf = NULL;
	size_t pincap = 0;
	const char *pin, *module;

	ERR_clear_error();
	if (hsm_uri_parse(ctx, uri, &u) == -1)
		goto done;
	module = u.module;
	if (module == NULL && (module = getenv("JCSTAR_PKCS11_MODULE")) !=
	    NULL && *module == '\0')
		module = NULL;
	if (module == NULL)
		module = HSM_DEFAULT_MODULE;
	if (module_check(ctx, module) == -1)
		goto done;
	if (u.pin_source != NULL) {
		if ((pinbuf = pin_from_file(ctx, u.pin_source, &pincap)) ==
		    NULL)
			goto done;
		pin = pinbuf;
	} else if ((pin = getenv("JCSTAR_PKCS11_PIN")) == NULL ||
	    *pin == '\0') {
		jcs_fail(ctx, JCS_ERR_PASSPHRASE,
		    "no PIN for token '%s': name a PIN file with "
		    "pin-source=FILE in the URI, or set JCSTAR_PKCS11_PIN",
		    u.token != NULL ? u.token : "(any)");
		goto done;
	} else if (strlen(pin) > HSM_PIN_MAX) {
		jcs_fail(ctx, JCS_ERR_PASSPHRASE,
		    "JCSTAR_PKCS11_PIN is longer than %d bytes", HSM_PIN_MAX);
		goto done;
	}
	if ((ui = UI_create_method("jcstar: no PIN prompt")) == NULL ||
	    UI_method_set_reader(ui, ui_refuse) != 0) {
		jcs_fail_ossl(ctx, JCS_ERR_NOMEM, "out of memory");
		goto done;
	}

	pthread_mutex_lock(&hsm_lock);
	if ((he = hsm_engine_get(ctx, module)) == NULL) {
		pthread_mutex_unlock(&hsm_lock);
		goto done;
	}
	if (ENGINE_ctrl_cmd_string(he->e, "PIN", pin, 0) != 1) {
		jcs_fail_ossl(ctx, JCS_ERR_KEY,
		    "the pkcs11 engine does not take a PIN");
	} else {
		pkey = ENGINE_load_private_key(he->e, u.engine_uri, ui, NULL);
		if (pkey == NULL)
			hsm_load_failed(ctx, &u);
		/* overwrite the engine's copy of the PIN (the engine
		 * cleanses the old one) */
		ENGINE_ctrl_cmd_string(he->e, "PIN", "", 0);
		ERR_clear_error();
	}
	pthread_mutex_unlock(&hsm_lock);
	if (pkey == NULL)
		goto done;

	if (jcs_key_alg(pkey) != JCS_ALG_EC_P256) {
		jcs_fail(ctx, JCS_ERR_KEY,
		    "HSM key %s is not an ECDSA P-256 key, the only kind "
		    "jcstar signs with in an HSM", u.shown);
		goto done;
	}
	if ((k = jcs_key_from_pkey(ctx, pkey)) == NULL) {
		jcs_fail(ctx, JCS_ERR_KEY, "HSM key %s: %s (its public key "
		    "object must be on the token, with the same id)", u.shown,
		    jcs_ctx_message(ctx));
		goto done;
	}
	pkey = NULL;
	jcs_ok(ctx);
done:
	EVP_PKEY_free(pkey);
	UI_destroy_method(ui);
	if (pinbuf != NULL) {
		OPENSSL_cleanse(pinbuf, pincap);
		free(pinbuf);
	}
	hsm_uri_free(&u);
	if (k == NULL && file != NULL)
		jcs_fail(ctx, jcs_ctx_error(ctx), "key file %s: %s", file,
		    jcs_ctx_message(ctx));
	ERR_clear_error();
	return k;
}

/* Finds a pkcs11: URI as the content of a key file: after white space and
 * an optional "TEST ONLY" line, the URI, then only white space. Returns 1
 * and sets *uri (NUL-terminated inside buf), 0 if the file holds no URI, or
 * -1 if something follows the URI. */
static int
uri_in_file(char *buf, size_t len, char **uri)
{
	char *p = buf, *end = buf + len, *u;

	while (p < end && strchr(" \t\r\n", *p) != NULL && *p != '\0')
		p++;
	if ((size_t)(end - p) >= 9 && strncmp(p, "TEST ONLY", 9) == 0) {
		while (p < end && *p != '\n')
			p++;
		while (p < end && strchr(" \t\r\n", *p) != NULL && *p != '\0')
			p++;
	}
	if ((size_t)(end - p) < 7 || strncmp(p, "pkcs11:", 7) != 0)
		return 0;
	u = p;
	while (p < end && strchr(" \t\r\n", *p) == NULL)
		p++;
	for (char *q = p; q < end; q++)
		if (strchr(" \t\r\n", *q) == NULL || *q == '\0')
			return -1;
	*p = '\0'; /* buf has a NUL after its len bytes */
	*uri = u;
	return 1;
}

jcs_key *
jcs_key_load(jcs_ctx *ctx, const char *path, const char *passphrase)
{
	return jcs_key_load_cert(ctx, path, passphrase, NULL);
}

jcs_key *
jcs_key_load_cert(jcs_ctx *ctx, const char *path, const char *passphrase,
    const X509 *cert)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	EVP_PKEY *pkey = NULL;
	jcs_key *k = NULL;
	struct pass p = { passphrase, 0 };
	char *uri;
	int encrypted, has_uri;

	ERR_clear_error();
	if (path == NULL) {
		jcs_fail(ctx, JCS_ERR_INVALID_ARG, "no key path given");
		return NULL;
	}
	if (strncmp(path, "pkcs11:", 7) == 0)
		return hsm_load(ctx, path, NULL);
	if (jcs_read_file(ctx, path, 64 * 1024, &buf, &len) == -1)
		return NULL;
	/* a CA's key file for an HSM-held key holds its URI */
	if ((has_uri = uri_in_file((char *)buf, len, &uri)) == 1) {
		k = hsm_load(ctx, uri, path);
		goto done;
	}
	if (has_uri == -1) {
		jcs_fail(ctx, JCS_ERR_KEY, "key file %s holds a pkcs11: URI "
		    "followed by other text: it must hold the URI alone",
		    path);
		goto done;
	}
	encrypted = strstr((char *)buf, "-----BEGIN ENCRYPTED " "PRIVATE KEY") !=
	    NULL || strstr((char *)buf, "Proc-Type: 4,ENCRYPTED") != NULL;
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		goto done;
	}
	pkey = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, &p);
	if (pkey == NULL) {
		if (encrypted && passphrase == NULL)
			jcs_fail(ctx, JCS_ERR_PASSPHRASE,
			    "key %s is encrypted: give its passphrase "
			    "(--passphrase-file or JCSTAR_PASSPHRASE)", path);
		else if (encrypted)
			jcs_fail(ctx, JCS_ERR_PASSPHRASE,
			    "wrong passphrase for key %s", path);
		else
			jcs_fail_ossl(ctx, JCS_ERR_KEY,
			    "%s is not a PEM private key", path);
		goto done;
	}
	if (jcs_key_alg(pkey) == 0) {
		jcs_fail(ctx, JCS_ERR_KEY,
		    "key %s is neither ECDSA P-256 nor Ed25519", path);
		goto done;
	}
	if ((k = jcs_key_from_pkey_cert(ctx, pkey, cert)) == NULL)
		goto done;
	pkey = NULL;
	jcs_ok(ctx);
done:
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	if (buf != NULL) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
	ERR_clear_error();
	return k;
}

void
jcs_key_free(jcs_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

const char *
jcs_key_id_hex(const jcs_key *k)
{
	return k != NULL ? k->id_hex : "";
}
