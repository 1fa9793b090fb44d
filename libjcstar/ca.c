/*
 * ca.c - the certification body's CA directory: root and label-signing
 * certificates from profiles (certs/NAME.profile), rotation, issuance with the
 * scheme's rules, and the trust bundle it publishes.
 *
 * Layout of a CA directory (docs/FORMAT.md, "CA directory"):
 *   ca.conf              name and algorithm
 *   root.key, root.crt   the root (key 0600)
 *   signers/NNNN.key     label-signing keys (0600), NNNN.crt their certs;
 *                        the highest NNNN is the current signer
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "internal.h"

#define MAX_SIGNERS 9999
#define MAX_PROFILE_EXT 16
#define MAX_NAME 64

/* ---- profiles ---- */

struct profile {
	char path[PATH_MAX];
	char cn[256];
	int cn_line;
	long days;
	int n_ext;
	struct {
		char name[64];
		char value[512];
		int line;
	} ext[MAX_PROFILE_EXT];
};

/* Expands ${name}, ${n} and ${label_signing_eku} in src. */
static int
expand(jcs_ctx *ctx, const char *file, int line, const char *src,
    const char *name, int n, char *out, size_t outlen)
{
	size_t o = 0;

	while (*src != '\0') {
		char num[16];
		const char *val = NULL;
		size_t vlen;

		if (src[0] == '$' && src[1] == '{') {
			const char *end = strchr(src, '}');
			size_t klen;

			if (end == NULL)
				return jcs_fail(ctx, JCS_ERR_PROFILE,
				    "%s:%d: unterminated ${", file, line);
			klen = (size_t)(end - src - 2);
			if (klen == 4 && strncmp(src + 2, "name", 4) == 0) {
				val = name;
			} else if (klen == 1 && src[2] == 'n') {
				snprintf(num, sizeof(num), "%04d", n);
				val = num;
			} else if (klen == 17 && strncmp(src + 2,
			    "label_signing_eku", 17) == 0) {
				val = JCS_OID_EKU_LABEL_SIGNING;
			} else {
				return jcs_fail(ctx, JCS_ERR_PROFILE,
				    "%s:%d: unknown placeholder ${%.*s} (known: "
				    "${name}, ${n}, ${label_signing_eku})",
				    file, line, (int)klen, src + 2);
			}
			src = end + 1;
		} else {
			num[0] = *src++;
			num[1] = '\0';
			val = num;
		}
		vlen = strlen(val);
		if (o + vlen >= outlen)
			return jcs_fail(ctx, JCS_ERR_PROFILE,
			    "%s:%d: value too long", file, line);
		memcpy(out + o, val, vlen);
		o += vlen;
	}
	out[o] = '\0';
	return 0;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int
profile_load(jcs_ctx *ctx, const char *dir, const char *base,
    struct profile *p)
{
	uint8_t *buf = NULL;
	size_t len;
	char *line, *save = NULL;
	int lineno = 0;
	char dummy[1024];

	memset(p, 0, sizeof(*p));
	if (dir == NULL)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "no certificate profile directory given");
	jcs_pathf(p->path, sizeof(p->path), "%s/%s", dir, base);
	if (jcs_read_file(ctx, p->path, 64 * 1024, &buf, &len) == -1)
		return jcs_fail(ctx, JCS_ERR_PROFILE,
		    "cannot read certificate profile: %s",
		    jcs_ctx_message(ctx));
	if (memchr(buf, 0, len) != NULL) {
		free(buf);
		return jcs_fail(ctx, JCS_ERR_PROFILE, "%s: not a text file",
		    p->path);
	}
	/* strtok_r would merge empty lines and lose line numbers. */
	for (line = (char *)buf; line != NULL; line = save) {
		char *eq, *key, *val;

		lineno++;
		if ((save = strchr(line, '\n')) != NULL)
			*save++ = '\0';
		line = trim(line);
		if (*line == '\0' || *line == '#')
			continue;
		if ((eq = strchr(line, '=')) == NULL) {
			jcs_fail(ctx, JCS_ERR_PROFILE,
			    "%s:%d: expected 'key = value'", p->path, lineno);
			goto err;
		}
		*eq = '\0';
		key = trim(line);
		val = trim(eq + 1);
		/* check placeholders now, with the line number */
		if (expand(ctx, p->path, lineno, val, "x", 1, dummy,
		    sizeof(dummy)) == -1)
			goto err;
		if (strcmp(key, "subject_cn") == 0) {
			snprintf(p->cn, sizeof(p->cn), "%s", val);
			p->cn_line = lineno;
		} else if (strcmp(key, "validity_days") == 0) {
			char *end;

			errno = 0;
			p->days = strtol(val, &end, 10);
			if (errno != 0 || *end != '\0' || p->days < 1 ||
			    p->days > 36525) {
				jcs_fail(ctx, JCS_ERR_PROFILE,
				    "%s:%d: validity_days must be 1 to 36525",
				    p->path, lineno);
				goto err;
			}
		} else if (strncmp(key, "ext.", 4) == 0 && key[4] != '\0') {
			if (p->n_ext == MAX_PROFILE_EXT) {
				jcs_fail(ctx, JCS_ERR_PROFILE,
				    "%s:%d: more than %d extensions", p->path,
				    lineno, MAX_PROFILE_EXT);
				goto err;
			}
			if (OBJ_sn2nid(key + 4) == NID_undef &&
			    OBJ_ln2nid(key + 4) == NID_undef) {
				jcs_fail(ctx, JCS_ERR_PROFILE,
				    "%s:%d: unknown extension '%s'", p->path,
				    lineno, key + 4);
				goto err;
			}
			snprintf(p->ext[p->n_ext].name,
			    sizeof(p->ext[p->n_ext].name), "%s", key + 4);
			snprintf(p->ext[p->n_ext].value,
			    sizeof(p->ext[p->n_ext].value), "%s", val);
			p->ext[p->n_ext].line = lineno;
			p->n_ext++;
		} else {
			jcs_fail(ctx, JCS_ERR_PROFILE,
			    "%s:%d: unknown key '%s' (known: subject_cn, "
			    "validity_days, ext.<extension>)", p->path, lineno,
			    key);
			goto err;
		}
	}
	if (p->cn[0] == '\0' || p->days == 0) {
		jcs_fail(ctx, JCS_ERR_PROFILE,
		    "%s: subject_cn and validity_days are required", p->path);
		goto err;
	}
	free(buf);
	return 0;
err:
	free(buf);
	return -1;
}

