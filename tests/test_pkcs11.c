/* test_pkcs11.c - keys held in an HSM, named by pkcs11: URIs (RFC 7512),
 * through OpenSSL's pkcs11 engine, against a real SoftHSM2 token created in
 * a temporary directory: loading, signing and verifying, a CA rotated onto
 * the HSM key, and every way a URI, a PIN or a module can be wrong.
 *
 * Needs softhsm2 (softhsm2-util, libsofthsm2.so), opensc (pkcs11-tool) and
 * libengine-pkcs11-openssl (scripts/install-deps). Without them the tests
 * fail, saying what is missing: they never skip.
 *
 * Order matters: PKCS#11 logs a whole process in, and jcstar keeps a
 * module loaded once used, so every wrong-PIN case runs before the first
 * use of the right PIN (even one that then finds no key). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "testutil.h"

#define SOFTHSM "/usr/lib/softhsm/libsofthsm2.so"
#define PIN "5678"

static char *tmp;
static char prof[4096];
/* the P-256 signer key: bare, and with module-path and pin-source */
#define URI_BARE "pkcs11:token=jcstar-test;object=signer;type=private"
static char uri[4096];

static const char *
path_in(const char *rel)
{
	static char buf[16][8192];
	static int n;
	char *p = buf[n++ % 16];
	int len = snprintf(p, sizeof(buf[0]), "%s/%s", tmp, rel);

	assert_true(len > 0 && (size_t)len < sizeof(buf[0]));
	return p;
}

/* Runs a shell command; returns its exit status, printing its output to
 * stderr if it failed. */
static int
run(const char *fmt, ...)
{
	char cmd[8192], full[8400];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "(%s) >%s/cmd.log 2>&1", cmd, tmp);
	rc = system(full);
	if (rc != 0) {
		char show[8400];

		fprintf(stderr, "test_pkcs11: command failed (%d): %s\n", rc,
		    cmd);
		snprintf(show, sizeof(show), "sed 's/^/    /' %s/cmd.log >&2",
		    tmp);
		if (system(show) != 0)
			fprintf(stderr, "    (no output)\n");
	}
	return rc;
}

static int
need_tool(const char *what, const char *check)
{
	if (run("%s", check) == 0)
		return 0;
	fprintf(stderr, "test_pkcs11: %s is missing: install softhsm2, opensc "
	    "and libengine-pkcs11-openssl (scripts/install-deps). These tests "
	    "need a real SoftHSM2 token and do not skip.\n", what);
	return -1;
}

static void
write_text(const char *rel, const char *text)
{
	tu_write(path_in(rel), text, strlen(text));
}

/* Initialises token label and generates a key pair in it. */
static int
make_token(const char *label, const char *keytype, const char *keylabel,
    const char *id)
{
	if (run("softhsm2-util --init-token --free --label %s --so-pin 1234 "
	    "--pin " PIN, label) != 0)
		return -1;
	return run("pkcs11-tool --module " SOFTHSM " --login --pin " PIN
	    " --keypairgen --key-type %s --label %s --id %s --token-label %s",
	    keytype, keylabel, id, label);
}

static int
setup(void **state)
{
	char conf[8192];

	(void)state;
	unsetenv("JCSTAR_PKCS11_PIN");
	unsetenv("JCSTAR_PKCS11_MODULE");
	tmp = tu_tmpdir();
	if (need_tool("softhsm2-util (package softhsm2)",
	    "command -v softhsm2-util") == -1 ||
	    need_tool(SOFTHSM " (package softhsm2)", "test -f " SOFTHSM) ==
	    -1 ||
	    need_tool("pkcs11-tool (package opensc)",
	    "command -v pkcs11-tool") == -1)
		return -1;
	/* the repository's profiles: the signer may sign CRLs */
	snprintf(prof, sizeof(prof), "%s", tu_src("certs"));
	if (mkdir(path_in("tokens"), 0700) != 0)
		return -1;
	snprintf(conf, sizeof(conf), "directories.tokendir = %s/tokens\n"
	    "objectstore.backend = file\nlog.level = ERROR\n", tmp);
	write_text("softhsm2.conf", conf);
	setenv("SOFTHSM2_CONF", path_in("softhsm2.conf"), 1);
	/* the signer key, generated inside the token; an EC P-384 and an
	 * RSA key beside it, which jcstar must refuse; an Ed25519 key in a
	 * token of its own (it would hide the others from the engine) */
	if (make_token("jcstar-test", "EC:prime256v1", "signer", "01") != 0 ||
	    run("pkcs11-tool --module " SOFTHSM " --login --pin " PIN
	    " --keypairgen --key-type EC:secp384r1 --label p384 --id 03 "
	    "--token-label jcstar-test") != 0 ||
	    run("pkcs11-tool --module " SOFTHSM " --login --pin " PIN
	    " --keypairgen --key-type rsa:2048 --label rsa --id 04 "
	    "--token-label jcstar-test") != 0 ||
	    make_token("jcstar-ed", "EC:edwards25519", "ed", "02") != 0)
		return -1;
	write_text("pin", PIN "\n");
	write_text("badpin", "1111\n");
	write_text("emptypin", "\n");
	snprintf(uri, sizeof(uri), URI_BARE "?module-path=" SOFTHSM
	    "&pin-source=%s/pin", tmp);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	tu_rmrf(tmp);
	free(tmp);
	return 0;
}

