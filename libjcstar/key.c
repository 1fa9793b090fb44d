/*
 * key.c - private keys: generation, PEM encoding, loading (file; pkcs11:
 * URIs come with HSM support), key identifiers.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "internal.h"

#define JCS_KEY_PBKDF2_ITER 200000

int
jcs_key_id_of(const EVP_PKEY *pkey, uint8_t id[JCS_KEYID_LEN])
{
	unsigned char *spki = NULL;
	unsigned char md[32];
	int len;

	if ((len = i2d_PUBKEY((EVP_PKEY *)pkey, &spki)) <= 0)
		return -1;
	if (EVP_Digest(spki, (size_t)len, md, NULL, EVP_sha256(), NULL) != 1) {
		OPENSSL_free(spki);
		return -1;
	}
	OPENSSL_free(spki);
	memcpy(id, md, JCS_KEYID_LEN);
	return 0;
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
	jcs_key *k;

	if ((k = calloc(1, sizeof(*k))) == NULL) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	if (jcs_key_id_of(pkey, k->id) == -1) {
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

jcs_key *
jcs_key_load(jcs_ctx *ctx, const char *path, const char *passphrase)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	EVP_PKEY *pkey = NULL;
	jcs_key *k = NULL;
	struct pass p = { passphrase, 0 };
	int encrypted;

	ERR_clear_error();
	if (path == NULL) {
		jcs_fail(ctx, JCS_ERR_INVALID_ARG, "no key path given");
		return NULL;
	}
	if (strncmp(path, "pkcs11:", 7) == 0) {
		jcs_fail(ctx, JCS_ERR_KEY,
		    "%s: pkcs11: keys are not supported by this build", path);
		return NULL;
	}
	if (jcs_read_file(ctx, path, 64 * 1024, &buf, &len) == -1)
		return NULL;
	encrypted = strstr((char *)buf, "-----BEGIN ENCRYPTED PRIVATE KEY") !=
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
	if ((k = jcs_key_from_pkey(ctx, pkey)) == NULL)
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