/* Creates a certificate for subject_key from profile p, signed by
 * issuer_key under issuer (NULL: self-signed). */
static X509 *
make_cert(jcs_ctx *ctx, const struct profile *p, EVP_PKEY *subject_key,
    X509 *issuer, EVP_PKEY *issuer_key, const char *name, int n, time_t now)
{
	X509 *x = NULL;
	X509_NAME *nm = NULL;
	BIGNUM *bn = NULL;
	X509V3_CTX v3;
	char cn[256], val[1024];
	uint8_t serial[16];
	time_t end;

	ERR_clear_error();
	if (expand(ctx, p->path, p->cn_line, p->cn, name, n, cn,
	    sizeof(cn)) == -1)
		return NULL;
	if (RAND_bytes(serial, sizeof(serial)) != 1)
		goto ossl;
	serial[0] &= 0x7f;
	serial[0] |= 0x40;
	if ((x = X509_new()) == NULL || (nm = X509_NAME_new()) == NULL ||
	    (bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL ||
	    X509_set_version(x, X509_VERSION_3) != 1 ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		goto ossl;
	if (X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_UTF8,
	    (const unsigned char *)name, -1, -1, 0) != 1) {
		jcs_fail_ossl(ctx, JCS_ERR_INVALID_ARG,
		    "CA name '%s' cannot be an organisation name", name);
		goto err;
	}
	if (X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) != 1) {
		jcs_fail_ossl(ctx, JCS_ERR_INVALID_ARG,
		    "%s:%d: subject common name '%s' is not usable (at most 64 "
		    "characters; choose a shorter CA name)", p->path,
		    p->cn_line, cn);
		goto err;
	}
	if (X509_set_subject_name(x, nm) != 1 ||
	    X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : nm) != 1 ||
	    X509_set_pubkey(x, subject_key) != 1)
		goto ossl;
	end = now + (time_t)p->days * 86400;
	if (issuer != NULL) {
		time_t iend;

		if (jcs_asn1_time_to_time(X509_get0_notAfter(issuer),
		    &iend) == 0 && iend < end)
			end = iend;
	}
	if (X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &now) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), 0, 0, &end) == NULL)
		goto ossl;
	X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	for (int i = 0; i < p->n_ext; i++) {
		X509_EXTENSION *e;

		if (expand(ctx, p->path, p->ext[i].line, p->ext[i].value, name,
		    n, val, sizeof(val)) == -1)
			goto err;
		e = X509V3_EXT_nconf(NULL, &v3, p->ext[i].name, val);
		if (e == NULL) {
			jcs_fail_ossl(ctx, JCS_ERR_PROFILE,
			    "%s:%d: bad value for extension %s", p->path,
			    p->ext[i].line, p->ext[i].name);
			goto err;
		}
		if (X509_add_ext(x, e, -1) != 1) {
			X509_EXTENSION_free(e);
			goto ossl;
		}
		X509_EXTENSION_free(e);
	}
	if (X509_sign(x, issuer_key, jcs_key_md(issuer_key)) <= 0)
		goto ossl;
	X509_NAME_free(nm);
	BN_free(bn);
	return x;