static int
init_ca(jcs_ctx *ctx, const char *dir, int alg)
{
	jcs_ca_init_opts o;

	memset(&o, 0, sizeof(o));
	o.dir = dir;
	o.name = "HSM Test Certification Body";
	o.alg = alg;
	o.profile_dir = prof;
	return jcs_ca_init(ctx, &o);
}

/* A label valid for 30 days from start. */
static jcs_label *
new_label(jcs_ctx *ctx, time_t start)
{
	jcs_label_fields f = tu_ref_fields();
	jcs_label *l;

	f.not_before = start;
	f.not_after = f.not_before + 86400 * 30;
	l = jcs_label_new(ctx, &f);
	assert_non_null(l);
	return l;
}

/* 1 if the module is loaded in this process. */
static int
module_loaded(const char *path)
{
	void *h = dlopen(path, RTLD_LAZY | RTLD_NOLOAD);

	if (h == NULL)
		return 0;
	dlclose(h);
	return 1;
}

/* The key id of the public key object 01, read from the token by
 * pkcs11-tool: an id computed without the engine. */
static void
token_pubkey_id(char hex[2 * JCS_KEYID_LEN + 1])
{
	uint8_t *der, id[JCS_KEYID_LEN];
	const unsigned char *p;
	size_t len;
	EVP_PKEY *pub;

	assert_int_equal(run("pkcs11-tool --module " SOFTHSM
	    " --token-label jcstar-test --read-object --type pubkey --id 01 "
	    "-o %s", path_in("pub.der")), 0);
	der = tu_read(path_in("pub.der"), &len);
	p = der;
	pub = d2i_PUBKEY(NULL, &p, (long)len);
	assert_non_null(pub);
	assert_int_equal(jcs_key_id_of(pub, id), 0);
	jcs_hex(id, JCS_KEYID_LEN, hex);
	EVP_PKEY_free(pub);
	free(der);
}

/* Load by URI, sign a label inside the token, verify it with the public
 * key; the key id is the one of the token's public key object. */
static void
test_load_and_sign(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_key *key;
	jcs_label *l;
	char want[2 * JCS_KEYID_LEN + 1];
	char why[256];
	const uint8_t *der;
	size_t len;

	(void)state;
	key = jcs_key_load(ctx, uri, NULL);
	if (key == NULL)
		fail_msg("%s", jcs_ctx_message(ctx));
	assert_int_equal(jcs_ctx_error(ctx), JCS_OK);
	assert_int_equal(jcs_key_alg(key->pkey), JCS_ALG_EC_P256);
	token_pubkey_id(want);
	assert_string_equal(jcs_key_id_hex(key), want);
	assert_int_equal(module_loaded(SOFTHSM), 1);

	l = new_label(ctx, time(NULL));
	assert_int_equal(jcs_label_sign(ctx, l, key), 0);
	assert_string_equal(jcs_label_sig_alg(l), "ecdsa-with-SHA256");
	assert_string_equal(jcs_label_issuer_hex(l), want);
	assert_int_equal(jcs_label_check_sig(ctx, l, key->pkey, why,
	    sizeof(why)), 1);
	/* ECDSA signatures are randomised: two signatures differ */
	der = jcs_label_der(l, &len);
	assert_non_null(der);
	{
		uint8_t first[JCS_LABEL_MAX_DER];
		size_t first_len = len;

		memcpy(first, der, len);
		assert_int_equal(jcs_label_sign(ctx, l, key), 0);
		der = jcs_label_der(l, &len);
		assert_true(len != first_len || memcmp(first, der, len) != 0);
	}
	jcs_label_free(l);
	jcs_key_free(key);
	/* the module stays loaded: libp11's key object may be referenced
	 * elsewhere (e.g. by a certificate made for it) */
	assert_int_equal(module_loaded(SOFTHSM), 1);
	jcs_ctx_free(ctx);
}