ossl:
	jcs_fail_ossl(ctx, JCS_ERR_CRYPTO, "cannot create certificate");
err:
	X509_free(x);
	X509_NAME_free(nm);
	BN_free(bn);
	return NULL;
}

static int
cert_to_pem(jcs_ctx *ctx, X509 *x, char **out, size_t *len)
{
	BIO *bio;
	BUF_MEM *mem;

	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509(bio, x) != 1) {
		BIO_free(bio);
		return jcs_fail_ossl(ctx, JCS_ERR_NOMEM,
		    "cannot encode certificate");
	}
	BIO_get_mem_ptr(bio, &mem);
	if ((*out = malloc(mem->length + 1)) == NULL) {
		BIO_free(bio);
		return jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
	}
	memcpy(*out, mem->data, mem->length);
	(*out)[mem->length] = '\0';
	*len = mem->length;
	BIO_free(bio);
	return 0;
}

/* Writes key (0600, O_EXCL) and certificate files. */
static int
write_key_and_cert(jcs_ctx *ctx, const char *keypath, const char *certpath,
    EVP_PKEY *key, X509 *cert, const char *passphrase)
{
	char *pem = NULL;
	size_t len = 0;
	int rc;

	if (jcs_key_to_pem(ctx, key, passphrase, &pem, &len) == -1)
		return -1;
	rc = jcs_write_secret_file(ctx, keypath, pem, len);
	OPENSSL_cleanse(pem, len);
	free(pem);
	pem = NULL;
	if (rc == -1)
		return -1;
	if (cert_to_pem(ctx, cert, &pem, &len) == -1) {
		unlink(keypath);
		return -1;
	}
	rc = jcs_write_file_atomic(ctx, certpath, pem, len, 0644);
	free(pem);
	if (rc == -1)
		unlink(keypath); /* no key without its certificate */
	return rc;
}

static int
check_name(jcs_ctx *ctx, const char *name)
{
	size_t len, bad;

	if (name == NULL || (len = strlen(name)) == 0)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "the certification body needs a name (--name)");
	if (len > MAX_NAME)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "CA name is %zu bytes; at most %d are allowed", len,
		    MAX_NAME);
	if (jcs_utf8_check(name, len, &bad) == -1)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "CA name is not valid UTF-8 text (byte %zu)", bad);
	return 0;
}

static void
remove_tree(const char *tmp)
{
	static const char *files[] = { "signers/0001.key", "signers/0001.crt",
		"root.key", "root.crt", "ca.conf", "registry.db",
		"registry.db-wal", "registry.db-shm" };
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		jcs_pathf(path, sizeof(path), "%s/%s", tmp, files[i]);
		unlink(path);
	}
	jcs_pathf(path, sizeof(path), "%s/signers", tmp);
	rmdir(path);
	rmdir(tmp);
}

int
jcs_ca_init(jcs_ctx *ctx, const jcs_ca_init_opts *o)
{
	struct profile rootp, signp;
	EVP_PKEY *rkey = NULL, *skey = NULL;
	X509 *root = NULL, *signer = NULL;
	char tmp[PATH_MAX], path[PATH_MAX], path2[PATH_MAX], conf[512];
	char dir[PATH_MAX];
	struct stat st;
	time_t now;
	int alg, made = 0;

	if (o == NULL || o->dir == NULL || o->dir[0] == '\0')
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "no CA directory given");
	if (check_name(ctx, o->name) == -1)
		return -1;
	if (o->verify_url != NULL && jcs_base_url_check(ctx, o->verify_url) ==
	    -1)
		return -1;
	alg = o->alg != 0 ? o->alg : JCS_ALG_EC_P256;
	if (alg != JCS_ALG_EC_P256 && alg != JCS_ALG_ED25519)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "unknown algorithm %d", alg);
	if (strlen(o->dir) > PATH_MAX - 64)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "CA directory path is too long");
	if (lstat(o->dir, &st) == 0)
		return jcs_fail(ctx, JCS_ERR_EXISTS,
		    "%s already exists; refusing to overwrite a CA (choose "
		    "a new --dir)", o->dir);
	/* "newca/" names the directory "newca" */
	jcs_pathf(dir, sizeof(dir), "%s", o->dir);
	for (size_t n = strlen(dir); n > 1 && dir[n - 1] == '/'; n--)
		dir[n - 1] = '\0';
	if (profile_load(ctx, o->profile_dir, "root.profile", &rootp) == -1 ||
	    profile_load(ctx, o->profile_dir, "signer.profile", &signp) == -1)
		return -1;
	now = o->now != 0 ? o->now : time(NULL);

	if ((rkey = jcs_key_generate(ctx, alg)) == NULL ||
	    (skey = jcs_key_generate(ctx, alg)) == NULL ||
	    (root = make_cert(ctx, &rootp, rkey, NULL, rkey, o->name, 1,
	    now)) == NULL ||
	    (signer = make_cert(ctx, &signp, skey, root, rkey, o->name, 1,
	    now)) == NULL)
		goto err;

	/* Build the directory under a temporary name beside it, then move
	 * it into place: a failure leaves nothing behind. */
	jcs_pathf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", dir);
	if (mkdtemp(tmp) == NULL) {
		jcs_fail(ctx, JCS_ERR_IO, "cannot create %s: %s", tmp,
		    strerror(errno));
		goto err;
	}
	made = 1;
	jcs_pathf(path, sizeof(path), "%s/signers", tmp);
	if (chmod(tmp, 0700) == -1 || mkdir(path, 0700) == -1) {
		jcs_fail(ctx, JCS_ERR_IO, "cannot create %s: %s", path,
		    strerror(errno));
		goto err;
	}
	jcs_pathf(path, sizeof(path), "%s/root.key", tmp);
	jcs_pathf(path2, sizeof(path2), "%s/root.crt", tmp);
	if (write_key_and_cert(ctx, path, path2, rkey, root,
	    o->passphrase) == -1)
		goto err;
	jcs_pathf(path, sizeof(path), "%s/signers/0001.key", tmp);
	jcs_pathf(path2, sizeof(path2), "%s/signers/0001.crt", tmp);
	if (write_key_and_cert(ctx, path, path2, skey, signer,
	    o->passphrase) == -1)
		goto err;
	jcs_pathf(path, sizeof(path), "%s/ca.conf", tmp);
	snprintf(conf, sizeof(conf),
	    "# jcstar CA directory (docs/FORMAT.md)\nformat = 1\n"
	    "name = %s\nalg = %s\nencrypted = %s\n%s%s%s", o->name,
	    alg == JCS_ALG_ED25519 ? "ed25519" : "ec-p256",
	    o->passphrase != NULL ? "yes" : "no",
	    o->verify_url != NULL ? "verify_url = " : "",
	    o->verify_url != NULL ? o->verify_url : "",
	    o->verify_url != NULL ? "\n" : "");
	if (jcs_write_file_atomic(ctx, path, conf, strlen(conf), 0644) == -1)
		goto err;
	if (jcs_registry_create(ctx, tmp, o->name) == -1)
		goto err;
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_NOREPLACE) ==
	    -1) {
		jcs_fail(ctx, errno == EEXIST ? JCS_ERR_EXISTS : JCS_ERR_IO,
		    "cannot create %s: %s", o->dir, strerror(errno));
		goto err;
	}
	EVP_PKEY_free(rkey);
	EVP_PKEY_free(skey);
	X509_free(root);
	X509_free(signer);
	jcs_ok(ctx);
	return 0;
err:
	if (made)
		remove_tree(tmp);
	EVP_PKEY_free(rkey);
	EVP_PKEY_free(skey);
	X509_free(root);
	X509_free(signer);
	return -1;
}

/* ---- an open CA ---- */

void
jcs_ca_free(jcs_ca *ca)
{
	if (ca == NULL)
		return;
	free(ca->dir);
	free(ca->name);
	free(ca->verify_url);
	if (ca->passphrase != NULL) {
		OPENSSL_cleanse(ca->passphrase, strlen(ca->passphrase));
		free(ca->passphrase);
	}
	X509_free(ca->root);
	jcs_registry_close(ca->reg);
	for (size_t i = 0; i < ca->n_signers; i++)
		X509_free(ca->signers[i].cert);
	free(ca->signers);
	jcs_key_free(ca->key);
	free(ca);
}

static X509 *
load_cert(jcs_ctx *ctx, const char *path)
{
	uint8_t *buf = NULL;
	size_t len;
	BIO *bio;
	X509 *x = NULL;

	if (jcs_read_file(ctx, path, 64 * 1024, &buf, &len) == -1)
		return NULL;
	if ((bio = BIO_new_mem_buf(buf, (int)len)) != NULL)
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	free(buf);
	if (x == NULL)
		jcs_fail_ossl(ctx, JCS_ERR_IO, "%s is not a PEM certificate",
		    path);
	return x;
}