/* A CA rotated onto the HSM key: the key file holds the URI, labels and
 * the CRL are signed in the token and verify with the CA's bundle; the
 * previous bundle does not know the new signer. */
static void
test_rotate_issue_verify(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	const char *dir = path_in("ca");
	jcs_ca *ca;
	jcs_key *key;
	jcs_issue_opts o;
	jcs_label_fields f = tu_ref_fields();
	jcs_label *l, *l2;
	jcs_trust *t, *old;
	jcs_verify_opts vo;
	char *pem, *oldpem, want_file[8192];
	uint8_t *file;
	size_t len;
	struct stat st;
	char want[2 * JCS_KEYID_LEN + 1];

	(void)state;
	assert_int_equal(init_ca(ctx, dir, JCS_ALG_EC_P256), 0);
	ca = jcs_ca_open(ctx, dir, NULL);
	assert_non_null(ca);
	oldpem = jcs_ca_trust_pem(ctx, ca);
	assert_non_null(oldpem);
	if (jcs_ca_rotate_to_key(ctx, ca, prof, uri, 0) != 0)
		fail_msg("rotate: %s", jcs_ctx_message(ctx));
	assert_int_equal(jcs_ca_signer_count(ca), 2);
	token_pubkey_id(want);
	assert_string_equal(jcs_ca_signer_id(ca, 1), want);

	/* the key file names the key; no private key in it, mode 0600 */
	file = tu_read(path_in("ca/signers/0002.key"), &len);
	snprintf(want_file, sizeof(want_file), "%s\n", uri);
	assert_string_equal((char *)file, want_file);
	assert_null(strstr((char *)file, "PRIVATE KEY"));
	free(file);
	assert_int_equal(stat(path_in("ca/signers/0002.key"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* issue: current signer's key loaded through its key file */
	memset(&o, 0, sizeof(o));
	o.scheme = JCS_SCHEME_JCSTAR;
	o.level = 2;
	o.product = f.product;
	o.valid_days = 30;
	l = jcs_ca_issue(ctx, ca, &o);
	if (l == NULL)
		fail_msg("issue: %s", jcs_ctx_message(ctx));
	assert_string_equal(jcs_label_issuer_hex(l), want);
	pem = jcs_ca_trust_pem(ctx, ca);
	assert_non_null(pem);
	t = jcs_trust_load_mem(ctx, (const uint8_t *)pem, strlen(pem));
	assert_non_null(t);
	assert_int_equal(jcs_trust_signer_count(t), 2);
	if (jcs_verify(ctx, t, l, NULL, NULL) != 0)
		fail_msg("verify: %s", jcs_ctx_message(ctx));
	/* negative twin: the bundle from before the rotation */
	old = jcs_trust_load_mem(ctx, (const uint8_t *)oldpem,
	    strlen(oldpem));
	assert_non_null(old);
	assert_int_equal(jcs_verify(ctx, old, l, NULL, NULL), -1);
	assert_err(ctx, JCS_ERR_UNKNOWN_ISSUER);
	assert_msg(ctx, want);

	/* a label signed directly with the key, by URI, verifies too; one
	 * altered after signing does not */
	key = jcs_key_load(ctx, uri, NULL);
	assert_non_null(key);
	memset(&vo, 0, sizeof(vo));
	/* from a minute on, so as to start within the signer's validity
	 * (its certificate starts when it was made) */
	l2 = new_label(ctx, time(NULL) + 60);
	assert_int_equal(jcs_label_sign(ctx, l2, key), 0);
	vo.at = jcs_label_get_fields(l2)->not_before + 3600;
	if (jcs_verify(ctx, t, l2, &vo, NULL) != 0)
		fail_msg("verify: %s", jcs_ctx_message(ctx));
	{
		const uint8_t *der = jcs_label_der(l2, &len);
		uint8_t bad[JCS_LABEL_MAX_DER];
		jcs_label *forged;
		const char *at;
		size_t off;

		memcpy(bad, der, len);
		at = memmem(bad, len, "HR-1000", 7);
		assert_non_null(at);
		off = (size_t)(at - (const char *)bad);
		bad[off] = 'X';
		forged = jcs_label_from_der(ctx, bad, len);
		assert_non_null(forged);
		assert_int_equal(jcs_verify(ctx, t, forged, &vo, NULL), -1);
		assert_err(ctx, JCS_ERR_BAD_SIGNATURE);
		jcs_label_free(forged);
	}
	jcs_key_free(key);

	/* revoke the issued label: the CRL is signed in the token, checks
	 * with the signer certificate's key, and makes the label fail */
	assert_int_equal(jcs_ca_revoke(ctx, ca, jcs_label_serial_hex(l), NULL,
	    JCS_REASON_KEY_COMPROMISE), 1);
	if (jcs_ca_write_crl(ctx, ca, 7, path_in("crl.pem")) != 0)
		fail_msg("crl: %s", jcs_ctx_message(ctx));
	{
		uint8_t *crlpem = tu_read(path_in("crl.pem"), &len);
		uint8_t *crtpem = tu_read(path_in("ca/signers/0002.crt"), &len);
		BIO *b1 = BIO_new_mem_buf(crlpem, -1);
		BIO *b2 = BIO_new_mem_buf(crtpem, -1);
		X509_CRL *crl = PEM_read_bio_X509_CRL(b1, NULL, NULL, NULL);
		X509 *crt = PEM_read_bio_X509(b2, NULL, NULL, NULL);

		assert_non_null(crl);
		assert_non_null(crt);
		assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(crt)),
		    1);
		X509_CRL_free(crl);
		X509_free(crt);
		BIO_free(b1);
		BIO_free(b2);
		free(crlpem);
		free(crtpem);
	}
	free(pem);
	jcs_trust_free(t);
	pem = jcs_ca_trust_pem(ctx, ca);
	assert_non_null(pem);
	t = jcs_trust_load_mem(ctx, (const uint8_t *)pem, strlen(pem));
	if (t == NULL)
		fail_msg("bundle with CRL: %s", jcs_ctx_message(ctx));
	assert_int_equal(jcs_verify(ctx, t, l, NULL, NULL), -1);
	assert_err(ctx, JCS_ERR_REVOKED);
	assert_int_equal(jcs_verify(ctx, t, l2, &vo, NULL), 0);
	jcs_ca_free(ca);
	jcs_label_free(l);
	jcs_trust_free(old);
	free(oldpem);
	jcs_label_free(l2);
	jcs_trust_free(t);
	free(pem);
	jcs_ctx_free(ctx);
}

/* The module and the PIN from the environment; the default module is
 * p11-kit's proxy, which loads SoftHSM2 from its p11-kit registration. */
static void
test_environment(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_key *key;
	char u[8192];

	(void)state;
	setenv("JCSTAR_PKCS11_PIN", PIN, 1);
	setenv("JCSTAR_PKCS11_MODULE", SOFTHSM, 1);
	key = jcs_key_load(ctx, URI_BARE, NULL);
	if (key == NULL)
		fail_msg("%s", jcs_ctx_message(ctx));
	jcs_key_free(key);
	/* the URI's module-path and pin-source win over the environment */
	setenv("JCSTAR_PKCS11_PIN", "1111", 1);
	setenv("JCSTAR_PKCS11_MODULE", "/nonexistent/module.so", 1);
	key = jcs_key_load(ctx, uri, NULL);
	if (key == NULL)
		fail_msg("%s", jcs_ctx_message(ctx));
	jcs_key_free(key);
	/* neither: p11-kit's proxy */
	unsetenv("JCSTAR_PKCS11_MODULE");
	setenv("JCSTAR_PKCS11_PIN", PIN, 1);
	if (access("/usr/share/p11-kit/modules/softhsm2.module", R_OK) != 0)
		fail_msg("softhsm2 is not registered with p11-kit "
		    "(/usr/share/p11-kit/modules/softhsm2.module)");
	key = jcs_key_load(ctx, URI_BARE, NULL);
	if (key == NULL)
		fail_msg("through p11-kit-proxy: %s", jcs_ctx_message(ctx));
	jcs_key_free(key);
	/* file: prefixes on pin-source */
	snprintf(u, sizeof(u), URI_BARE "?module-path=" SOFTHSM
	    "&pin-source=file:%s/pin", tmp);
	unsetenv("JCSTAR_PKCS11_PIN");
	key = jcs_key_load(ctx, u, NULL);
	if (key == NULL)
		fail_msg("%s", jcs_ctx_message(ctx));
	jcs_key_free(key);
	snprintf(u, sizeof(u), URI_BARE "?module-path=%%2Fusr%%2Flib%%2F"
	    "softhsm%%2Flibsofthsm2.so&pin-source=file://%s/pin", tmp);
	key = jcs_key_load(ctx, u, NULL);
	if (key == NULL)
		fail_msg("%%-encoded module-path: %s", jcs_ctx_message(ctx));
	jcs_key_free(key);
	jcs_ctx_free(ctx);
}

/* Two keys of one module at once: freeing the first must not end the
 * second's session (libp11 finalises a module when its engine goes). */
static void
test_two_keys(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_key *a, *b;
	jcs_label *l;
	char why[256];

	(void)state;
	a = jcs_key_load(ctx, uri, NULL);
	assert_non_null(a);
	b = jcs_key_load(ctx, uri, NULL);
	assert_non_null(b);
	assert_string_equal(jcs_key_id_hex(a), jcs_key_id_hex(b));
	jcs_key_free(a);
	assert_int_equal(module_loaded(SOFTHSM), 1);
	l = new_label(ctx, time(NULL));
	if (jcs_label_sign(ctx, l, b) != 0)
		fail_msg("%s", jcs_ctx_message(ctx));
	assert_int_equal(jcs_label_check_sig(ctx, l, b->pkey, why,
	    sizeof(why)), 1);
	jcs_label_free(l);
	jcs_key_free(b);
	jcs_ctx_free(ctx);
}

/* Key files that hold a URI. */
static void
test_key_files(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_key *key;
	char text[8192];

	(void)state;
	snprintf(text, sizeof(text), "\n  %s  \n\n", uri);
	write_text("uri1.key", text);
	key = jcs_key_load(ctx, path_in("uri1.key"), NULL);
	if (key == NULL)
		fail_msg("%s", jcs_ctx_message(ctx));
	jcs_key_free(key);
	snprintf(text, sizeof(text), "TEST ONLY - a test key file\n%s\n", uri);
	write_text("uri2.key", text);
	key = jcs_key_load(ctx, path_in("uri2.key"), "ignored passphrase");
	if (key == NULL)
		fail_msg("%s", jcs_ctx_message(ctx));
	jcs_key_free(key);

	snprintf(text, sizeof(text), "%s\n-----BEGIN PRIVATE KEY-----\n", uri);
	write_text("uri3.key", text);
	assert_null(jcs_key_load(ctx, path_in("uri3.key"), NULL));
	assert_err(ctx, JCS_ERR_KEY);
	assert_msg(ctx, "it must hold the URI alone");
	assert_msg(ctx, "uri3.key");

	snprintf(text, sizeof(text), "%s&pin-value=" PIN "\n", uri);
	write_text("uri4.key", text);
	assert_null(jcs_key_load(ctx, path_in("uri4.key"), NULL));
	assert_err(ctx, JCS_ERR_KEY);
	assert_msg(ctx, "key file ");
	assert_msg(ctx, "pin-value in a URI is not accepted");

	/* a wrong object in a key file names the file and the URI */
	setenv("JCSTAR_PKCS11_PIN", PIN, 1);
	snprintf(text, sizeof(text), "pkcs11:token=jcstar-test;object=gone?"
	    "module-path=" SOFTHSM "\n");
	write_text("uri5.key", text);
	assert_null(jcs_key_load(ctx, path_in("uri5.key"), NULL));
	assert_err(ctx, JCS_ERR_KEY);
	assert_msg(ctx, "uri5.key: no private key matches URI "
	    "pkcs11:token=jcstar-test;object=gone");
	unsetenv("JCSTAR_PKCS11_PIN");
	jcs_ctx_free(ctx);
}

/* Every way a URI, a PIN or a module can be wrong, with its error. */
static void
test_errors(void **state)
{
	static const struct {
		const char *desc;
		const char *query; /* appended to the URI; NULL: token=nosuch */
		const char *object; /* replaces object=signer, or NULL */
		const char *env_pin;
		jcs_err want;
		const char *msg;
	} cases[] = {
		{ "no PIN at all", "?module-path=" SOFTHSM, NULL, NULL,
		    JCS_ERR_PASSPHRASE,
		    "no PIN for token 'jcstar-test': name a PIN file with "
		    "pin-source=FILE in the URI, or set JCSTAR_PKCS11_PIN" },
		{ "empty PIN in the environment", "?module-path=" SOFTHSM,
		    NULL, "", JCS_ERR_PASSPHRASE, "no PIN for token" },
		{ "pin-value is refused", "?module-path=" SOFTHSM
		    "&pin-value=" PIN, NULL, PIN, JCS_ERR_KEY,
		    "pin-value in a URI is not accepted: use "
		    "pin-source=FILE or JCSTAR_PKCS11_PIN" },
		{ "pin-value alone is refused", "?pin-value=" PIN, NULL, NULL,
		    JCS_ERR_KEY, "pin-value in a URI is not accepted" },
		{ "empty PIN file", "?module-path=" SOFTHSM
		    "&pin-source=@/emptypin", NULL, NULL, JCS_ERR_PASSPHRASE,
		    "is empty" },
		{ "missing PIN file", "?module-path=" SOFTHSM
		    "&pin-source=@/nopin", NULL, PIN, JCS_ERR_IO,
		    "cannot read the PIN file (pin-source)" },
		{ "PIN from a program", "?module-path=" SOFTHSM
		    "&pin-source=|/bin/echo", NULL, NULL, JCS_ERR_PASSPHRASE,
		    "only a file is accepted" },
		{ "wrong object label", "?module-path=" SOFTHSM
		    "&pin-source=@/pin", "nosuch", NULL, JCS_ERR_KEY,
		    "no private key matches URI pkcs11:token=jcstar-test;"
		    "object=nosuch;type=private" },
		{ "wrong token label", NULL, NULL, PIN, JCS_ERR_KEY,
		    "no private key matches URI pkcs11:token=nosuch" },
		{ "missing module", "?module-path=/nonexistent/libp11x.so"
		    "&pin-source=@/pin", NULL, NULL, JCS_ERR_KEY,
		    "cannot load PKCS#11 module /nonexistent/libp11x.so: " },
		{ "module is not a shared library", "?module-path=@/pin"
		    "&pin-source=@/pin", NULL, NULL, JCS_ERR_KEY,
		    "cannot load PKCS#11 module " },
		{ "module is not a PKCS#11 module",
		    "?module-path=/lib/x86_64-linux-gnu/libz.so.1"
		    "&pin-source=@/pin", NULL, NULL, JCS_ERR_KEY,
		    "is not a PKCS#11 module (it has no C_GetFunctionList)" },
		{ "unknown query attribute", "?module-name=softhsm2", NULL,
		    PIN, JCS_ERR_KEY, "query attribute 'module-name' is not "
		    "supported (known: module-path, pin-source)" },
		{ "bad escape", "?module-path=%zz", NULL, PIN, JCS_ERR_KEY,
		    "bad %-escape in module-path" },
		{ "encoded NUL", "?module-path=a%00b", NULL, PIN, JCS_ERR_KEY,
		    "bad %-escape in module-path" },
		{ "module-path twice", "?module-path=" SOFTHSM
		    "&module-path=" SOFTHSM, NULL, PIN, JCS_ERR_KEY,
		    "names module-path twice" },
		{ "attribute without value", "?module-path", NULL, PIN,
		    JCS_ERR_KEY, "'module-path' has no value" },
		{ "space in the URI", "?module-path=/a b", NULL, PIN,
		    JCS_ERR_KEY, "space, control or non-ASCII byte at offset" },
	};
	jcs_ctx *ctx = jcs_ctx_new();

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char u[8192], q[4096];
		const char *s;
		size_t o = 0;

		/* "@" in a query stands for the temporary directory */
		for (s = cases[i].query != NULL ? cases[i].query :
		    "?module-path=" SOFTHSM; *s != '\0' && o < sizeof(q) - 1;
		    s++) {
			if (*s == '@') {
				o += (size_t)snprintf(q + o, sizeof(q) - o,
				    "%s", tmp);
				continue;
			}
			q[o++] = *s;
		}
		q[o] = '\0';
		if (cases[i].query == NULL)
			snprintf(u, sizeof(u), "pkcs11:token=nosuch;"
			    "object=signer%s", q);
		else
			snprintf(u, sizeof(u), "pkcs11:token=jcstar-test;"
			    "object=%s;type=private%s",
			    cases[i].object != NULL ? cases[i].object :
			    "signer", q);
		if (cases[i].env_pin != NULL)
			setenv("JCSTAR_PKCS11_PIN", cases[i].env_pin, 1);
		else
			unsetenv("JCSTAR_PKCS11_PIN");
		if (jcs_key_load(ctx, u, NULL) != NULL)
			fail_msg("%s: %s loaded", cases[i].desc, u);
		if (jcs_ctx_error(ctx) != cases[i].want ||
		    strstr(jcs_ctx_message(ctx), cases[i].msg) == NULL)
			fail_msg("%s: want %s '%s', got %s '%s'", cases[i].desc,
			    jcs_err_name(cases[i].want), cases[i].msg,
			    jcs_err_name(jcs_ctx_error(ctx)),
			    jcs_ctx_message(ctx));
	}
	unsetenv("JCSTAR_PKCS11_PIN");
	jcs_ctx_free(ctx);
}

/* Ed25519 keys in SoftHSM2 are not usable through libp11 0.4.12 (Debian
 * 12): the engine cannot enumerate a token that holds one. jcstar's HSM
 * keys are ECDSA P-256; the failure says so. */
static void
test_ed25519_unsupported(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	char u[8192];

	(void)state;
	snprintf(u, sizeof(u), "pkcs11:token=jcstar-ed;object=ed;type=private"
	    "?module-path=" SOFTHSM "&pin-source=%s/pin", tmp);
	assert_null(jcs_key_load(ctx, u, NULL));
	assert_err(ctx, JCS_ERR_KEY);
	assert_msg(ctx, "no private key matches URI");
	assert_msg(ctx, "ECDSA P-256");
	assert_msg(ctx, "Ed25519");
	jcs_ctx_free(ctx);
}

/* Wrong PINs, from a file and from the environment, for a load and for a
 * rotation (which leaves the CA unchanged). The first test to log in. */
static void
test_wrong_pin(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	const char *dir = path_in("ca-pin");
	jcs_ca *ca;
	char u[8192];

	(void)state;
	snprintf(u, sizeof(u), URI_BARE "?module-path=" SOFTHSM
	    "&pin-source=%s/badpin", tmp);
	assert_null(jcs_key_load(ctx, u, NULL));
	assert_err(ctx, JCS_ERR_PASSPHRASE);
	assert_msg(ctx, "wrong PIN for token 'jcstar-test': PIN incorrect");
	/* the PIN never shows in the message */
	assert_null(strstr(jcs_ctx_message(ctx), "1111"));

	setenv("JCSTAR_PKCS11_PIN", "4321", 1);
	assert_null(jcs_key_load(ctx, URI_BARE "?module-path=" SOFTHSM,
	    NULL));
	assert_err(ctx, JCS_ERR_PASSPHRASE);
	assert_msg(ctx, "wrong PIN for token 'jcstar-test'");
	unsetenv("JCSTAR_PKCS11_PIN");

	assert_int_equal(init_ca(ctx, dir, JCS_ALG_EC_P256), 0);
	ca = jcs_ca_open(ctx, dir, NULL);
	assert_non_null(ca);
	assert_int_equal(jcs_ca_rotate_to_key(ctx, ca, prof, u, 0), -1);
	assert_err(ctx, JCS_ERR_PASSPHRASE);
	assert_msg(ctx, "wrong PIN for token 'jcstar-test'");
	assert_int_equal(jcs_ca_signer_count(ca), 1);
	assert_int_equal(access(path_in("ca-pin/signers/0002.key"), F_OK), -1);
	assert_int_equal(access(path_in("ca-pin/signers/0002.crt"), F_OK), -1);
	jcs_ca_free(ca);
	jcs_ctx_free(ctx);
}