static int
read_conf(jcs_ctx *ctx, jcs_ca *ca)
{
	char path[PATH_MAX];
	uint8_t *buf = NULL;
	size_t len;
	char *line, *next;

	jcs_pathf(path, sizeof(path), "%s/ca.conf", ca->dir);
	if (jcs_read_file(ctx, path, 16 * 1024, &buf, &len) == -1)
		return jcs_fail(ctx, JCS_ERR_IO,
		    "%s is not a jcstar CA directory: %s", ca->dir,
		    jcs_ctx_message(ctx));
	for (line = (char *)buf; line != NULL; line = next) {
		char *eq, *k, *v;

		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line = trim(line);
		if (*line == '#' || (eq = strchr(line, '=')) == NULL)
			continue;
		*eq = '\0';
		k = trim(line);
		v = trim(eq + 1);
		if (strcmp(k, "name") == 0) {
			free(ca->name);
			ca->name = jcs_strdup(v);
		} else if (strcmp(k, "alg") == 0) {
			ca->alg = jcs_alg_from_name(v);
		} else if (strcmp(k, "verify_url") == 0) {
			free(ca->verify_url);
			ca->verify_url = jcs_strdup(v);
		} else if (strcmp(k, "encrypted") == 0) {
			ca->encrypted = strcmp(v, "yes") == 0;
		}
	}
	free(buf);
	if (ca->name == NULL || ca->alg == 0)
		return jcs_fail(ctx, JCS_ERR_IO,
		    "%s: name or alg missing or invalid", path);
	return 0;
}

static int
cmp_signer(const void *a, const void *b)
{
	return ((const struct ca_signer *)a)->n -
	    ((const struct ca_signer *)b)->n;
}

static int
load_signers(jcs_ctx *ctx, jcs_ca *ca)
{
	char path[PATH_MAX];
	DIR *d;
	struct dirent *de;

	jcs_pathf(path, sizeof(path), "%s/signers", ca->dir);
	if ((d = opendir(path)) == NULL)
		return jcs_fail(ctx, JCS_ERR_IO, "cannot open %s: %s", path,
		    strerror(errno));
	while ((de = readdir(d)) != NULL) {
		struct ca_signer *ns, *s;
		uint8_t id[JCS_KEYID_LEN];
		int n;

		/* NNNN.crt, NNNN from 0001 */
		if (strlen(de->d_name) != 8 ||
		    strcmp(de->d_name + 4, ".crt") != 0 ||
		    jcs_parse_int(de->d_name, 4, 1, 9999, &n) == -1)
			continue;
		if (ca->n_signers == MAX_SIGNERS)
			break;
		ns = realloc(ca->signers, (ca->n_signers + 1) * sizeof(*ns));
		if (ns == NULL) {
			closedir(d);
			return jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		}
		ca->signers = ns;
		s = &ca->signers[ca->n_signers];
		s->n = n;
		jcs_pathf(path, sizeof(path), "%s/signers/%s", ca->dir,
		    de->d_name);
		if ((s->cert = load_cert(ctx, path)) == NULL) {
			closedir(d);
			return -1;
		}
		ca->n_signers++;
		if (jcs_cert_key_id(s->cert, id) == -1) {
			closedir(d);
			return jcs_fail_ossl(ctx, JCS_ERR_KEY,
			    "%s: unusable public key", path);
		}
		jcs_hex(id, JCS_KEYID_LEN, s->id_hex);
	}
	closedir(d);
	if (ca->n_signers == 0)
		return jcs_fail(ctx, JCS_ERR_IO,
		    "%s/signers holds no signer certificate", ca->dir);
	qsort(ca->signers, ca->n_signers, sizeof(*ca->signers), cmp_signer);
	return 0;
}

jcs_ca *
jcs_ca_open(jcs_ctx *ctx, const char *dir, const char *passphrase)
{
	jcs_ca *ca;
	char path[PATH_MAX];

	if (dir == NULL || strlen(dir) > PATH_MAX - 64) {
		jcs_fail(ctx, JCS_ERR_INVALID_ARG, "bad CA directory");
		return NULL;
	}
	if ((ca = calloc(1, sizeof(*ca))) == NULL ||
	    (ca->dir = jcs_strdup(dir)) == NULL ||
	    (passphrase != NULL &&
	    (ca->passphrase = jcs_strdup(passphrase)) == NULL)) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		goto err;
	}
	if (read_conf(ctx, ca) == -1)
		goto err;
	jcs_pathf(path, sizeof(path), "%s/root.crt", dir);
	if ((ca->root = load_cert(ctx, path)) == NULL ||
	    load_signers(ctx, ca) == -1)
		goto err;
	jcs_ok(ctx);
	return ca;
err:
	jcs_ca_free(ca);
	return NULL;
}

const char *
jcs_ca_name(const jcs_ca *ca)
{
	return ca != NULL ? ca->name : "";
}

const char *
jcs_ca_verify_url(const jcs_ca *ca)
{
	return ca != NULL ? ca->verify_url : NULL;
}

size_t
jcs_ca_signer_count(const jcs_ca *ca)
{
	return ca != NULL ? ca->n_signers : 0;
}

const char *
jcs_ca_signer_id(const jcs_ca *ca, size_t i)
{
	return ca != NULL && i < ca->n_signers ? ca->signers[i].id_hex : NULL;
}

/* Adds signer number n+1: a new key pair (key_uri NULL) or the HSM key
 * named by key_uri, certified by the root. */
static int
rotate(jcs_ctx *ctx, jcs_ca *ca, const char *profile_dir,
    const char *key_uri, time_t now)
{
	struct profile signp;
	jcs_key *root = NULL, *hsm = NULL;
	EVP_PKEY *skey = NULL;
	X509 *cert = NULL;
	struct ca_signer *ns;
	char kpath[PATH_MAX], cpath[PATH_MAX];
	int n, rc = -1;

	if (ca == NULL)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "no CA given");
	/* the next number whose key and certificate are both free (a key
	 * left by an interrupted rotation is never reused or overwritten) */
	for (n = ca->signers[ca->n_signers - 1].n + 1; n <= MAX_SIGNERS; n++) {
		struct stat st;

		jcs_pathf(kpath, sizeof(kpath), "%s/signers/%04d.key", ca->dir,
		    n);
		jcs_pathf(cpath, sizeof(cpath), "%s/signers/%04d.crt", ca->dir,
		    n);
		if (lstat(kpath, &st) == -1 && lstat(cpath, &st) == -1)
			break;
	}
	if (n > MAX_SIGNERS)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "this CA has used all %d signer numbers", MAX_SIGNERS);
	if (ca->encrypted && ca->passphrase == NULL)
		return jcs_fail(ctx, JCS_ERR_PASSPHRASE,
		    "the keys of CA %s are encrypted: give the passphrase "
		    "(--passphrase-file or JCSTAR_PASSPHRASE)", ca->dir);
	if (profile_load(ctx, profile_dir, "signer.profile", &signp) == -1)
		return -1;
	if (key_uri != NULL) {
		if (strncmp(key_uri, "pkcs11:", 7) != 0)
			return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
			    "'%s' is not a pkcs11: URI", key_uri);
		if ((hsm = jcs_key_load(ctx, key_uri, NULL)) == NULL)
			return -1;
		if (jcs_key_alg(hsm->pkey) != ca->alg) {
			jcs_fail(ctx, JCS_ERR_KEY, "the HSM key is not of the "
			    "CA's algorithm (%s)", ca->alg == JCS_ALG_ED25519 ?
			    "Ed25519" : "ECDSA P-256");
			goto done;
		}
	}
	jcs_pathf(kpath, sizeof(kpath), "%s/root.key", ca->dir);
	if ((root = jcs_key_load(ctx, kpath, ca->passphrase)) == NULL)
		goto done;
	if (now == 0)
		now = time(NULL);
	if (hsm == NULL && (skey = jcs_key_generate(ctx, ca->alg)) == NULL)
		goto done;
	if ((cert = make_cert(ctx, &signp, hsm != NULL ? hsm->pkey : skey,
	    ca->root, root->pkey, ca->name, n, now)) == NULL)
		goto done;
	jcs_pathf(kpath, sizeof(kpath), "%s/signers/%04d.key", ca->dir, n);
	jcs_pathf(cpath, sizeof(cpath), "%s/signers/%04d.crt", ca->dir, n);
	if (hsm != NULL) {
		/* the key stays in the HSM: the key file names it */
		char *text;
		size_t len = strlen(key_uri) + 2;

		if ((text = malloc(len)) == NULL) {
			jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
			goto done;
		}
		snprintf(text, len, "%s\n", key_uri);
		rc = jcs_write_secret_file(ctx, kpath, text, len - 1);
		free(text);
		if (rc == -1)
			goto done;
		rc = -1;
		{
			char *pem = NULL;
			size_t plen = 0;

			if (cert_to_pem(ctx, cert, &pem, &plen) == -1) {
				unlink(kpath);
				goto done;
			}
			if (jcs_write_file_atomic(ctx, cpath, pem, plen,
			    0644) == -1) {
				free(pem);
				unlink(kpath);
				goto done;
			}
			free(pem);
		}
	} else if (write_key_and_cert(ctx, kpath, cpath, skey, cert,
	    ca->encrypted ? ca->passphrase : NULL) == -1) {
		/* the new key is protected like the CA's others, never
		 * mixed */
		goto done;
	}
	if ((ns = realloc(ca->signers, (ca->n_signers + 1) *
	    sizeof(*ns))) == NULL) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		goto done;
	}
	ca->signers = ns;
	ns[ca->n_signers].n = n;
	ns[ca->n_signers].cert = cert;
	{
		uint8_t id[JCS_KEYID_LEN];

		jcs_key_id_of(hsm != NULL ? hsm->pkey : skey, id);
		jcs_hex(id, JCS_KEYID_LEN, ns[ca->n_signers].id_hex);
	}
	cert = NULL;
	ca->n_signers++;
	jcs_key_free(ca->key);
	ca->key = NULL;
	{
		char subj[64];

		snprintf(subj, sizeof(subj), "signer %04d %s%s", n,
		    ns[ca->n_signers - 1].id_hex, hsm != NULL ? " (HSM)" : "");
		/* the signer exists now; a failed audit write is reported */
		if (jcs_registry_audit_op(ctx, ca, "rotate", subj, "ok") == -1)
			goto done;
	}
	rc = 0;
	jcs_ok(ctx);