/* A rotation that cannot load the key leaves the CA unchanged. */
static void
test_rotate_refused(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	const char *dir = path_in("ca-bad");
	jcs_ca *ca;
	char u[8192];

	(void)state;
	assert_int_equal(init_ca(ctx, dir, JCS_ALG_EC_P256), 0);
	ca = jcs_ca_open(ctx, dir, NULL);
	assert_non_null(ca);
	snprintf(u, sizeof(u), "pkcs11:token=jcstar-test;object=nosuch;"
	    "type=private?module-path=" SOFTHSM "&pin-source=%s/pin", tmp);
	assert_int_equal(jcs_ca_rotate_to_key(ctx, ca, prof, u, 0), -1);
	assert_err(ctx, JCS_ERR_KEY);
	assert_msg(ctx, "no private key matches URI");
	assert_int_equal(jcs_ca_rotate_to_key(ctx, ca, prof,
	    "/not/a/uri", 0), -1);
	assert_err(ctx, JCS_ERR_INVALID_ARG);
	snprintf(u, sizeof(u), URI_BARE "?module-path=" SOFTHSM
	    "&pin-value=" PIN);
	assert_int_equal(jcs_ca_rotate_to_key(ctx, ca, prof, u, 0), -1);
	assert_err(ctx, JCS_ERR_KEY);
	assert_msg(ctx, "pin-value in a URI is not accepted");
	assert_int_equal(jcs_ca_signer_count(ca), 1);
	assert_int_equal(access(path_in("ca-bad/signers/0002.key"), F_OK), -1);
	assert_int_equal(access(path_in("ca-bad/signers/0002.crt"), F_OK), -1);
	jcs_ca_free(ca);
	jcs_ctx_free(ctx);
}