done:
	jcs_key_free(root);
	jcs_key_free(hsm);
	EVP_PKEY_free(skey);
	X509_free(cert);
	return rc;
}

int
jcs_ca_rotate(jcs_ctx *ctx, jcs_ca *ca, const char *profile_dir, time_t now)
{
	return rotate(ctx, ca, profile_dir, NULL, now);
}

int
jcs_ca_rotate_to_key(jcs_ctx *ctx, jcs_ca *ca, const char *profile_dir,
    const char *key_uri, time_t now)
{
	if (key_uri == NULL)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "no key URI given");
	return rotate(ctx, ca, profile_dir, key_uri, now);
}

const jcs_key *
jcs_ca_current_key(jcs_ctx *ctx, jcs_ca *ca)
{
	const struct ca_signer *s = &ca->signers[ca->n_signers - 1];
	char path[PATH_MAX];

	if (ca->key != NULL)
		return ca->key;
	jcs_pathf(path, sizeof(path), "%s/signers/%04d.key", ca->dir, s->n);
	if ((ca->key = jcs_key_load_cert(ctx, path, ca->passphrase,
	    s->cert)) == NULL)
		return NULL;
	/* another key than the certificate's has its own id */
	if (strcmp(ca->key->id_hex, s->id_hex) != 0) {
		jcs_fail(ctx, JCS_ERR_KEY,
		    "%s (key id %s) does not match its certificate (key id "
		    "%s)", path, ca->key->id_hex, s->id_hex);
		jcs_key_free(ca->key);
		ca->key = NULL;
	}
	return ca->key;
}

int
jcs_ca_label_fields(jcs_ctx *ctx, jcs_ca *ca, const jcs_issue_opts *o,
    jcs_label_fields *out)
{
	const struct ca_signer *s;
	jcs_label_fields f;
	const jcs_profile *p;
	time_t snb, sna, limit;
	char a[32], b[32], c[32];
	const char *why;

	if (ca == NULL || o == NULL)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "no CA or options given");
	memset(&f, 0, sizeof(f));
	f.scheme = o->scheme;
	f.level = o->level;
	f.product = o->product;
	f.lab = o->lab;
	f.support_until = o->support_until;
	if (jcs_scheme_name(o->scheme) == NULL) {
		jcs_fail(ctx, JCS_ERR_INVALID_ARG, "unknown scheme %d",
		    o->scheme);
		return -1;
	}
	if ((p = jcs_profile_of(ctx, o->scheme)) == NULL) {
		jcs_fail(ctx, JCS_ERR_POLICY_RULE, "no profile for scheme %s "
		    "is loaded", jcs_scheme_name(o->scheme));
		return -1;
	}
	if (!jcs_profile_level_ok(p, o->level)) {
		jcs_fail(ctx, JCS_ERR_INVALID_ARG, "level %d is not defined "
		    "for %s (%d to %d; %s)", o->level, p->display,
		    p->min_level, p->max_level, p->file);
		return -1;
	}
	if (jcs_profile_check_fields(ctx, JCS_ERR_POLICY_RULE, &f, 1) == -1)
		return -1;
	s = &ca->signers[ca->n_signers - 1];
	if (jcs_asn1_time_to_time(X509_get0_notBefore(s->cert), &snb) == -1 ||
	    jcs_asn1_time_to_time(X509_get0_notAfter(s->cert), &sna) == -1) {
		jcs_fail(ctx, JCS_ERR_KEY, "signer certificate has bad times");
		return -1;
	}
	f.not_before = o->not_before != 0 ? o->not_before : time(NULL);
	if (f.not_before < snb || f.not_before >= sna) {
		jcs_fail(ctx, JCS_ERR_POLICY_RULE,
		    "the current signer %s is not valid at %s (it is valid "
		    "%s to %s)", s->id_hex,
		    jcs_time_format(f.not_before, a, sizeof(a)),
		    jcs_time_format(snb, b, sizeof(b)),
		    jcs_time_format(sna, c, sizeof(c)));
		return -1;
	}
	if (f.support_until != 0 && f.support_until < f.not_before -
	    f.not_before % 86400) {
		jcs_fail(ctx, JCS_ERR_POLICY_RULE,
		    "the support period (until %s) ends before the label "
		    "starts (%s)", jcs_date_format(f.support_until, a,
		    sizeof(a)), jcs_date_format(f.not_before, b, sizeof(b)));
		return -1;
	}
	if (jcs_profile_validity(ctx, p, f.not_before, f.support_until,
	    &limit, &why) == -1)
		return -1;
	if (o->valid_days < 0 || o->valid_days > 36525) {
		jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "validity of %d days is out of range", o->valid_days);
		return -1;
	}
	if (o->valid_days > 0) {
		f.not_after = f.not_before + (time_t)o->valid_days * 86400;
		if (f.not_after > limit && strcmp(why, "max_validity") == 0) {
			char cap[32];

			if (p->max_years > 0)
				snprintf(cap, sizeof(cap), "%d year%s",
				    p->max_years, p->max_years > 1 ? "s" : "");
			else
				snprintf(cap, sizeof(cap), "%d day%s",
				    p->max_days, p->max_days > 1 ? "s" : "");
			jcs_fail(ctx, JCS_ERR_POLICY_RULE,
			    "a validity of %d days exceeds the %s maximum of "
			    "%s (the label would end %s, the limit is %s; %s: "
			    "max_validity)", o->valid_days, p->display, cap,
			    jcs_date_format(f.not_after, a, sizeof(a)),
			    jcs_date_format(limit, b, sizeof(b)), p->file);
			return -1;
		}
		if (f.not_after > limit) {
			jcs_fail(ctx, JCS_ERR_POLICY_RULE,
			    "a validity of %d days runs past the support "
			    "period (the label would end %s, support ends %s; "
			    "%s: within_support = yes)", o->valid_days,
			    jcs_date_format(f.not_after, a, sizeof(a)),
			    jcs_date_format(f.support_until, b, sizeof(b)),
			    p->file);
			return -1;
		}
		if (f.not_after > sna) {
			jcs_fail(ctx, JCS_ERR_POLICY_RULE,
			    "the label would end %s, after its signer "
			    "certificate %s expires (%s): shorten "
			    "--valid-days or rotate the signer (jcstar ca "
			    "rotate)", jcs_date_format(f.not_after, a,
			    sizeof(a)), s->id_hex,
			    jcs_date_format(sna, b, sizeof(b)));
			return -1;
		}
	} else {
		f.not_after = limit < sna ? limit : sna;
	}
	*out = f;
	return 0;
}

jcs_label *
jcs_ca_make_label(jcs_ctx *ctx, jcs_ca *ca, const jcs_issue_opts *o)
{
	jcs_label_fields f;
	jcs_label *l;
	const jcs_key *key;

	if (jcs_ca_label_fields(ctx, ca, o, &f) == -1)
		return NULL;
	if ((key = jcs_ca_current_key(ctx, ca)) == NULL)
		return NULL;
	if ((l = jcs_label_new(ctx, &f)) == NULL)
		return NULL;
	if (jcs_label_sign(ctx, l, key) == -1) {
		jcs_label_free(l);
		return NULL;
	}
	return l;
}

char *
jcs_ca_trust_pem(jcs_ctx *ctx, const jcs_ca *ca)
{
	BIO *bio = NULL;
	BUF_MEM *mem;
	char *out = NULL;

	if (ca == NULL) {
		jcs_fail(ctx, JCS_ERR_INVALID_ARG, "no CA given");
		return NULL;
	}
	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509(bio, ca->root) != 1)
		goto ossl;
	for (size_t i = 0; i < ca->n_signers; i++)
		if (PEM_write_bio_X509(bio, ca->signers[i].cert) != 1)
			goto ossl;
	/* the current CRLs, if any: revoked signers (by the root) and
	 * revoked labels (by a label signer) */
	for (int i = 0; i < 2; i++) {
		char path[PATH_MAX];
		uint8_t *buf;
		size_t len;
		struct stat st;

		jcs_pathf(path, sizeof(path), "%s/%s", ca->dir,
		    i == 0 ? "signers.crl" : "labels.crl");
		if (stat(path, &st) == -1)
			continue;
		if (jcs_read_file(ctx, path, JCS_TRUST_MAX_FILE, &buf,
		    &len) == -1)
			goto done;
		if (BIO_write(bio, buf, (int)len) != (int)len) {
			free(buf);
			goto ossl;
		}
		free(buf);
	}
	BIO_get_mem_ptr(bio, &mem);
	if ((out = malloc(mem->length + 1)) == NULL) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		goto done;
	}
	memcpy(out, mem->data, mem->length);
	out[mem->length] = '\0';
	jcs_ok(ctx);
	goto done;
ossl:
	jcs_fail_ossl(ctx, JCS_ERR_NOMEM, "cannot write trust bundle");
done:
	BIO_free(bio);
	return out;
}

int
jcs_ca_export_trust(jcs_ctx *ctx, const jcs_ca *ca, const char *path)
{
	char *pem;
	int rc;

	if (path == NULL)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "no output path");
	if ((pem = jcs_ca_trust_pem(ctx, ca)) == NULL)
		return -1;
	rc = jcs_write_file_atomic(ctx, path, pem, strlen(pem), 0644);
	free(pem);
	if (rc == 0)
		jcs_ok(ctx);
	return rc;
}