/* Keys the token has but jcstar cannot sign with. */
static void
test_wrong_key_types(void **state)
{
	static const char *objects[] = { "p384", "rsa" };
	jcs_ctx *ctx = jcs_ctx_new();
	const char *dir_ed = path_in("ca-ed");
	jcs_ca *ca;
	char u[8192];

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		snprintf(u, sizeof(u), "pkcs11:token=jcstar-test;object=%s;"
		    "type=private?module-path=" SOFTHSM "&pin-source=%s/pin",
		    objects[i], tmp);
		assert_null(jcs_key_load(ctx, u, NULL));
		assert_err(ctx, JCS_ERR_KEY);
		assert_msg(ctx, "is not an ECDSA P-256 key");
		assert_msg(ctx, objects[i]);
	}
	/* an Ed25519 CA cannot take the P-256 HSM key */
	assert_int_equal(init_ca(ctx, dir_ed, JCS_ALG_ED25519), 0);
	ca = jcs_ca_open(ctx, dir_ed, NULL);
	assert_non_null(ca);
	assert_int_equal(jcs_ca_rotate_to_key(ctx, ca, prof, uri, 0), -1);
	assert_err(ctx, JCS_ERR_KEY);
	assert_int_equal(jcs_ca_signer_count(ca), 1);
	assert_int_equal(access(path_in("ca-ed/signers/0002.key"), F_OK), -1);
	jcs_ca_free(ca);
	jcs_ctx_free(ctx);
}

/* Without the engine, the error names the package to install. */
static void
test_no_engine(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();

	(void)state;
	setenv("OPENSSL_ENGINES", path_in("no-engines"), 1);
	assert_null(jcs_key_load(ctx, uri, NULL));
	unsetenv("OPENSSL_ENGINES");
	assert_err(ctx, JCS_ERR_KEY);
	assert_msg(ctx, "OpenSSL's pkcs11 engine is not available (install "
	    "libengine-pkcs11-openssl");
	jcs_ctx_free(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		/* no successful load yet: PINs are checked */
		cmocka_unit_test(test_no_engine),
		cmocka_unit_test(test_wrong_pin),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_rotate_refused),
		cmocka_unit_test(test_ed25519_unsupported),
		/* from here the token is logged in */
		cmocka_unit_test(test_load_and_sign),
		cmocka_unit_test(test_rotate_issue_verify),
		cmocka_unit_test(test_environment),
		cmocka_unit_test(test_two_keys),
		cmocka_unit_test(test_key_files),
		cmocka_unit_test(test_wrong_key_types),
	};

	return cmocka_run_group_tests_name("pkcs11", tests, setup, teardown);
}
